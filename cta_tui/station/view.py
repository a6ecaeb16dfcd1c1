"""The station board's views (pure): trains approaching a station, a station's next
trains from the predictions with their flags, and a followed train's next stops."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cta_core.records.prediction import Prediction
from cta_tui.common.glyphs import FAULT_FLAG, PREDICTED_DELAY_FLAG, SCHEDULED_FLAG
from cta_tui.state.model import DOWN, UP, DashboardState, Train
from cta_tui.state.predictions import NEXT_PER_DIRECTION

CHICAGO = ZoneInfo("America/Chicago")


def sim_clock(ms: int | None) -> str:
    """Simulated time on Chicago's clock, as the simulator's status shows it."""
    if ms is None:
        return "--:--:--"
    return datetime.fromtimestamp(ms / 1000, CHICAGO).strftime("%H:%M:%S")


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


def heading_of(state: DashboardState, entry: Prediction) -> str:
    """UP/DOWN as the line's arrivals taught the state; direction "a" is down before that."""
    return state.headings.get((entry.line, entry.direction), "down" if entry.direction == "a" else UP)


def flags(entry: Prediction) -> str:
    """A prediction's flags as glyphs: ✖ fault, ⚠ delayed, ◷ scheduled."""
    return (
        (FAULT_FLAG if entry.fault else "")
        + (PREDICTED_DELAY_FLAG if entry.delayed else "")
        + (SCHEDULED_FLAG if entry.scheduled else "")
    )


def next_trains(state: DashboardState, station_id: int, heading: str) -> tuple[list[Prediction], int]:
    """The station's next trains in one heading, soonest first, and the simulated "now"
    to label them with (only that station's predictions decoded: see
    :meth:`~cta_tui.state.predictions.PredictionBook.at_station`)."""
    entries, now_ms = state.predictions.at_station(station_id)
    return [e for e in entries if heading_of(state, e) == heading][:NEXT_PER_DIRECTION], now_ms


def followed_stops(state: DashboardState, train_id: str | None) -> str:
    """The followed train's next stops with predicted times (one line)."""
    if not train_id:
        return ""
    stops = state.predictions.train_stops(train_id)
    if not stops:
        return ""
    parts = [
        f"{state.station_name(e.station_id)} {sim_clock(e.predicted_ms)[:5]}{flags(e)}" for e in stops[:8]
    ]
    return f"following {train_id}: " + " · ".join(parts)
