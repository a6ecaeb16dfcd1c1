"""A station's next trains in one direction from Train Tracker predictions: "Due" / "N min"
with flags as glyphs (:func:`cta_tui.station.view.flags`) so nothing depends on colour."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from cta_tui.common.glyphs import line_style
from cta_tui.state.model import DashboardState
from cta_tui.station.view import flags, next_trains


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
