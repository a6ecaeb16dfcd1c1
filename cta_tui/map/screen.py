"""The map (``m``): the system drawn from station coordinates, trains as moving dots.

``z`` zooms to the Loop (stations named) and back; escape returns to the screen below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Static

from cta_tui.common.footer import CtaFooter
from cta_tui.common.glyphs import LINE_COLOURS
from cta_tui.common.screen import CtaScreen
from cta_tui.common.status_bar import StatusBar
from cta_tui.map.system_map import SystemMap
from cta_tui.state.model import LINE_ORDER, DashboardState
from cta_tui.state.motion import line_positions, sim_clock_ms
from cta_tui.state.network_view import FiguresCache

if TYPE_CHECKING:
    pass


class MapScreen(CtaScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("z", "zoom", "Zoom"),
        Binding("escape", "app.pop_screen", "Back", show=False),
        *[
            Binding(str(i + 1), f"app.do('show_line', '{name}')", f"{name.title()} line", show=False)
            for i, name in enumerate(LINE_ORDER)
        ],
    ]

    def __init__(self, *, read_only: bool = False) -> None:
        super().__init__()
        self.read_only = read_only
        self._legend_key: object = None
        self._figures = FiguresCache()

    def compose(self) -> ComposeResult:
        yield StatusBar(read_only=self.read_only, id="status")
        with Horizontal(id="map-body"):
            yield SystemMap(id="map")
            yield Static(id="map-legend")
        yield CtaFooter()

    def on_resize(self) -> None:
        self.cta_app.mark_dirty()

    def action_zoom(self) -> None:
        system_map = self.query_one(SystemMap)
        system_map.set_zoom(not system_map.zoomed)
        self._legend_key = None
        self.cta_app.render_now()

    def show_state(self, state: DashboardState, now: float, note: str = "") -> None:
        self.query_one(StatusBar).show(state, note)
        sim_ms = sim_clock_ms(state, now)
        positions = {line: line_positions(state, line, sim_ms) for line in LINE_ORDER}
        system_map = self.query_one(SystemMap)
        if system_map.size.width:
            system_map.show(positions)
        counts = tuple(len(v) for v in positions.values())
        figures = tuple(self._figures.get(state, line, now) for line in LINE_ORDER)
        key = (counts, figures, system_map.zoomed)
        if key != self._legend_key:
            self._legend_key = key
            self.query_one("#map-legend", Static).update(self._legend(figures, system_map.zoomed))

    @staticmethod
    def _legend(figures: tuple, zoomed: bool) -> Text:
        text = Text()
        text.append("The Loop\n" if zoomed else "CTA 'L'\n", style="bold")
        for i, (line, f) in enumerate(zip(LINE_ORDER, figures, strict=True)):
            text.append("██", style=LINE_COLOURS[line])
            text.append(f" {i + 1} {line.title():<7}{f.trains:>3} trains")
            if f.broken:
                text.append(f" {f.broken}✖", style="bold red")
            text.append("\n")
        text.append("\n")
        text.append("▪", style="bold white")
        text.append(" train  ")
        text.append("▪", style="bold yellow")
        text.append(" delayed\n")
        text.append("▪", style="bold red")
        text.append(" broken down\n\n")
        text.append("z: " + ("whole system" if zoomed else "zoom to the Loop"), style="dim")
        return text
