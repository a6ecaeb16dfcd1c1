"""The simulated clock: a start instant, a speed (or ``max``), pause, resume and step.

Simulated time is a float of epoch seconds. At a finite speed it follows the wall clock
(``sim = anchor + (wall - wall_anchor) * speed``); at ``max`` (``speed is None``) it only
moves when the engine reports how far it has got (:meth:`SimClock.advance_to`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

CHICAGO = ZoneInfo("America/Chicago")


class SimClock:
    def __init__(
        self,
        start: float,
        speed: float | None = 1.0,
        *,
        paused: bool = False,
        wall: Callable[[], float] = time.monotonic,
    ):
        if speed is not None and speed <= 0:
            raise ValueError("speed must be > 0 (or None for max)")
        self._wall = wall
        self._sim = float(start)
        self._wall_anchor = wall()
        self._speed = speed
        self._paused = paused

    # -- reading ---------------------------------------------------------------------------
    @property
    def speed(self) -> float | None:
        """Simulated seconds per wall second; None means as fast as possible."""
        return self._speed

    @property
    def is_max(self) -> bool:
        return self._speed is None

    @property
    def paused(self) -> bool:
        return self._paused

    def now(self) -> float:
        if self._paused or self._speed is None:
            return self._sim
        return self._sim + (self._wall() - self._wall_anchor) * self._speed

    def wall_until(self, t: float) -> float:
        """Wall seconds until the clock reaches ``t`` (inf when paused, 0 at max speed)."""
        if self._paused:
            return float("inf") if t > self._sim else 0.0
        if self._speed is None:
            return 0.0
        return max(0.0, (t - self.now()) / self._speed)

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), CHICAGO)

    # -- changing --------------------------------------------------------------------------
    def _reanchor(self) -> None:
        self._sim = self.now()
        self._wall_anchor = self._wall()

    def pause(self) -> bool:
        """Pause; returns whether anything changed."""
        if self._paused:
            return False
        self._reanchor()
        self._paused = True
        return True

    def resume(self) -> bool:
        if not self._paused:
            return False
        self._wall_anchor = self._wall()
        self._paused = False
        return True

    def set_speed(self, speed: float | None) -> bool:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be > 0 (or None for max)")
        if speed == self._speed:
            return False
        self._reanchor()
        self._speed = speed
        return True

    def step(self, seconds: float) -> None:
        """Pause (if running) and move simulated time forward by ``seconds``."""
        if seconds <= 0:
            raise ValueError("step seconds must be > 0")
        self.pause()
        self._sim += seconds

    def advance_to(self, t: float) -> None:
        """At max speed, record that the engine has reached ``t``."""
        if self._speed is None and not self._paused and t > self._sim:
            self._sim = t
