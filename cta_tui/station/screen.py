"""A station's arrivals board: recent arrivals and the trains approaching it in each
direction. Selecting an approaching train follows it on the dashboard."""

from __future__ import annotations

from time import monotonic
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label

from cta_tui.common.footer import CtaFooter
from cta_tui.common.glyphs import AT, BROKEN, line_style
from cta_tui.common.screen import CtaScreen
from cta_tui.common.status_bar import StatusBar
from cta_tui.common.synced import Row, SyncedTable, set_content
from cta_tui.state.model import DOWN, UP, DashboardState
from cta_tui.station.arrivals_board import ArrivalsBoard
from cta_tui.station.next_trains import NextTrainsTable
from cta_tui.station.view import approaching, followed_stops

if TYPE_CHECKING:
    from cta_tui.app import CtaApp

#: the board's tables (next trains, approaching, recent arrivals) change at most this
#: often (seconds): their minutes and stops move slower than that at --speed 60, and each
#: change of a row repaints it (a train entering or leaving, the whole table) and asks the
#: predictions (decoding what waited) first
TABLES_PERIOD = 0.5
#: ... and a new arrival there shows at once, but not sooner than this after the last
#: change (at --speed 600 a busy station has one every few redraws)
TABLES_GAP = 0.25


class ApproachingTable(SyncedTable):
    def __init__(self, heading: str, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.heading = heading

    def _ensure_columns(self) -> None:
        if not self.columns:
            self.add_columns(f"{AT[self.heading]} train", "stops", "now at")

    def show(self, state: DashboardState, station_id: int) -> None:
        rows: list[Row] = []
        for item in approaching(state, station_id)[self.heading]:
            train = item.train
            glyph = BROKEN if train.broken else AT[self.heading]
            cells = (
                Text(f"{glyph} {train.train_id}", style=line_style(train.line)),
                str(item.stops_away),
                item.from_station,
            )
            rows.append((train.train_id, cells))
        self.set_rows(rows)


class StationBoardScreen(CtaScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, station_id: int, *, read_only: bool = False) -> None:
        super().__init__()
        self.station_id = station_id
        self.read_only = read_only
        #: what the tables last showed at once (see :meth:`_tables_due`), and when
        self._tables_key: object = ()
        self._tables_at = 0.0

    def compose(self) -> ComposeResult:
        yield StatusBar(read_only=self.read_only, id="status")
        yield Label("", id="board-title")
        with Horizontal(id="next-trains"):
            with Vertical():
                yield Label(f"next trains {AT[UP]}")
                yield NextTrainsTable(UP, id="next-up")
            with Vertical():
                yield Label(f"next trains {AT[DOWN]}")
                yield NextTrainsTable(DOWN, id="next-down")
        yield Label("", id="followed-stops")
        with Horizontal(id="approaching"):
            with Vertical():
                yield Label(f"approaching {AT[UP]}")
                yield ApproachingTable(UP, id="approach-up")
            with Vertical():
                yield Label(f"approaching {AT[DOWN]}")
                yield ApproachingTable(DOWN, id="approach-down")
        yield Label("recent arrivals (select an approaching train to follow it)")
        yield ArrivalsBoard(id="arrivals")
        yield CtaFooter()

    def show_state(self, state: DashboardState, now: float, note: str = "") -> None:
        self.query_one(StatusBar).show(state, note)
        name = state.station_name(self.station_id)
        lines = ", ".join(n for n, line in state.lines.items() if self.station_id in line.stations)
        count = state.turnstile_counts.get(self.station_id)
        entries = "no count yet" if count is None else f"{count:,} entries"
        set_content(
            self.query_one("#board-title", Label), f"{name} ({self.station_id}) · {lines} · {entries}"
        )
        if not self._tables_due(state):
            return
        for table in self.query(ApproachingTable):
            table.show(state, self.station_id)
        # the predictions block shows once the station has predictions (the prediction job runs)
        has_next = bool(state.predictions.at_station(self.station_id)[0])
        self.query_one("#next-trains").display = has_next
        for upcoming in self.query(NextTrainsTable):
            upcoming.show(state, self.station_id)
        stops = followed_stops(state, getattr(self.app, "follow_train", None))
        followed = self.query_one("#followed-stops", Label)
        followed.display = bool(stops)
        set_content(followed, stops)
        self.query_one(ArrivalsBoard).show(state, self.station_id)

    def _tables_due(self, state: DashboardState) -> bool:
        """Whether the tables are due for a redraw: at most every :data:`TABLES_PERIOD`,
        sooner when there is something new to show (the first draw, a train followed,
        a newer arrival at this station), but not within :data:`TABLES_GAP`."""
        now = monotonic()
        boards = state.boards.get(self.station_id)
        key = (getattr(self.app, "follow_train", None), boards[0] if boards else None)
        elapsed = now - self._tables_at
        if elapsed < TABLES_GAP or (key == self._tables_key and elapsed < TABLES_PERIOD):
            return False
        self._tables_key, self._tables_at = key, now
        return True

    @on(DataTable.RowSelected, "NextTrainsTable")
    @on(DataTable.RowSelected, "ApproachingTable")
    def _follow(self, event: DataTable.RowSelected) -> None:
        train_id = event.row_key.value
        if train_id:
            app: CtaApp = self.app  # type: ignore[assignment]
            app.follow(train_id)
