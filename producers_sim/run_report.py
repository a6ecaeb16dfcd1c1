"""`cta-sim --report FILE`: what a run produced, as JSON, for scripts and tests.

:class:`StationTally` sits between the runner and the Kafka sink and counts turnstile
entries per station key as they are handed over (only when a report is asked for: the
sink's own loop is the hot path at ``--speed max``); :func:`report` joins the tally, its
keys decoded, with the run's summary.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from cta_core import topics
from cta_core.avro import AvroDecoder, station_id_of
from cta_core.schemas import TURNSTILE_KEY, schema_text
from producers_sim.control import TopicCounters
from producers_sim.publishers.base import EventSink
from producers_sim.records import SinkRecord
from producers_sim.runner import RunSummary


class StationTally:
    """An :class:`EventSink` that passes everything on and counts turnstile keys."""

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink
        self.keys: Counter[bytes] = Counter()

    @property
    def counters(self) -> TopicCounters:
        return self.sink.counters

    def publish_many(self, records: list[SinkRecord]) -> None:
        self.keys.update(key for _, topic, _, key in records if topic == topics.TURNSTILES)
        self.sink.publish_many(records)

    def poll(self) -> None:
        self.sink.poll()

    def flush(self, timeout: float) -> int:
        return self.sink.flush(timeout)

    def close(self) -> None:
        self.sink.close()

    def by_station(self) -> dict[int, int]:
        """Turnstile entries handed to the sink, per station id (keys decoded as Avro)."""
        decoder = AvroDecoder(lambda _schema_id: schema_text(TURNSTILE_KEY))
        out: Counter[int] = Counter()
        for key, n in self.keys.items():
            out[station_id_of(decoder.decode(key))] += n
        return dict(sorted(out.items()))


def report(summary: RunSummary) -> dict[str, Any]:
    """The run as a JSON-ready dict."""
    c = summary.counters
    return {
        "reason": summary.reason,
        "events": summary.events,
        "sim_start": summary.sim_start,
        "sim_end": summary.sim_end,
        "produced": c.produced,
        "delivered": c.delivered,
        "failed": c.failed,
        "undelivered": summary.undelivered,
        "turnstile_entries_by_station": {
            str(k): v for k, v in (summary.turnstile_entries_by_station or {}).items()
        },
    }


def write_report(path: Path, summary: RunSummary) -> None:
    path.write_text(json.dumps(report(summary), indent=2) + "\n")
