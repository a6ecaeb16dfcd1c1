"""Which hourly weather readings are due, and the simulated time ``cta-weather`` follows.

Pure: no Kafka, no HTTP. A reading belongs to a whole simulated hour and is keyed by
it (``{"timestamp": <hour in ms>}``), so the same hour always has the same key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cta_core.records.status import PAUSED, MalformedStatus, SimStatus

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
class FollowedStatus:
    """What ``cta-weather`` needs of the simulator's status (a :class:`SimStatus` record)."""

    run_id: str
    sim_time: float
    speed: float | None  # None: as fast as possible
    paused: bool
    stopped: bool
    received: float  # wall clock (monotonic) when it was read

    @classmethod
    def parse(cls, doc: Any, received: float) -> FollowedStatus | None:
        """None for a message that is not a status or has no simulated time."""
        try:
            status = SimStatus.from_json(doc)
        except MalformedStatus:
            return None
        if status.sim_time_ms is None:
            return None
        return cls(
            run_id=status.run_id or "",
            sim_time=status.sim_time_ms / 1000.0,
            speed=status.speed_factor,
            paused=status.paused or status.state == PAUSED,
            stopped=status.stopped,
            received=received,
        )

    def now(self, wall: float) -> float:
        """Simulated time at monotonic ``wall``: extrapolated at the simulator's speed
        (not at max speed, where only the next status tells)."""
        if self.paused or self.stopped or self.speed is None:
            return self.sim_time
        return self.sim_time + max(0.0, wall - self.received) * self.speed
