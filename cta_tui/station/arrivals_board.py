"""A station's recent arrivals, newest first."""

from __future__ import annotations

from rich.text import Text

from cta_tui.common.glyphs import AT, BROKEN, line_style
from cta_tui.common.synced import Row, SyncedTable
from cta_tui.state.model import DashboardState
from cta_tui.station.view import sim_clock


class ArrivalsBoard(SyncedTable):
    def on_mount(self) -> None:
        self.cursor_type = "row"

    def _ensure_columns(self) -> None:
        if not self.columns:
            self.add_columns("time", "train", "line", "dir", "status", "delay")

    def show(self, state: DashboardState, station_id: int) -> None:
        rows: list[Row] = []
        for entry in state.boards.get(station_id, ()):
            glyph = BROKEN if entry.status == "broken_down" else AT.get(entry.heading, "?")
            cells = (
                sim_clock(entry.sim_time_ms),
                entry.train_id,
                Text(entry.line, style=line_style(entry.line)),
                f"{glyph} {entry.direction}",
                entry.status.replace("_", " "),
                "" if entry.delay_s is None else f"{entry.delay_s:+d} s",
            )
            rows.append((None, cells))
        self.set_rows(rows)
