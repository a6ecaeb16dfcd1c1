"""Which hourly weather readings are due, and the simulated time ``cta-weather`` follows.

Pure: no Kafka, no HTTP. A reading belongs to a whole simulated hour and is keyed by
it (``{"timestamp": <hour in ms>}``), so the same hour always has the same key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HOUR_S = 3600.0
#: readings published at most per step when the clock jumped far ahead (a week)
MAX_CATCH_UP = 24 * 7


def hour_of(t: float) -> float:
    """The start of the simulated hour ``t`` is in (epoch seconds)."""
    return math.floor(t / HOUR_S) * HOUR_S


def due_hours(last: float | None, now: float) -> list[float]:
    """Hours whose reading is due at simulated time ``now`` after the reading for hour
    ``last``: the current hour first of all, then every hour boundary crossed since
    (at most :data:`MAX_CATCH_UP`, the latest). A clock that went back (a new run)
    starts again from its current hour."""
    current = hour_of(now)
    if last is None or current < last:
        return [current]
    n = round((current - last) / HOUR_S)
    first = max(1, n - MAX_CATCH_UP + 1)
    return [last + HOUR_S * i for i in range(first, n + 1)]


@dataclass(frozen=True)
class SimStatus:
    """What ``cta-weather`` needs of a simulator status document (docs/control-protocol.md)."""

    run_id: str
    sim_time: float
    speed: float | None  # None: as fast as possible
    paused: bool
    stopped: bool
    received: float  # wall clock (monotonic) when it was read

    @classmethod
    def parse(cls, doc: Mapping[str, Any], received: float) -> SimStatus | None:
        """None for a document without a usable simulated time."""
        ms = doc.get("sim_time_ms")
        if isinstance(ms, bool) or not isinstance(ms, int | float):
            return None
        speed = doc.get("speed")
        state = str(doc.get("state") or "")
        return cls(
            run_id=str(doc.get("run_id") or ""),
            sim_time=float(ms) / 1000.0,
            speed=float(speed) if isinstance(speed, int | float) and not isinstance(speed, bool) else None,
            paused=bool(doc.get("paused")) or state == "paused",
            stopped=state == "stopped",
            received=received,
        )

    def now(self, wall: float) -> float:
        """Simulated time at monotonic ``wall``: extrapolated at the simulator's speed
        (not at max speed, where only the next status tells)."""
        if self.paused or self.stopped or self.speed is None:
            return self.sim_time
        return self.sim_time + max(0.0, wall - self.received) * self.speed
