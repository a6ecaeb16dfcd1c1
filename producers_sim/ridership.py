"""Turnstile entries: Poisson per station and simulated minute.

The mean for station *s* in hour *h* of a day of type *d* is
``seed[s][d] * curve[h] / 60`` entries per minute, where ``seed`` is the station's average
daily entries for that day type (``ridership_seed.csv``: weekday, Saturday,
Sunday/holiday) and ``curve`` the share of the day's riders in that hour
(``ridership_curve.csv``). Each entry is one event.
"""

from __future__ import annotations

import csv
import math
import operator
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources

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
    return resources.files("producers_sim").joinpath(f"data/{name}").read_text(encoding="utf-8")


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


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's method; means here stay below ~60)."""
    if lam <= 0:
        return 0
    if lam > 500:  # not reached with the packaged data; keeps the loop bounded
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    k = 0
    p = rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


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
        self._limits_cache: dict[tuple[DayType, int], list[float]] = {}

    def means(self, dt: DayType, hour: int) -> list[float]:
        """Mean entries per minute for each station (same order as :attr:`stations`)."""
        key = (dt, hour)
        cached = self._means_cache.get(key)
        if cached is None:
            ratio = self.curve[hour]
            cached = [self.seed.daily(sid, dt) * ratio / 60.0 for sid, _, _ in self.stations]
            self._means_cache[key] = cached
        return cached

    def _limits(self, dt: DayType, hour: int) -> list[float]:
        """``exp(-mean)`` per station: Knuth's Poisson loop, inlined in :meth:`minute`, stops
        once the product of uniforms falls to it (0 for a mean of 0 or above 500, which
        :func:`poisson` handles instead)."""
        key = (dt, hour)
        cached = self._limits_cache.get(key)
        if cached is None:
            cached = [math.exp(-lam) if 0 < lam <= 500 else 0.0 for lam in self.means(dt, hour)]
            self._limits_cache[key] = cached
        return cached

    def block(self, t0: float) -> EntryBlock:
        """Entries during the minute starting at ``t0`` (epoch seconds), in the order drawn."""
        local = datetime.fromtimestamp(t0, CHICAGO)
        dt, hour = day_type(local.date()), local.hour
        rng = self.rng
        rand = rng.random
        entries: list[tuple[float, int]] = []
        extend = entries.extend
        # the hot loop of the whole simulator (~93% of all events are entries): poisson()
        # inlined, drawing exactly the same numbers in the same order; an entry is a
        # (time, station index) pair, not an event object (a third of the cost)
        for k, (lam, limit) in enumerate(zip(self.means(dt, hour), self._limits(dt, hour), strict=True)):
            if limit:
                n = 0
                p = rand()
                while p > limit:
                    n += 1
                    p *= rand()
            else:
                n = poisson(rng, lam)
            if n:
                extend([(t0 + rand() * 60.0, k) for _ in range(n)])
        return EntryBlock(self.stations, entries)

    def minute(self, t0: float, ordered: bool = True) -> list[TurnstileEvent]:
        """:meth:`block` as events, in time order, or in the order drawn with ``ordered=False``."""
        events = self.block(t0).events()
        if ordered:
            events.sort(key=_BY_TIME)
        return events


@dataclass(slots=True)
class EntryBlock:
    """A simulated minute's turnstile entries, columnar: ``entries`` are ``(t, k)`` pairs
    for an entry at ``t`` through a turnstile of ``stations[k]``, in the order drawn."""

    #: (station id, name, line) per station index; shared by every block of a run
    stations: list[tuple[int, str, str | None]]
    entries: list[tuple[float, int]]

    def __len__(self) -> int:
        return len(self.entries)

    def since(self, t: float) -> EntryBlock:
        """Only the entries at ``t`` or later (the first, partial minute of a run)."""
        return EntryBlock(self.stations, [e for e in self.entries if e[0] >= t])

    def events(self) -> list[TurnstileEvent]:
        stations = self.stations
        return [TurnstileEvent(t, *stations[k]) for t, k in self.entries]
