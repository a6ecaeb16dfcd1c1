"""Turnstile entries: Poisson per station and simulated minute.

The mean for station *s* in hour *h* of a day of type *d* is
``seed[s][d] * curve[h] / 60`` entries per minute, where ``seed`` is the station's average
daily entries for that day type (``ridership_seed.csv``: weekday, Saturday,
Sunday/holiday) and ``curve`` the share of the day's riders in that hour
(``ridership_curve.csv``). Each entry is one event.
"""

from __future__ import annotations

import bisect
import csv
import math
import operator
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache

from cta_core import data
from producers_sim.clock import CHICAGO
from producers_sim.events import TurnstileEvent
from producers_sim.schedule import DayType, day_type

_BY_TIME = operator.attrgetter("t")

_SEED_COLUMNS = {
    DayType.WEEKDAY: "avg_weekday_rides",
    DayType.SATURDAY: "avg_saturday_rides",
    DayType.SUNDAY: "avg_sunday-holiday_rides",
}


@dataclass(frozen=True)
class RidershipSeed:
    """Average daily entries per station id for each day type."""

    rides: dict[int, dict[DayType, float]]

    def daily(self, station_id: int, dt: DayType) -> float:
        return self.rides.get(station_id, {}).get(dt, 0.0)


def _read(name: str) -> str:
    return data.read_text(name)


@cache
def load_seed() -> RidershipSeed:
    rides: dict[int, dict[DayType, float]] = {}
    for row in csv.DictReader(_read("ridership_seed.csv").splitlines()):
        rides[int(row["station_id"])] = {d: float(row[col] or 0) for d, col in _SEED_COLUMNS.items()}
    return RidershipSeed(rides)


@cache
def load_curve() -> tuple[float, ...]:
    """Share of the day's entries per hour 0..23 (the file's hour 24 is not a clock hour)."""
    ratios = {
        int(r["hour"]): float(r["ridership_ratio"])
        for r in csv.DictReader(_read("ridership_curve.csv").splitlines())
    }
    return tuple(ratios.get(h, 0.0) for h in range(24))


@lru_cache(maxsize=4096)
def poisson_cdf(lam: float) -> tuple[float, ...]:
    """``P(N <= k)`` for ``N ~ Poisson(lam)`` and k = 0, 1, ... up to where the tail is
    negligible (beyond lam + 12 sd): a draw is then one uniform and a binary search in C.
    Terms come from logarithms, so large means neither underflow nor overflow."""
    if lam <= 0:
        return (1.0,)
    top = math.ceil(lam + 12 * math.sqrt(lam) + 30)
    log_lam = math.log(lam)
    out: list[float] = []
    total = 0.0
    for k in range(top + 1):
        total += math.exp(k * log_lam - lam - math.lgamma(k + 1))
        out.append(total)
    return tuple(out)


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw by inversion (no draw at all for a mean of 0)."""
    if lam <= 0:
        return 0
    return bisect.bisect_right(poisson_cdf(lam), rng.random())


class Turnstiles:
    """Generates the entries of each simulated minute for a set of stations."""

    def __init__(
        self,
        stations: Iterable[tuple[int, str, str | None]],
        rng: random.Random,
        seed: RidershipSeed | None = None,
        curve: tuple[float, ...] | None = None,
    ):
        self.stations = sorted(stations)
        self.rng = rng
        self.seed = seed or load_seed()
        self.curve = curve or load_curve()
        self._means_cache: dict[tuple[DayType, int], list[float]] = {}
        self._cdfs_cache: dict[tuple[DayType, int], list[tuple[float, ...]]] = {}

    def means(self, dt: DayType, hour: int) -> list[float]:
        """Mean entries per minute for each station (same order as :attr:`stations`)."""
        key = (dt, hour)
        cached = self._means_cache.get(key)
        if cached is None:
            ratio = self.curve[hour]
            cached = [self.seed.daily(sid, dt) * ratio / 60.0 for sid, _, _ in self.stations]
            self._means_cache[key] = cached
        return cached

    def _cdfs(self, dt: DayType, hour: int) -> list[tuple[float, ...]]:
        """:func:`poisson_cdf` of each station's mean."""
        key = (dt, hour)
        cached = self._cdfs_cache.get(key)
        if cached is None:
            cached = [poisson_cdf(lam) for lam in self.means(dt, hour)]
            self._cdfs_cache[key] = cached
        return cached

    def block(self, t0: float) -> EntryBlock:
        """Entries during the minute starting at ``t0`` (epoch seconds), in the order drawn."""
        local = datetime.fromtimestamp(t0, CHICAGO)
        dt, hour = day_type(local.date()), local.hour
        rand = self.rng.random
        search = bisect.bisect_right
        # the hot path of the whole simulator (~93% of all events are entries): a count per
        # station by inversion, then a time per entry, as columns (an object per entry would
        # cost a third of the simulator's time); the station with a mean of 0 draws 0
        counts = [search(cdf, rand()) for cdf in self._cdfs(dt, hour)]
        stations = [k for k, n in enumerate(counts) if n for _ in range(n)]
        times = [t0 + rand() * 60.0 for _ in range(len(stations))]
        return EntryBlock(self.stations, times, stations)

    def minute(self, t0: float, ordered: bool = True) -> list[TurnstileEvent]:
        """:meth:`block` as events, in time order, or in the order drawn with ``ordered=False``."""
        events = self.block(t0).events()
        if ordered:
            events.sort(key=_BY_TIME)
        return events


@dataclass(slots=True)
class EntryBlock:
    """A simulated minute's turnstile entries as columns: entry *i* is at ``times[i]``
    through a turnstile of ``stations[where[i]]``; in the order drawn (not time order)."""

    #: (station id, name, line) per station index; shared by every block of a run
    stations: list[tuple[int, str, str | None]]
    times: list[float]
    where: list[int]

    def __len__(self) -> int:
        return len(self.times)

    def since(self, t: float) -> EntryBlock:
        """Only the entries at ``t`` or later (the first, partial minute of a run)."""
        kept = [(x, k) for x, k in zip(self.times, self.where, strict=True) if x >= t]
        return EntryBlock(self.stations, [x for x, _ in kept], [k for _, k in kept])

    def events(self) -> list[TurnstileEvent]:
        stations = self.stations
        return [TurnstileEvent(t, *stations[k]) for t, k in zip(self.times, self.where, strict=True)]
