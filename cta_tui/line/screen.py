"""The line screen (1-8): status bar, line tabs, the line strip, the highlighted station."""

from __future__ import annotations

from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static, Tab, Tabs

from cta_tui.common.burst_keys import route_to_box
from cta_tui.common.footer import CtaFooter
from cta_tui.common.glyphs import AT, BROKEN, GONE, PREDICTED_DELAY_FLAG
from cta_tui.common.screen import CtaScreen
from cta_tui.common.status_bar import StatusBar
from cta_tui.line.line_strip import LineStrip
from cta_tui.line.station_detail import StationDetail
from cta_tui.line.view import line_rows
from cta_tui.state.model import DOWN, LINE_ORDER, UP, DashboardState
from cta_tui.state.reducers import current_minute, entries_per_minute

#: what the strip's glyphs mean, shown while no station is highlighted
LEGEND = (
    f"{AT[UP]}{AT[DOWN]} at station  {GONE[UP]}{GONE[DOWN]} just left  "
    f"{PREDICTED_DELAY_FLAG} late  {BROKEN} broken down"
)


class LineScreen(CtaScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter / stop following / network", show=False),
        Binding("0", "app.do('home')", "Network", show=False),
        Binding("m", "app.do('map')", "Map", show=False),
        *[
            Binding(str(i + 1), f"show_line('{name}')", f"{name.title()} line", show=False)
            for i, name in enumerate(LINE_ORDER)
        ],
    ]

    def __init__(self, *, read_only: bool = False, line: str = LINE_ORDER[0]) -> None:
        super().__init__()
        self.read_only = read_only
        self.line = line
        self.name_filter = ""
        self.highlighted_station: int | None = None
        self._followed_at: int | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar(read_only=self.read_only, id="status")
        yield Tabs(*[Tab(f"{i + 1} {name.title()}", id=f"line-{name}") for i, name in enumerate(LINE_ORDER)])
        yield Input(placeholder="filter stations (enter to keep, esc to clear)", id="filter")
        yield Static(LineStrip.header(), id="strip-header")
        yield LineStrip(id="strip")
        yield StationDetail(id="detail")
        yield CtaFooter()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one(LineStrip).focus()
        self.query_one(Tabs).active = f"line-{self.line}"

    # ------------------------------------------------------------------ rendering

    def show_state(self, state: DashboardState, now: float, note: str = "") -> None:
        app = self.cta_app
        self.query_one(StatusBar).show(state, note)
        followed = state.trains.get(app.follow_train) if app.follow_train else None
        if followed is not None and followed.line != self.line and followed.line in LINE_ORDER:
            self.action_show_line(followed.line)
            self.line = followed.line
        rows = line_rows(state, self.line, now, self.name_filter)
        strip = self.query_one(LineStrip)
        strip.show(self.line, rows, app.follow_train)
        if followed is not None and followed.station_id != self._followed_at:
            # the followed train moved: move the cursor with it (only then, so the
            # user can still look around between its arrivals)
            self._followed_at = followed.station_id
            strip.highlight_station(followed.station_id)
        self._show_detail(state, now, {row.station.station_id for row in rows})

    def _show_detail(self, state: DashboardState, now: float, shown: set[int]) -> None:
        """The highlighted station's detail; the line and a legend when no station shown
        is highlighted (a filter can hide the one that was)."""
        detail = self.query_one(StationDetail)
        sid = self.highlighted_station
        line = state.lines.get(self.line)
        if line is None:
            detail.show(f"{self.line.title()} line: waiting for the stations table…", [])
            return
        if sid is None or sid not in line.stations or sid not in shown:
            detail.show(f"{self.line.title()} line: {len(line.stations)} stations · {LEGEND}", [])
            return
        count = state.turnstile_counts.get(sid)
        trains = len(state.trains_at(sid))
        minute = current_minute(state, now)
        history = entries_per_minute(state, sid, minute, 30)
        filt = f" │ filter: {self.name_filter}" if self.name_filter else ""
        follow = f" │ following {self.cta_app.follow_train}" if self.cta_app.follow_train else ""
        entries = "no count yet" if count is None else f"{count:,} entries"
        text = f"{state.station_name(sid)}: {entries}, {trains} train(s) here, entries/min ↓{filt}{follow}"
        detail.show(text, history, (self.line, sid, self.name_filter, self.cta_app.follow_train))

    # ------------------------------------------------------------------ events

    @on(Tabs.TabActivated)
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab.id and event.tab.id.startswith("line-"):
            self.line = event.tab.id.removeprefix("line-")
            self.highlighted_station = None
            self.cta_app.mark_dirty()

    @on(LineStrip.StationHighlighted)
    def _station_highlighted(self, event: LineStrip.StationHighlighted) -> None:
        self.highlighted_station = event.station_id
        self.cta_app.mark_dirty()

    @on(LineStrip.StationChosen)
    def _station_chosen(self, event: LineStrip.StationChosen) -> None:
        self.cta_app.open_station(event.station_id)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.name_filter = event.value
        self.cta_app.mark_dirty()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one(LineStrip).focus()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        self.set_focus(box)

    def on_key(self, event: events.Key) -> None:
        route_to_box(
            self,
            event,
            self.query_one("#filter", Input),
            open_key="slash",
            open_box=self.action_filter,
            submit=self._filter_submitted,
        )

    def action_clear_filter(self) -> None:
        """Escape: clear the station filter and stop following a train; with neither,
        back to the network screen."""
        if not self.name_filter and self.cta_app.follow_train is None:
            self.cta_app.action_do("home")
            return
        self.cta_app.follow_train = None
        self._followed_at = None
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.name_filter = ""
        self.query_one(LineStrip).focus()
        self.cta_app.mark_dirty()

    def action_show_line(self, line: str) -> None:
        self.query_one(Tabs).active = f"line-{line}"

    def show_station(self, line: str, station_id: int) -> None:
        """Switch to ``line`` and highlight ``station_id`` (used to follow a train)."""
        self.action_show_line(line)
        self.line = line
        self.cta_app.render_now()
        self.query_one(LineStrip).highlight_station(station_id)
