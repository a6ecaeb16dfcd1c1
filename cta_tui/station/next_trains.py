"""A station's next trains in one direction from Train Tracker predictions: "Due" / "N min"
with flags as glyphs (:func:`cta_tui.station.view.flags`) so nothing depends on colour."""

from __future__ import annotations

from rich.text import Text

from cta_tui.common.glyphs import line_style
from cta_tui.common.synced import SyncedTable
from cta_tui.state.model import DashboardState
from cta_tui.station.view import flags, next_trains


class NextTrainsTable(SyncedTable):
    """Next arrivals in one heading; a row's key is the train id (select it to follow)."""

    def __init__(self, heading: str, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.heading = heading

    def show(self, state: DashboardState, station_id: int) -> None:
        if not self.columns:
            self.add_columns("train", "to", "arrives", "")
        entries, now = next_trains(state, station_id, self.heading)
        self.set_rows(
            [
                (
                    e.train_id,
                    (
                        Text(e.train_id, style=line_style(e.line)),
                        e.destination,
                        e.minutes_label(now),
                        flags(e),
                    ),
                )
                for e in entries
            ]
        )
