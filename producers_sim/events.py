"""The events the simulator emits, shaped like the topic contract (cta_core/schemas/*.avsc).

Arrivals are the shared record :class:`cta_core.records.arrival.Arrival`; turnstile
entries and weather readings are the simulator's own. Times are simulated epoch seconds
(float) in ``t``; the contract's ``sim_time`` is epoch milliseconds. Not frozen:
hundreds of thousands are made per second and frozen dataclasses construct several
times slower; nothing mutates them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from cta_core import topics
from cta_core.records.arrival import Arrival


@dataclass(slots=True)
class TurnstileEvent:
    """One entry through a turnstile (key ``{station_id}``)."""

    topic: ClassVar[str] = topics.TURNSTILES
    t: float
    station_id: int
    station_name: str
    line: str | None

    @property
    def sim_time(self) -> int:
        return int(self.t * 1000)

    def key(self) -> dict[str, Any]:
        return {"station_id": self.station_id}

    def value(self) -> dict[str, Any]:
        return {
            "station_id": self.station_id,
            "station_name": self.station_name,
            "line": self.line,
            "sim_time": self.sim_time,
        }


@dataclass(slots=True)
class WeatherEvent:
    """An hourly weather reading (key ``{timestamp}`` in ms), sent through the REST Proxy."""

    topic: ClassVar[str] = topics.WEATHER
    t: float
    temperature: float
    status: str

    @property
    def sim_time(self) -> int:
        return int(self.t * 1000)

    def key(self) -> dict[str, Any]:
        return {"timestamp": self.sim_time}

    def value(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "status": self.status, "sim_time": self.sim_time}


Event = Arrival | TurnstileEvent | WeatherEvent


def to_json(event: Event) -> str:
    """One JSON line for ``--dry-run``: topic, key and value."""
    return json.dumps(
        {"topic": event.topic, "key": event.key(), "value": event.value()}, separators=(",", ":")
    )
