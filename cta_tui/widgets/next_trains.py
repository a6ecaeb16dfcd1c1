"""A station's next trains in one direction from Train Tracker predictions: "Due" / "N min"
with flags as glyphs (◷ scheduled, ⚠ delayed, ✖ fault) so nothing depends on colour."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from cta_core.records.prediction import Prediction as PredictionEntry
from cta_tui.state.model import UP, DashboardState
from cta_tui.state.predictions import NEXT_PER_DIRECTION
from cta_tui.widgets.arrivals_board import sim_clock
from cta_tui.widgets.glyphs import BROKEN, DELAYED, line_style

SCHEDULED = "◷"


def heading_of(state: DashboardState, entry: PredictionEntry) -> str:
    """UP/DOWN as the line's arrivals taught the state; direction "a" is down before that."""
    return state.headings.get((entry.line, entry.direction), "down" if entry.direction == "a" else UP)


def flags(entry: PredictionEntry) -> str:
    return (
        (BROKEN if entry.fault else "")
        + (DELAYED if entry.delayed else "")
        + (SCHEDULED if entry.scheduled else "")
    )


def next_trains(state: DashboardState, station_id: int, heading: str) -> list[PredictionEntry]:
    entries = [e for e in state.predictions.next_at(station_id) if heading_of(state, e) == heading]
    return entries[:NEXT_PER_DIRECTION]


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


class NextTrainsTable(DataTable[str | Text]):
    """Next arrivals in one heading; a row's key is the train id (select it to follow)."""

    def __init__(self, heading: str, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.heading = heading
        self._shown: tuple[tuple[str, str, str], ...] | None = None

    def show(self, state: DashboardState, station_id: int) -> None:
        if not self.columns:
            self.add_columns("train", "to", "arrives", "")
        now = state.predictions.now_ms
        rows = [(e, e.minutes_label(now), flags(e)) for e in next_trains(state, station_id, self.heading)]
        signature = tuple((e.train_id, label, f) for e, label, f in rows)
        if signature == self._shown:
            return  # repaint only what changed
        self._shown = signature
        self.clear()
        for e, label, f in rows:
            self.add_row(Text(e.train_id, style=line_style(e.line)), e.destination, label, f, key=e.train_id)
