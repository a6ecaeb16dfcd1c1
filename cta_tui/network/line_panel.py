"""One line of the network screen: a schematic strip with its trains travelling along it.

The text is built by :func:`panel_text` from pure inputs; :class:`LinePanel` only
re-renders when the key of what it shows changed (a panel whose trains did not move
to another cell costs nothing), and never changes its own size (no layout pass).
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from cta_tui.common.glyphs import (
    BROKEN,
    JUNCTION,
    LINE_COLOURS,
    LOOP_TRACK,
    MOVING,
    MOVING_LATE,
    STATION,
    TRACK,
    line_style,
)
from cta_tui.network.layout import PanelLayout, StripGeometry, train_cell
from cta_tui.state.labels import place_labels, short_label
from cta_tui.state.model import DOWN
from cta_tui.state.motion import Position, is_delayed
from cta_tui.state.network_view import LineFigures

SHORT_NAMES = {
    "red": "Red",
    "blue": "Blue",
    "green": "Grn",
    "brown": "Brn",
    "purple": "Purp",
    "yellow": "Yel",
    "pink": "Pink",
    "orange": "Org",
}

TRAIN_STYLE = "bold"
DELAYED_STYLE = "bold yellow"
BROKEN_STYLE = "bold red"

#: A train drawn in a cell: (glyph, priority, style). Broken beats delayed beats moving.
Cell = tuple[str, int, str]


@dataclass(frozen=True)
class PanelInput:
    """Everything a panel draws (the screen builds it, the panel keys on it)."""

    index: int
    line: str
    names: dict[int, str]
    loop_ids: frozenset[int]
    terminals: tuple[str, ...]
    figures: LineFigures | None


def figures_text(figures: LineFigures | None, room: int) -> str:
    """The panel's figures, as long as ``room`` allows."""
    if figures is None:
        return ""
    entries = "—" if figures.entries_hour is None else f"{figures.entries_hour:,}"
    short_entries = "—" if figures.entries_hour is None else _kilo(figures.entries_hour)
    options = [
        f"{figures.trains} trains · {figures.delayed} delayed · {figures.broken} broken down · {entries} entries/h",
        f"{figures.trains} trains · {figures.delayed} late · {figures.broken} down · {short_entries}/h",
        f"{figures.trains}tr {figures.delayed}▷ {figures.broken}✖ {short_entries}/h",
    ]
    return next((o for o in options if len(o) <= room), "")


def _kilo(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def train_cells(geometry: StripGeometry, positions: list[Position]) -> dict[tuple[int, int], Cell]:
    """Which glyph each occupied (row, column) shows."""
    cells: dict[tuple[int, int], Cell] = {}
    for p in positions:
        train = p.train
        heading = DOWN if train.heading == DOWN else "up"
        if train.broken:
            cell: Cell = (BROKEN, 3, BROKEN_STYLE)
        elif is_delayed(train):
            cell = (MOVING_LATE[heading], 2, DELAYED_STYLE)
        else:
            cell = (MOVING[heading], 1, TRAIN_STYLE)
        where = train_cell(geometry, p.station_id, p.next_id, p.fraction)
        old = cells.get(where)
        if old is None or cell[1] > old[1]:
            cells[where] = cell
    return cells


#: parsed styles by name (parsing a style per segment per redraw was a hot spot)
_STYLES: dict[str, Style] = {}


def _style(name: str) -> Style:
    style = _STYLES.get(name)
    if style is None:
        style = _STYLES[name] = Style.parse(name)
    return style


def _track_row(
    geometry: StripGeometry,
    row: int,
    cells: dict[tuple[int, int], Cell],
    loop_ids: frozenset[int],
    colour: str,
) -> list[Segment]:
    width = geometry.width
    chars = [" "] * width
    styles = [colour] * width
    stations = geometry.rows[row]
    if stations:
        start = geometry.junctions.get(row, stations[0][1])
        for x in range(start, stations[-1][1] + 1):
            chars[x] = TRACK
        if row in geometry.junctions:
            chars[start] = JUNCTION
        for (a, xa), (b, xb) in itertools.pairwise(stations):
            if a in loop_ids and b in loop_ids:
                for x in range(xa, xb + 1):
                    chars[x] = LOOP_TRACK
        for _sid, x in stations:
            chars[x] = STATION
    for (r, x), (glyph, _, style) in cells.items():
        if r == row and 0 <= x < width:
            chars[x] = glyph
            styles[x] = style
    segments: list[Segment] = []
    run_style, run = styles[0], [chars[0]]
    for ch, st in zip(chars[1:], styles[1:], strict=True):
        if st == run_style:
            run.append(ch)
        else:
            segments.append(Segment("".join(run), _style(run_style)))
            run_style, run = st, [ch]
    segments.append(Segment("".join(run), _style(run_style)))
    return segments


#: label rows per geometry (they change only with the stations or the width)
_LABEL_ROWS: weakref.WeakKeyDictionary[StripGeometry, dict[int, Text]] = weakref.WeakKeyDictionary()


def _labels_row(geometry: StripGeometry, row: int, names: dict[int, str], loop_ids: frozenset[int]) -> Text:
    cached = _LABEL_ROWS.setdefault(geometry, {})
    if row not in cached:
        cached[row] = _build_labels_row(geometry, row, names, loop_ids)
    return cached[row]


def _build_labels_row(
    geometry: StripGeometry, row: int, names: dict[int, str], loop_ids: frozenset[int]
) -> Text:
    stations = geometry.rows[row]
    items: list[tuple[int, str, int]] = []
    loop_xs = [x for sid, x in stations if sid in loop_ids]
    if len(loop_xs) < 2:  # Blue and Red only pass one Loop station (in the subway)
        loop_xs = []
        loop_ids = frozenset()
    if loop_xs:
        items.append(((min(loop_xs) + max(loop_xs)) // 2, "Loop", 3))
    for i, (sid, x) in enumerate(stations):
        if sid in loop_ids:
            continue
        terminal = (i == 0 and row == 0) or i == len(stations) - 1
        items.append((x, short_label(names.get(sid, str(sid))), 2 if terminal else 1))
    line = [" "] * geometry.width
    for start, label in place_labels(items, geometry.width):
        line[start : start + len(label)] = label
    return Text("".join(line), style="dim")


def _title(panel: PanelInput, width: int) -> Text:
    colour = LINE_COLOURS.get(panel.line, "white")
    title = Text(f" {panel.index} {panel.line.title()} ", style=f"bold reverse {colour}")
    ends = " ⇄ ".join(panel.terminals)
    room = width - title.cell_len - 1
    figures = figures_text(panel.figures, room - len(ends) - 3)
    if not figures:  # no room for both: the figures first
        ends, figures = "", figures_text(panel.figures, room - 2)
    if ends:
        title.append(f" {ends}", style=line_style(panel.line))
    if figures:
        title.append(" " * max(1, width - title.cell_len - len(figures) - 1))
        title.append(figures)
    return title


def _to_strip(text: Text, width: int, console: Console) -> Strip:
    text.truncate(width, pad=True)
    return Strip(list(text.render(console)), width)


def panel_strips(
    panel: PanelInput,
    layout: PanelLayout,
    geometry: StripGeometry,
    cells: dict[tuple[int, int], Cell],
    width: int,
    console: Console,
) -> list[Strip]:
    """All rows of one panel, each exactly ``width`` cells (nothing spills at the edge).
    Only the track rows are built on every call; titles and labels come from caches."""
    colour = LINE_COLOURS.get(panel.line, "white")
    rows: list[Strip] = []
    if layout.title:
        key = (panel.index, panel.terminals, panel.figures, width)
        title = _TITLES.get(key)
        if title is None:
            if len(_TITLES) > 256:
                _TITLES.clear()
            title = _TITLES[key] = _to_strip(_title(panel, width), width, console)
        rows.append(title)
    margin = Segment(" " * layout.strip_x)
    for r in range(len(geometry.rows)):
        if layout.title:
            head = margin
        else:
            label = f"{panel.index} {SHORT_NAMES.get(panel.line, panel.line)}" if r == 0 else ""
            head = Segment(label[: layout.strip_x - 1].ljust(layout.strip_x), _style(line_style(panel.line)))
        track = _track_row(geometry, r, cells, panel.loop_ids, colour)
        strip = Strip([head, *track], layout.strip_x + geometry.width)
        rows.append(strip.extend_cell_length(width).crop(0, width))
        if layout.labels:
            labels = Text(" " * layout.strip_x) + _labels_row(geometry, r, panel.names, panel.loop_ids)
            cache = _LABEL_STRIPS.setdefault(geometry, {})
            if r not in cache:
                cache[r] = _to_strip(labels, width, console)
            rows.append(cache[r])
    if layout.gap:
        rows.append(Strip.blank(width))
    return rows


#: title rows by what they show; label rows per geometry
_TITLES: dict[object, Strip] = {}
_LABEL_STRIPS: weakref.WeakKeyDictionary[StripGeometry, dict[int, Strip]] = weakref.WeakKeyDictionary()


class LinePanel(Widget):
    """A panel; a click posts :class:`LinePanel.Chosen` (the screen opens the line view).

    Drawn through the line API: each row is kept as a :class:`Strip` and only the rows
    whose text changed are converted and repainted (usually one: the track)."""

    DEFAULT_CSS = """
    LinePanel { height: 2; width: 1fr; }
    """

    @dataclass
    class Chosen(Message):
        line: str

    def __init__(self, line: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.line = line
        self._strips: list[Strip] = []
        self._key: object = None
        self.renders = 0

    def render_line(self, y: int) -> Strip:
        return self._strips[y] if y < len(self._strips) else Strip.blank(self.size.width)

    def needs(self, key: object) -> bool:
        return key != self._key

    def show(self, key: object, rows: list[Strip]) -> None:
        """Show ``rows`` (built for ``key``); repaints only the rows that changed."""
        self._key = key
        self.renders += 1
        width = self.size.width
        for y, strip in enumerate(rows):
            if y < len(self._strips) and self._strips[y] == strip:
                continue
            if y < len(self._strips):
                self._strips[y] = strip
            else:
                self._strips.append(strip)
            self.refresh(Region(0, y, max(width, strip.cell_length), 1))
        del self._strips[len(rows) :]

    def row_text(self, y: int) -> str:
        """The plain text of row ``y`` (for tests and screen readers)."""
        return self._strips[y].text if y < len(self._strips) else ""

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Chosen(self.line))
