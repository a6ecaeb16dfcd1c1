"""Hourly weather in simulated time: a seasonal and daily temperature cycle plus a
status drawn with season-dependent weights (a small persistent random walk)."""

from __future__ import annotations

import math
import random
from datetime import datetime

from producers_sim.clock import CHICAGO
from producers_sim.events import WeatherEvent

STATUSES = ("sunny", "partly_cloudy", "cloudy", "windy", "precipitation")

#: Chicago's normal daily mean temperature (°F) by month, January first.
MONTHLY_MEAN_F = (26.0, 30.0, 39.5, 49.5, 60.0, 70.0, 75.5, 74.0, 66.5, 54.0, 41.5, 31.0)
DAILY_SWING_F = 7.0

_WEIGHTS = {
    "winter": (0.20, 0.20, 0.25, 0.15, 0.20),
    "spring": (0.25, 0.25, 0.15, 0.15, 0.20),
    "summer": (0.40, 0.25, 0.10, 0.05, 0.20),
    "autumn": (0.25, 0.25, 0.20, 0.15, 0.15),
}


def season(month: int) -> str:
    return {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
            6: "summer", 7: "summer", 8: "summer"}.get(month, "autumn")  # fmt: skip


class Weather:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self._anomaly = 0.0
        self._status: str | None = None

    def expected_temperature(self, local: datetime) -> float:
        """Seasonal mean (interpolated between months) plus a daily cycle peaking at 15:00."""
        m = local.month - 1
        frac = (local.day - 1) / 31.0
        a, b = MONTHLY_MEAN_F[m], MONTHLY_MEAN_F[(m + 1) % 12]
        base = (
            a + (b - a) * max(0.0, frac - 0.5)
            if frac > 0.5
            else a + (a - MONTHLY_MEAN_F[m - 1]) * (frac - 0.5)
        )
        hour = local.hour + local.minute / 60.0
        return base + DAILY_SWING_F * math.cos((hour - 15.0) / 24.0 * 2 * math.pi)

    def reading(self, t: float) -> WeatherEvent:
        local = datetime.fromtimestamp(t, CHICAGO)
        rng = self.rng
        self._anomaly = 0.9 * self._anomaly + rng.gauss(0.0, 1.5)
        temp = round(self.expected_temperature(local) + self._anomaly, 1)
        if self._status is None or rng.random() < 0.3:
            self._status = rng.choices(STATUSES, weights=_WEIGHTS[season(local.month)])[0]
        return WeatherEvent(t, temp, self._status)
