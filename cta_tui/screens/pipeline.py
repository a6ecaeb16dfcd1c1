"""The pipeline screen: services' health, Connect's trace when FAILED, and per-topic
freshness ("stale 12 s"), rates, malformed counts and this dashboard's lag."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from cta_tui.state.model import DashboardState
from cta_tui.widgets.pipeline_table import ServicesTable, TopicsTable
from cta_tui.widgets.status_bar import StatusBar


class PipelineScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, bootstrap: str, *, read_only: bool = False) -> None:
        super().__init__()
        self.bootstrap = bootstrap
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        yield StatusBar(read_only=self.read_only, id="status")
        yield Label("services")
        yield ServicesTable(id="services")
        yield Label("topics (this dashboard's consumer)")
        yield TopicsTable(id="topics")
        yield Static("", id="trace")
        yield Footer()

    def on_screen_resume(self) -> None:
        """Back on top (a screen above was closed): redraw at the next tick."""
        mark = getattr(self.app, "mark_dirty", None)
        if mark is not None:
            mark()

    def show_state(self, state: DashboardState, now: float, note: str = "") -> None:
        self.query_one(StatusBar).show(state, note)
        self.query_one(ServicesTable).show(state, self.bootstrap)
        self.query_one(TopicsTable).show(state, now)
        traces = [f"{s.name} trace:\n{s.trace}" for s in state.services.values() if s.trace]
        trace = self.query_one("#trace", Static)
        trace.update("\n".join(traces)[:2000])
        trace.display = bool(traces)
