"""Everything `cta-tui --once --json` prints: the state as one JSON document (pure)."""

from __future__ import annotations

import json
from typing import Any

from cta_tui.state.model import LINE_ORDER, DashboardState
from cta_tui.state.motion import is_departed, sim_now_ms
from cta_tui.state.network_view import network_json
from cta_tui.state.predictions import predictions_json


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
