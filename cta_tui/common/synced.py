"""Widgets that change only what changed: a redraw with the same content does nothing.

The app redraws the visible screen ~7 times a second; a DataTable cleared and refilled,
or a Static updated with the same text, repaints every line of it each time.
:class:`SyncedTable` keeps the rows it shows and, given the rows wanted, does nothing when
they are the same, updates the changed cells when the rows are the same ones (same keys,
same order), and refills only when the rows themselves changed. :func:`set_content` does
the same for a Static.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary

from rich.cells import cell_len as rich_cell_len
from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

Cell = str | Text
#: a row: its key (None: no key) and its cells
Row = tuple[str | None, Sequence[Cell]]


def cell_len(cell: Any) -> int:
    """The width of a one-line cell in terminal cells."""
    if isinstance(cell, Text):
        return cell.cell_len
    return rich_cell_len(str(cell))


def signature(cell: Any) -> Any:
    """What a cell shows: its text and styles (two Texts built alike compare equal)."""
    if isinstance(cell, Text):
        return (cell.plain, str(cell.style), tuple(cell.spans))
    return cell


class SyncedTable(DataTable[Cell]):
    """A DataTable filled with :meth:`set_rows`; subclasses add their columns in
    :meth:`_ensure_columns`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple[tuple[str | None, tuple[Any, ...]], ...] | None = None

    def _ensure_columns(self) -> None:
        """Add the columns (once); the default adds none."""

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Show ``rows``: nothing when they are shown already; the changed cells when the
        same rows are; else the table refilled."""
        self._ensure_columns()
        wanted = tuple((key, tuple(signature(c) for c in cells)) for key, cells in rows)
        old = self._shown
        if wanted == old:
            return
        self._shown = wanted
        if old is not None and [k for k, _ in old] == [k for k, _ in wanted]:
            for y, ((_, before), (_, after)) in enumerate(zip(old, wanted, strict=True)):
                for x, (a, b) in enumerate(zip(before, after, strict=True)):
                    if a != b:
                        self._replace_cell(y, x, rows[y][1][x])
            return
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)

    def _replace_cell(self, y: int, x: int, value: Cell) -> None:
        """Put ``value`` in cell (y, x) and repaint that row only.

        ``update_cell_at`` repaints the whole table and, with ``update_width``, measures the
        column again and lays the screen out again; a column's width changes only when the
        new cell is wider than it, or its widest cell gets narrower: then that path runs.
        """
        row_key, column_key = self.coordinate_to_cell_key(Coordinate(y, x))
        column = self.columns[column_key]
        old = cell_len(self._data[row_key][column_key])
        new = cell_len(value)
        if new > column.content_width or (new < old and old >= column.content_width):
            self.update_cell_at(Coordinate(y, x), value, update_width=True)
            return
        self._data[row_key][column_key] = value
        self._update_count += 1  # the row caches are keyed by it: the changed row renders again
        self.refresh_row(y)

    def forget_rows(self) -> None:
        """The next :meth:`set_rows` refills (after the table was changed another way)."""
        self._shown = None


_shown: WeakKeyDictionary[Static, Any] = WeakKeyDictionary()
_NOTHING = object()


def _extent(content: str | Text) -> tuple[int, int]:
    """The widest line and the number of lines of ``content``."""
    plain = content.plain if isinstance(content, Text) else content
    lines = plain.split("\n")
    return max(rich_cell_len(line) for line in lines), len(lines)


def set_content(widget: Static, content: str | Text) -> None:
    """``widget.update(content)`` unless it shows that already; the screen is laid out
    again only when the content's extent changed or it may wrap (a clock, a count whose
    digits stay as many, repaint the widget alone)."""
    sig = signature(content)
    before = _shown.get(widget, _NOTHING)
    if before is not _NOTHING and before[0] == sig:
        return
    extent = _extent(content)
    _shown[widget] = (sig, extent)
    fits = extent[0] <= widget.content_size.width
    widget.update(content, layout=before is _NOTHING or before[1] != extent or not fits)
