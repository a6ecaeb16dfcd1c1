"""What the network panels and the map show about a line: figures and train positions.

Pure (no Textual): the screens format it, ``cta-tui --once --json`` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cta_tui.state.model import DashboardState
from cta_tui.state.motion import Position, is_current, is_delayed, line_positions, sim_clock_ms
from cta_tui.state.reducers import current_minute


@dataclass(frozen=True, slots=True)
class LineFigures:
    """A panel's figures: trains in service, delayed, broken down, entries in the last
    simulated hour at the line's stations (None before any count came in)."""

    trains: int
    delayed: int
    broken: int
    entries_hour: int | None


class FiguresCache:
    """Each line's figures, recomputed at most every ``every`` wall seconds: they are
    counts, not motion, and the network and map screens redraw several times a second."""

    def __init__(self, every: float = 1.0) -> None:
        self.every = every
        self._cache: dict[str, tuple[float, LineFigures]] = {}

    def get(self, state: DashboardState, line: str, now: float) -> LineFigures:
        cached = self._cache.get(line)
        if cached is None or abs(now - cached[0]) >= self.every:
            cached = self._cache[line] = (now, line_figures(state, line, now))
        return cached[1]


def line_figures(state: DashboardState, line: str, now: float) -> LineFigures:
    sim_ms = sim_clock_ms(state, now)
    trains = [t for t in state.trains.values() if t.line == line and t.in_service and is_current(t, sim_ms)]
    line_obj = state.lines.get(line)
    entries: int | None = None
    if line_obj is not None:
        minute = current_minute(state, now)
        first = minute - 59
        for sid in line_obj.stations:
            history = state.entries_history.get(sid)
            if history is None:
                continue
            entries = (entries or 0) + sum(n for m, n in history.items() if first <= m <= minute)
    return LineFigures(
        trains=len(trains),
        delayed=sum(1 for t in trains if is_delayed(t) and not t.broken),
        broken=sum(1 for t in trains if t.broken),
        entries_hour=entries,
    )


def position_json(state: DashboardState, position: Position) -> dict[str, Any]:
    """A train's interpolated position for ``--once --json``."""
    return {
        "station_id": position.station_id,
        "station_name": state.station_name(position.station_id),
        "next_station_id": position.next_id,
        "next_station_name": None if position.next_id is None else state.station_name(position.next_id),
        "fraction": round(position.fraction, 3),
    }


def network_json(state: DashboardState, line: str, now: float) -> dict[str, Any]:
    """Per line: the panel's figures and every train's interpolated position."""
    figures = line_figures(state, line, now)
    positions = line_positions(state, line, sim_clock_ms(state, now))
    return {
        "panel": {
            "trains": figures.trains,
            "delayed": figures.delayed,
            "broken_down": figures.broken,
            "entries_last_hour": figures.entries_hour,
        },
        "positions": {p.train.train_id: position_json(state, p) for p in positions},
    }
