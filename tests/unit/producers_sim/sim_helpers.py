"""Helpers shared by the simulator's unit tests."""

from __future__ import annotations

from datetime import datetime

from cta_core.records.arrival import Arrival
from producers_sim.clock import CHICAGO
from producers_sim.engine import Engine, EngineOptions
from producers_sim.network import Network


def chicago(*args: int) -> float:
    return datetime(*args, tzinfo=CHICAGO).timestamp()  # type: ignore[misc]


def arrivals(network: Network, start: float, hours: float, seed: int = 7, **opts: object) -> list[Arrival]:
    engine = Engine(network, start, seed, EngineOptions(turnstiles=False, weather=False, **opts))  # type: ignore[arg-type]
    out: list[Arrival] = []
    end = start + hours * 3600
    for ev in engine.events():
        if ev.t >= end:
            break
        assert isinstance(ev, Arrival)
        out.append(ev)
    return out
