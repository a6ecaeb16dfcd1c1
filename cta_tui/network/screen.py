"""The home screen: all eight lines as stacked panels with their trains travelling.

``1``-``8`` (or a click on a panel) opens that line's view, ``m`` the map. Panels are
laid out by :func:`layout_panels` for the terminal's size (re-laid out only on a
resize); each redraw recomputes the trains' cells and repaints only the panels whose
cells or figures changed.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.strip import Strip
from textual.widgets import Static

from cta_tui.common.footer import CtaFooter
from cta_tui.common.glyphs import BROKEN, LOOP_TRACK, MOVING, MOVING_LATE
from cta_tui.common.screen import CtaScreen
from cta_tui.common.status_bar import StatusBar
from cta_tui.network.layout import PanelLayout, StripGeometry, layout_panels, strip_geometry
from cta_tui.network.line_panel import LinePanel, PanelInput, panel_strips, train_cells
from cta_tui.state.model import LINE_ORDER, LOOP_STATION_IDS, DashboardState, Line
from cta_tui.state.motion import line_paths, line_positions, sim_clock_ms
from cta_tui.state.network_view import FiguresCache

LEGEND = f"{MOVING['up']}{MOVING['down']} train  {MOVING_LATE['up']}{MOVING_LATE['down']} delayed  {BROKEN} broken down  {LOOP_TRACK} Loop  ·  1-8 line  m map"


def terminals(line: Line, paths: dict[str | None, list[int]]) -> tuple[str, ...]:
    """The names at the strip's ends ("Loop" for a line that ends circling it)."""
    if not paths:
        return ()

    def name(sid: int) -> str:
        return "Loop" if sid in LOOP_STATION_IDS else line.stations[sid].name

    first = next(iter(paths.values()))
    ends: list[str] = []
    for path in paths.values():
        if path and name(path[-1]) not in ends:
            ends.append(name(path[-1]))
    return (name(first[0]), " / ".join(ends)) if first else ()


class NetworkScreen(CtaScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "app.do('map')", "Map"),
        *[
            Binding(str(i + 1), f"app.do('show_line', '{name}')", f"{name.title()} line", show=False)
            for i, name in enumerate(LINE_ORDER)
        ],
    ]

    def __init__(self, *, read_only: bool = False) -> None:
        super().__init__()
        self.read_only = read_only
        self._layout: PanelLayout | None = None
        #: the track rows ``_layout`` was made for
        self._layout_rows: list[int] = []
        self._geometry: dict[str, tuple[object, StripGeometry]] = {}
        self._state: DashboardState | None = None
        self._now = 0.0
        self._figures = FiguresCache()

    def compose(self) -> ComposeResult:
        yield StatusBar(read_only=self.read_only, id="status")
        with Vertical(id="panels"):
            for line in LINE_ORDER:
                yield LinePanel(line, id=f"panel-{line}")
            yield Static(Text(LEGEND, style="dim"), id="network-legend")
        yield CtaFooter()

    def on_resize(self, _event: events.Resize) -> None:
        self._layout = None
        if self._state is not None:
            self.show_state(self._state, self._now)

    # ------------------------------------------------------------------ rendering

    @staticmethod
    def _track_rows(paths: dict[str, dict[str | None, list[int]]]) -> list[int]:
        """Rows of track per panel: one per branch path (a line not loaded yet: one)."""
        return [max(1, len(paths[line])) if line in paths else 1 for line in LINE_ORDER]

    def _relayout(self, track_rows: list[int]) -> PanelLayout:
        panels = self.query_one("#panels")
        height = panels.size.height or self.size.height - 2
        width = panels.size.width or self.size.width
        layout = layout_panels(width, height, track_rows)
        self._layout_rows = track_rows
        for line, h in zip(LINE_ORDER, layout.heights, strict=True):
            self.query_one(f"#panel-{line}", LinePanel).styles.height = h
        spare = height - layout.total_height
        self.query_one("#network-legend").display = spare >= 1
        self._geometry.clear()
        return layout

    def show_state(self, state: DashboardState, now: float, note: str = "") -> None:
        self._state, self._now = state, now
        self.query_one(StatusBar).show(state, note)
        # each line's station paths once per redraw: layout, geometry and positions share them
        all_paths = {line: line_paths(obj) for line, obj in state.lines.items() if line in LINE_ORDER}
        track_rows = self._track_rows(all_paths)
        layout = self._layout
        if layout is None or track_rows != self._layout_rows:
            layout = self._layout = self._relayout(track_rows)
        width = layout.strip_x + layout.strip_width + 1
        sim_ms = sim_clock_ms(state, now)
        for i, line in enumerate(LINE_ORDER):
            panel = self.query_one(f"#panel-{line}", LinePanel)
            line_obj = state.lines.get(line)
            if line_obj is None:
                key: object = ("waiting", width, layout)
                if panel.needs(key):
                    panel.show(key, self._waiting_text(i + 1, line, layout, width))
                continue
            paths = all_paths[line]
            geometry = self._geometry_for(line, paths, layout)
            positions = line_positions(state, line, sim_ms, paths)
            figures = self._figures.get(state, line, now) if layout.title else None
            cells = train_cells(geometry, positions)
            key = (width, layout, id(geometry), tuple(sorted(cells.items())), figures)
            if panel.needs(key):
                names = {sid: s.name for sid, s in line_obj.stations.items()}
                data = PanelInput(i + 1, line, names, LOOP_STATION_IDS, terminals(line_obj, paths), figures)
                panel.show(key, panel_strips(data, layout, geometry, cells, width, self.app.console))

    def _geometry_for(
        self, line: str, paths: dict[str | None, list[int]], layout: PanelLayout
    ) -> StripGeometry:
        """Station columns, cached per line until its stations or the width change."""
        key = (layout.strip_width, tuple((k, tuple(v)) for k, v in paths.items()))
        cached = self._geometry.get(line)
        if cached is not None and cached[0] == key:
            return cached[1]
        geometry = strip_geometry(paths, layout.strip_width)
        self._geometry[line] = (key, geometry)
        return geometry

    def _waiting_text(self, index: int, line: str, layout: PanelLayout, width: int) -> list[Strip]:
        text = Text(f" {index} {line.title()} ", style="bold")
        text.append(" waiting for the stations table…", style="dim")
        text.truncate(width, pad=True)
        return [Strip(list(text.render(self.app.console)), width)]

    # ------------------------------------------------------------------ events

    @on(LinePanel.Chosen)
    def _panel_chosen(self, event: LinePanel.Chosen) -> None:
        self.cta_app.action_do("show_line", event.line)
