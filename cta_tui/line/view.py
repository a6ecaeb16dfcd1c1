"""The line screen's rows (pure): a line's stations in order with their trains, counts
and sparkline data."""

from __future__ import annotations

from dataclasses import dataclass, field

from cta_tui.state.model import UP, DashboardState, LineStation, Train
from cta_tui.state.motion import is_departed, sim_now_ms
from cta_tui.state.reducers import current_minute, entries_per_minute


@dataclass
class StationRow:
    """One station of a line strip."""

    station: LineStation
    #: trains at the station / departed towards the next, per heading
    up_at: list[Train] = field(default_factory=list)
    up_gone: list[Train] = field(default_factory=list)
    down_at: list[Train] = field(default_factory=list)
    down_gone: list[Train] = field(default_factory=list)
    count: int | None = None
    history: list[float] = field(default_factory=list)
    branch_start: str | None = None
    #: trains whose current predictions say delayed or fault (drawn as delayed)
    delayed: frozenset[str] = frozenset()


def line_rows(
    state: DashboardState, line: str, now: float, name_filter: str = "", history_minutes: int = 12
) -> list[StationRow]:
    """The line's stations in order with their trains, counts and sparkline data."""
    line_obj = state.lines.get(line)
    if line_obj is None:
        return []
    sim_ms = sim_now_ms(state)
    minute = current_minute(state, now)
    rows: dict[int, StationRow] = {}
    out: list[StationRow] = []
    last_branch: str | None = None
    needle = name_filter.strip().lower()
    delayed = frozenset(state.predictions.delayed_trains())
    for station in line_obj.ordered():
        row = StationRow(station, delayed=delayed)
        branch = station.branch if (station.branch or "") not in ("", "main", "trunk") else None
        if branch and branch != last_branch:
            row.branch_start = branch
        last_branch = branch
        row.count = state.turnstile_counts.get(station.station_id)
        row.history = entries_per_minute(state, station.station_id, minute, history_minutes)
        rows[station.station_id] = row
        if needle and needle not in station.name.lower():
            continue
        out.append(row)
    for train in state.trains.values():
        if train.line != line or not train.in_service:
            continue
        row_for = rows.get(train.station_id)
        if row_for is None:
            continue
        gone = is_departed(train, sim_ms) and not train.broken
        if train.heading == UP:
            (row_for.up_gone if gone else row_for.up_at).append(train)
        else:
            (row_for.down_gone if gone else row_for.down_at).append(train)
    return out
