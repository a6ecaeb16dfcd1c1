"""Advances the world over simulated time and yields its events, in time order.

The same seed and options give the same event sequence: every random draw comes from
:class:`random.Random` instances seeded from ``seed``, and ties are broken by insertion
order. The engine knows nothing about wall time; pacing is the runner's job.
"""

from __future__ import annotations

import math
import operator
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from producers_sim.clock import CHICAGO
from producers_sim.events import Event
from producers_sim.movement import Movement, MovementOptions
from producers_sim.network import Network
from producers_sim.ridership import EntryBlock, Turnstiles
from producers_sim.schedule import HeadwayPlan
from producers_sim.weather import Weather


@dataclass(frozen=True)
class EngineOptions:
    plan: HeadwayPlan = field(default_factory=HeadwayPlan)
    movement: MovementOptions = field(default_factory=MovementOptions)
    #: movement simulated silently before ``start`` so the lines are in service at the start
    warmup_s: float = 3 * 3600.0
    turnstiles: bool = True
    weather: bool = True


_BY_TIME = operator.attrgetter("t")


def new_seed() -> int:
    return secrets.randbelow(2**31)


class Engine:
    def __init__(
        self,
        network: Network,
        start: float,
        seed: int | None = None,
        options: EngineOptions | None = None,
    ):
        self.network = network
        self.start = float(start)
        self.seed = new_seed() if seed is None else seed
        self.options = options or EngineOptions()
        self.movement = Movement(
            network, self.options.plan, random.Random(f"{self.seed}:movement"), self.options.movement
        )
        station_lines = network.station_lines()
        self.turnstiles = Turnstiles(
            [(sid, network.stations[sid].name, lines[0]) for sid, lines in station_lines.items()],
            random.Random(f"{self.seed}:turnstiles"),
        )
        self.weather = Weather(random.Random(f"{self.seed}:weather"))
        self.movement.start(self.start - self.options.warmup_s)
        self.movement.advance(math.nextafter(self.start, -math.inf))

    @property
    def trains_in_service(self) -> int:
        return len(self.movement.trains)

    def events(self) -> Iterator[Event]:
        """All events from ``start`` on, forever (the caller decides when to stop)."""
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[Event]]:
        """The same events, one time-ordered list per simulated minute (some may be empty)."""
        for minute in self.minutes():
            yield minute.ordered()

    def minutes(self) -> Iterator[Minute]:
        """The same events minute by minute, with the turnstile entries still columnar (what
        the preparers read: making an object per entry would cost a third of the work)."""
        t0 = self.start
        minute = math.floor(t0 / 60.0) * 60.0
        opts = self.options
        first = True
        empty = EntryBlock(self.turnstiles.stations, [], [])
        while True:
            end = minute + 60.0
            arrivals = self.movement.advance(end - 1e-6)
            entries = self.turnstiles.block(minute) if opts.turnstiles else empty
            weather = []
            if opts.weather and (first or datetime.fromtimestamp(minute, CHICAGO).minute == 0):
                weather.append(self.weather.reading(max(minute, t0)))
            first = False
            if minute < t0:
                entries = entries.since(t0)
            yield Minute([*weather, *arrivals], entries)
            minute = end


@dataclass(slots=True)
class Minute:
    """A simulated minute's events: ``events`` (weather, then arrivals) in time order, and
    the turnstile ``entries`` in the order drawn.

    Merged by one stable sort on time, ties go weather, arrivals, entries, and entries
    among themselves as drawn: the order is deterministic for a seed."""

    events: list[Event]
    entries: EntryBlock

    def ordered(self) -> list[Event]:
        merged: list[Event] = [*self.events, *self.entries.events()]
        merged.sort(key=_BY_TIME)  # in C
        return merged
