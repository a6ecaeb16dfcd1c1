"""Topic names and their layout: the topic contract of docs/architecture.md.

Everything that names a topic imports it from here, tests included.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ARRIVALS = "org.chicago.cta.station.arrivals.v1"
TURNSTILES = "org.chicago.cta.turnstiles.v1"
WEATHER = "org.chicago.cta.weather.v1"
STATIONS_RAW = "org.chicago.cta.stations"
LINE_STATIONS_RAW = "org.chicago.cta.line_stations"
STATIONS_TABLE = "org.chicago.cta.stations.table.v1"
TURNSTILE_SUMMARY = "TURNSTILE_SUMMARY"
SIM_CONTROL = "org.chicago.cta.sim.control.v1"
SIM_STATUS = "org.chicago.cta.sim.status.v1"
PREDICTIONS = "org.chicago.cta.predictions.v1"
#: the prediction job's learned state (segment times, train positions): its changelog
PREDICTIONS_STATE = "org.chicago.cta.predictions.state.v1"
SCHEMAS = "_schemas"

#: Kafka Connect's topic prefix for table rows: ``org.chicago.cta.<table>``.
CONNECT_TOPIC_PREFIX = "org.chicago.cta."


@dataclass(frozen=True)
class TopicSpec:
    """How a topic is created when missing."""

    name: str
    partitions: int = 1
    compacted: bool = False
    config: dict[str, str] = field(default_factory=dict)

    def topic_config(self) -> dict[str, str]:
        cfg = dict(self.config)
        if self.compacted:
            cfg.setdefault("cleanup.policy", "compact")
        return cfg


def replication_for(brokers: int) -> tuple[int, dict[str, str]]:
    """Replication factor and topic settings for a cluster of ``brokers`` brokers.

    Three or more: three copies, ``min.insync.replicas=2``: with the producers'
    ``acks=all`` one broker may die without stopping them or losing an acknowledged
    event. Fewer: one copy per broker, one in sync."""
    if brokers >= 3:
        return 3, {"min.insync.replicas": "2"}
    return max(1, brokers), {"min.insync.replicas": "1"}


#: Every topic of the pipeline in the contract's order (what the dashboard and tail read
#: and list first).
PIPELINE_TOPICS = (
    ARRIVALS,
    TURNSTILES,
    WEATHER,
    STATIONS_RAW,
    LINE_STATIONS_RAW,
    STATIONS_TABLE,
    TURNSTILE_SUMMARY,
    PREDICTIONS,
    PREDICTIONS_STATE,
    SIM_CONTROL,
    SIM_STATUS,
)

#: Topics the pipeline creates itself (Connect and the registry create their own).
SPECS: dict[str, TopicSpec] = {
    ARRIVALS: TopicSpec(ARRIVALS, partitions=3),
    TURNSTILES: TopicSpec(TURNSTILES, partitions=3),
    WEATHER: TopicSpec(WEATHER, partitions=1),
    STATIONS_TABLE: TopicSpec(STATIONS_TABLE, partitions=1, compacted=True),
    TURNSTILE_SUMMARY: TopicSpec(TURNSTILE_SUMMARY, partitions=1, compacted=True),
    SIM_CONTROL: TopicSpec(SIM_CONTROL, partitions=1, config={"retention.ms": "3600000"}),
    # the rewind's timeline (simulated time to wall time, per run; one record a second,
    # read whole by a first rewind): a day, about 26 MB and 86,400 records
    SIM_STATUS: TopicSpec(
        SIM_STATUS, partitions=1, config={"retention.ms": "86400000", "retention.bytes": "67108864"}
    ),
    # a day of --speed 60 is 24 wall minutes: keep 2 hours (bounded by size too)
    PREDICTIONS: TopicSpec(
        PREDICTIONS, partitions=3, config={"retention.ms": "7200000", "retention.bytes": "536870912"}
    ),
    PREDICTIONS_STATE: TopicSpec(PREDICTIONS_STATE, partitions=1, compacted=True),
}
