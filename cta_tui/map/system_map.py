"""The system map: every line drawn from its stations' coordinates, trains as dots.

Drawn on textual-canvas's :class:`Canvas` (half-block cells: two pixels per cell, each
with its own colour, so crossing lines keep their colours), with station and terminal
names laid over the pixels. The lines are drawn once per size and zoom; a redraw
only happens when a train's dot moved to another pixel.
"""

from __future__ import annotations

import itertools
import time

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.color import Color
from textual.geometry import Region
from textual.strip import Strip
from textual_canvas import Canvas

from cta_tui.common.glyphs import LINE_COLOURS
from cta_tui.map.geo import (
    Geography,
    Projection,
    fit,
    geography,
    loop_bounds,
    position_latlon,
    system_bounds,
)
from cta_tui.state.labels import place_labels, short_label
from cta_tui.state.model import LINE_ORDER, LOOP_STATION_IDS
from cta_tui.state.motion import Position, is_delayed

TRAIN_COLOUR = Color(255, 255, 255)
DELAYED_COLOUR = Color(255, 215, 0)
BROKEN_COLOUR = Color(255, 40, 40)
LABEL_STYLE = Style(color="grey85", bgcolor="grey15")
LOOP_LABEL_STYLE = Style(color="white", bgcolor="grey23", bold=True)

#: trains' dots move at most this often (seconds): smooth enough for the eye, and each
#: move repaints the cell rows it touches
MOTION_PERIOD = 0.5

#: A dot: (x, y, colour).
Dot = tuple[int, int, Color]


class SystemMap(Canvas):
    """``zoomed`` shows the Loop and the stations around it, named."""

    DEFAULT_CSS = """
    SystemMap { width: 1fr; height: 1fr; scrollbar-size: 0 0; overflow: hidden hidden; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(1, 2, id=id)
        self.can_focus = False
        self.geo: Geography = geography()
        self.zoomed = False
        self._projection: Projection | None = None
        self._labels: dict[int, list[tuple[int, str, Style]]] = {}
        self._dots: tuple[Dot, ...] | None = None
        self._base: list[tuple[Color, list[tuple[int, int, int, int]]]] = []
        self._base_grid: list[list[Color | None]] = []
        self.draws = 0
        self._drawn_at = 0.0

    # ------------------------------------------------------------------ geometry

    def on_resize(self, _event: events.Resize) -> None:
        self._projection = None
        self._dots = None

    def set_zoom(self, zoomed: bool) -> None:
        self.zoomed = zoomed
        self._projection = None
        self._dots = None

    def _prepare(self) -> Projection:
        width, height = max(1, self.size.width), max(2, self.size.height * 2)
        bounds = loop_bounds(self.geo) if self.zoomed else system_bounds(self.geo)
        projection = fit(bounds, width, height)
        self._projection = projection
        self._base = []
        for line in LINE_ORDER:
            colour = Color.parse(LINE_COLOURS[line])
            segments = []
            for path in self.geo.paths.get(line, {}).values():
                points = [projection.raw(*self.geo.coords[(line, sid)]) for sid in path]
                segments += [(a[0], a[1], b[0], b[1]) for a, b in itertools.pairwise(points)]
            self._base.append((colour, segments))
        self._labels = self._place_labels(projection)
        with self.batch_refresh():
            self.clear(width=width, height=height)
            for colour, segments in self._base:
                for x0, y0, x1, y1 in segments:
                    self.draw_line(x0, y0, x1, y1, colour)
        # the lines' pixels, copied under the dots on each redraw (textual-canvas keeps
        # its pixels in ``_canvas``, a list of rows; pinned at 1.1.0)
        self._base_grid = [row[:] for row in self._canvas]
        return projection

    def _place_labels(self, projection: Projection) -> dict[int, list[tuple[int, str, Style]]]:
        """Names over the map: terminals and the Loop on the full map; every station in
        view when zoomed. Each row's labels are kept apart (:func:`place_labels`)."""
        wanted: dict[int, list[tuple[int, str, int]]] = {}
        styles: dict[str, Style] = {}
        if self.zoomed:
            for sid, name in self.geo.names.items():
                where = self.geo.where("", sid)
                p = projection.pixel(*where) if where else None
                if p is None:
                    continue
                text = short_label(name, 16)
                priority = 2 if sid in LOOP_STATION_IDS else 1
                wanted.setdefault(p[1] // 2, []).append((p[0] + 1 + len(text) // 2, text, priority))
        else:
            ends: set[int] = set()
            for branches in self.geo.paths.values():
                for path in branches.values():
                    for sid in (path[0], path[-1]):
                        if sid not in LOOP_STATION_IDS:
                            ends.add(sid)
            for sid in ends:
                where = self.geo.where("", sid)
                p = projection.pixel(*where) if where else None
                if p is not None:
                    text = short_label(self.geo.names[sid], 14)
                    wanted.setdefault(p[1] // 2, []).append((p[0] + 1 + len(text) // 2, text, 1))
            loop = [
                projection.pixel(*c) for (_, sid), c in self.geo.coords.items() if sid in LOOP_STATION_IDS
            ]
            xs = [p for p in loop if p is not None]
            if xs:
                x, y = max(p[0] for p in xs), sum(p[1] for p in xs) // len(xs)
                styles["Loop"] = LOOP_LABEL_STYLE
                wanted.setdefault(y // 2, []).append((x + 4, "Loop", 3))
        out: dict[int, list[tuple[int, str, Style]]] = {}
        for row, items in wanted.items():
            out[row] = [(x, t, styles.get(t, LABEL_STYLE)) for x, t in place_labels(items, projection.width)]
        return out

    # ------------------------------------------------------------------ drawing

    def show(self, positions: dict[str, list[Position]]) -> bool:
        """Draw the trains at ``positions`` (per line); False when nothing moved or
        the last move was under :data:`MOTION_PERIOD` ago (a new size or zoom draws at once)."""
        now = time.monotonic()
        if self._projection is not None and now - self._drawn_at < MOTION_PERIOD:
            return False
        projection = self._projection or self._prepare()
        dots: list[Dot] = []
        for line, items in positions.items():
            for p in items:
                where = position_latlon(self.geo, line, p)
                pixel = projection.pixel(*where) if where is not None else None
                if pixel is None:
                    continue
                train = p.train
                colour = (
                    BROKEN_COLOUR if train.broken else DELAYED_COLOUR if is_delayed(train) else TRAIN_COLOUR
                )
                dots.append((pixel[0], pixel[1], colour))
        key = tuple(sorted(dots, key=lambda d: (d[0], d[1], d[2].rgb)))
        if key == self._dots:
            return False
        old = self._dots
        self._dots = key
        self._drawn_at = now
        self.draws += 1
        grid = [row[:] for row in self._base_grid]
        for x, y, colour in key:
            grid[y][x] = colour
        self._canvas = grid
        if old is None:
            self.refresh()
        else:  # only the cell rows where a dot appeared or went
            changed = set(old).symmetric_difference(key)
            for row in sorted({y // 2 for _, y, _ in changed}):
                self.refresh(Region(0, row - self.scroll_offset.y, self.size.width, 1))
        return True

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        labels = self._labels.get(y + self.scroll_offset.y)
        if not labels:
            return strip
        width = strip.cell_length
        pieces: list[Strip] = []
        at = 0
        for x, text, style in labels:
            if x >= width:
                break
            text = text[: width - x]
            if x > at:
                pieces.append(strip.crop(at, x))
            pieces.append(Strip([Segment(text, style)], len(text)))
            at = x + len(text)
        if at < width:
            pieces.append(strip.crop(at, width))
        return Strip.join(pieces)
