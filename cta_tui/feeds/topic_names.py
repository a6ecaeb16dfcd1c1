"""Which topics the dashboard reads: the contract's names by default, any others by flag.

Records always carry the contract's name (``cta_core.topics``), whatever the physical
topic is called, so the state model never sees a deployment's names.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cta_core import topics

#: as the course project's consumers subscribe (one arrivals topic per station works too)
ARRIVALS_PATTERN = "^org.chicago.cta.station.arrivals."


@dataclass(frozen=True)
class TopicNames:
    arrivals_pattern: str = ARRIVALS_PATTERN
    stations_table: str = topics.STATIONS_TABLE
    summary: str = topics.TURNSTILE_SUMMARY
    weather: str = topics.WEATHER
    status: str = topics.SIM_STATUS
    predictions: str = topics.PREDICTIONS
    #: read when there is no pattern
    arrivals: str = topics.ARRIVALS

    def with_suffix(self, suffix: str) -> TopicNames:
        """The copies of the event topics a trial wrote with ``--topic-suffix`` (the
        simulator's status stays shared); the arrivals copy is read by name, not pattern."""
        if not suffix:
            return self
        return replace(
            self,
            arrivals_pattern="",
            arrivals=self.arrivals + suffix,
            stations_table=self.stations_table + suffix,
            summary=self.summary + suffix,
            weather=self.weather + suffix,
            predictions=self.predictions + suffix,
        )

    def source_kwargs(self) -> dict[str, Any]:
        """``topics_to_read``, ``aliases`` and ``patterns`` for :class:`~cta_tui.feeds.kafka_source.KafkaSource`."""
        chosen = {
            topics.STATIONS_TABLE: self.stations_table,
            topics.TURNSTILE_SUMMARY: self.summary,
            topics.WEATHER: self.weather,
            topics.SIM_STATUS: self.status,
            topics.PREDICTIONS: self.predictions,
        }
        if not self.arrivals_pattern:
            chosen[topics.ARRIVALS] = self.arrivals
        read = [contract for contract, physical in chosen.items() if physical == contract]
        aliases = {physical: contract for contract, physical in chosen.items() if physical != contract}
        patterns = {self.arrivals_pattern: topics.ARRIVALS} if self.arrivals_pattern else {}
        return {"topics_to_read": tuple(read), "aliases": aliases, "patterns": patterns}
