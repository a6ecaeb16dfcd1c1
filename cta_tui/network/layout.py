"""Laying the eight line panels out on a screen, and a line's stations along its strip.

Pure geometry (no Textual): which panel style fits a width and height, how many rows
each panel takes, and at which column of which strip row each station sits. The
widgets turn this into text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Panel styles, richest first. ``title``: a row with the line's name, terminals and
#: figures (else only a short label left of the strip, no figures); ``labels``: a row of
#: station names under each strip row; ``gap``: a blank row after the panel.
TIERS: tuple[tuple[str, bool, bool, bool], ...] = (
    ("roomy", True, True, True),
    ("labelled", True, True, False),
    ("titled", True, False, False),
    ("dense", False, False, False),
)

#: Width of the short line label left of the strip in the dense style ("1 Red ").
LABEL_WIDTH = 6
#: Columns kept free left and right of the strip in the titled styles.
MARGIN = 1


@dataclass(frozen=True)
class PanelLayout:
    """How every panel is drawn: the style, each panel's height, the strip's columns."""

    tier: str
    title: bool
    labels: bool
    gap: bool
    heights: tuple[int, ...]
    strip_x: int
    strip_width: int

    @property
    def total_height(self) -> int:
        return sum(self.heights)


def panel_height(track_rows: int, title: bool, labels: bool, gap: bool) -> int:
    """Rows of one panel whose strip has ``track_rows`` rows (Green: 2, one per branch)."""
    return track_rows * (2 if labels else 1) + (1 if title else 0) + (1 if gap else 0)


def layout_panels(width: int, height: int, track_rows: list[int]) -> PanelLayout:
    """The richest style in which the panels (one per entry of ``track_rows``) fit
    ``height`` rows; the dense one when none does (the panels are then cut)."""
    width = max(width, LABEL_WIDTH + 8)
    chosen = TIERS[-1]
    for tier in TIERS:
        _, title, labels, gap = tier
        if sum(panel_height(n, title, labels, gap) for n in track_rows) <= height:
            chosen = tier
            break
    name, title, labels, gap = chosen
    heights = tuple(panel_height(n, title, labels, gap) for n in track_rows)
    strip_x = MARGIN if title else LABEL_WIDTH
    return PanelLayout(name, title, labels, gap, heights, strip_x, width - strip_x - MARGIN)


@dataclass(eq=False)  # compared (and hashed) by identity: the panels cache per geometry
class StripGeometry:
    """Where a line's stations sit: ``rows[r]`` lists (station, column) left to right;
    ``at[station] = (row, column)``. Row 0 is the trunk (and the first branch); each
    further branch gets a row of its own, starting under the junction."""

    width: int
    rows: list[list[tuple[int, int]]] = field(default_factory=list)
    at: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: per row > 0, the column of the junction with the trunk
    junctions: dict[int, int] = field(default_factory=dict)


def strip_geometry(paths: dict[str | None, list[int]], width: int) -> StripGeometry:
    """Spread the stations of ``paths`` (from :func:`motion.line_paths`) evenly across
    ``width`` columns; branches share the columns after the trunk."""
    geometry = StripGeometry(width)
    sequences = list(paths.values())
    if not sequences or width < 1:
        return geometry
    first = sequences[0]
    trunk_len = len(first)
    if len(sequences) > 1:
        # the shared prefix of every branch's path is the trunk
        trunk_len = 0
        while all(len(p) > trunk_len and p[trunk_len] == first[trunk_len] for p in sequences):
            trunk_len += 1
    slots = max(len(p) for p in sequences)

    def column(slot: int) -> int:
        return 0 if slots <= 1 else round(slot * (width - 1) / (slots - 1))

    for r, path in enumerate(sequences):
        row: list[tuple[int, int]] = []
        for slot, station_id in enumerate(path):
            if r > 0 and slot < trunk_len:
                continue
            x = column(slot)
            row.append((station_id, x))
            geometry.at.setdefault(station_id, (r, x))
        if r > 0 and trunk_len:
            geometry.junctions[r] = column(trunk_len - 1)
        geometry.rows.append(row)
    return geometry


def train_cell(
    geometry: StripGeometry, station_id: int, next_id: int | None, fraction: float
) -> tuple[int, int]:
    """The (row, column) of a train that left ``station_id`` and has gone ``fraction``
    of the way to ``next_id``; on a branch row when either end is on one."""
    row, x0 = geometry.at.get(station_id, (0, 0))
    if next_id is None or fraction <= 0 or next_id not in geometry.at:
        return row, x0
    row1, x1 = geometry.at[next_id]
    return max(row, row1), round(x0 + fraction * (x1 - x0))
