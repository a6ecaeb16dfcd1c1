"""Derived, display-ready views of the state (still pure: widgets only format them)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cta_tui.state.model import (
    DOWN,
    DWELL_MS,
    LINE_ORDER,
    UP,
    DashboardState,
    LineStation,
    Train,
)
from cta_tui.state.network_view import network_json
from cta_tui.state.predictions import predictions_json
from cta_tui.state.reducers import current_minute, entries_per_minute

#: Seconds without a message after which a topic is shown "stale" (None: never).
STALE_AFTER: dict[str, float | None] = {
    "org.chicago.cta.station.arrivals.v1": 10.0,
    "TURNSTILE_SUMMARY": 15.0,
    "org.chicago.cta.sim.status.v1": 5.0,
    "org.chicago.cta.weather.v1": 300.0,
    "org.chicago.cta.stations.table.v1": None,
}


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


def sim_now_ms(state: DashboardState) -> int | None:
    return state.sim.sim_time_ms if state.sim is not None else None


def is_departed(train: Train, sim_ms: int | None) -> bool:
    """True when the train has left its last station (dwell over) and runs to the next."""
    if sim_ms is None or train.sim_time_ms is None:
        return False
    return sim_ms - train.sim_time_ms > DWELL_MS


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


@dataclass(frozen=True)
class Approaching:
    train: Train
    stops_away: int
    from_station: str


def approaching(state: DashboardState, station_id: int, limit: int = 5) -> dict[str, list[Approaching]]:
    """Trains heading towards ``station_id`` on each of its lines, nearest first, per heading."""
    out: dict[str, list[Approaching]] = {UP: [], DOWN: []}
    for line in state.lines.values():
        here = line.stations.get(station_id)
        if here is None:
            continue
        for train in state.trains.values():
            if train.line != line.name or not train.in_service or train.station_id == station_id:
                continue
            at = line.stations.get(train.station_id)
            if at is None:
                continue
            if here.branch and at.branch and here.branch != at.branch:
                continue
            ahead = (train.heading == DOWN and at.order < here.order) or (
                train.heading == UP and at.order > here.order
            )
            if ahead:
                out[train.heading].append(Approaching(train, abs(here.order - at.order), at.name))
    for heading in out:
        out[heading].sort(key=lambda a: (a.stops_away, a.train.train_id))
        del out[heading][limit:]
    return out


def topic_freshness(state: DashboardState, topic: str, now: float) -> str:
    """ "12 msg/s", "stale 12 s" or "no data yet" for the pipeline screen."""
    stats = state.topics.get(topic)
    if stats is None or stats.last_message_at is None:
        return "no data yet"
    age = stats.age(now) or 0.0
    limit = STALE_AFTER.get(topic)
    if limit is not None and age > limit:
        return f"stale {age:.0f} s"
    return "ok"


def format_speed(speed: float | str | None) -> str:
    if speed is None:
        return "?"
    if isinstance(speed, str):
        return speed
    return f"{speed:g}x"


def format_temperature(state: DashboardState, celsius: bool) -> str:
    w = state.weather
    if w is None:
        return "weather: no data yet"
    if celsius:
        return f"{w.temperature_c:.0f}°C {w.status.replace('_', ' ')}"
    return f"{w.temperature_f:.0f}°F {w.status.replace('_', ' ')}"


def _line_snapshot(state: DashboardState, name: str, sim_ms: int | None, now: float) -> dict[str, Any]:
    line = state.lines[name]
    trains = [t for t in state.trains.values() if t.line == name and t.in_service]
    network = network_json(state, name, now)
    return {
        "panel": network["panel"],
        "stations": [
            {"station_id": s.station_id, "name": s.name, "order": s.order, "branch": s.branch}
            for s in line.ordered()
        ],
        "trains": [
            {
                "train_id": t.train_id,
                "station_id": t.station_id,
                "station_name": state.station_name(t.station_id),
                "direction": t.direction,
                "heading": t.heading,
                "status": t.status,
                "position": "departed" if is_departed(t, sim_ms) else "at",
                "seq": t.seq,
                "interpolated": network["positions"].get(t.train_id),
            }
            for t in sorted(trains, key=lambda t: t.train_id)
        ],
    }


def _weather_snapshot(state: DashboardState) -> dict[str, Any] | None:
    w = state.weather
    if w is None:
        return None
    return {
        "temperature_f": round(w.temperature_f, 1),
        "temperature_c": round(w.temperature_c, 1),
        "status": w.status,
        "sim_time_ms": w.sim_time_ms,
    }


def _sim_snapshot(state: DashboardState) -> dict[str, Any] | None:
    s = state.sim
    if s is None:
        return None
    return {
        "run_id": s.run_id,
        "state": s.state,
        "sim_time": s.sim_time,
        "sim_time_ms": s.sim_time_ms,
        "speed": s.speed,
        "paused": s.paused,
        "trains": s.trains,
    }


def snapshot(state: DashboardState, now: float) -> dict[str, Any]:
    """Everything `cta-tui --once --json` prints."""
    names = [n for n in LINE_ORDER if n in state.lines] + sorted(set(state.lines) - set(LINE_ORDER))
    sim_ms = sim_now_ms(state)
    lines = {name: _line_snapshot(state, name, sim_ms, now) for name in names}
    return {
        "lines": lines,
        "trains": sum(len(v["trains"]) for v in lines.values()),
        "predictions": predictions_json(state.predictions, sorted(state.station_names)),
        "counts": {str(k): v for k, v in sorted(state.turnstile_counts.items())},
        "weather": _weather_snapshot(state),
        "sim": _sim_snapshot(state),
        "topics": {
            name: {
                "messages": t.messages,
                "malformed": t.malformed,
                "lag": t.lag,
                "age_s": None if t.age(now) is None else round(t.age(now) or 0.0, 1),
            }
            for name, t in sorted(state.topics.items())
        },
        "pending_arrivals": len(state.pending_arrivals),
        "stale_arrivals": state.stale_arrivals,
    }


def snapshot_json(state: DashboardState, now: float, indent: int | None = 2) -> str:
    return json.dumps(snapshot(state, now), indent=indent, sort_keys=False, default=str)
