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

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

Cell = str | Text
#: a row: its key (None: no key) and its cells
Row = tuple[str | None, Sequence[Cell]]


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
                        self.update_cell_at(Coordinate(y, x), rows[y][1][x], update_width=True)
            return
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)

    def forget_rows(self) -> None:
        """The next :meth:`set_rows` refills (after the table was changed another way)."""
        self._shown = None


_shown: WeakKeyDictionary[Static, Any] = WeakKeyDictionary()
_NOTHING = object()


def set_content(widget: Static, content: str | Text) -> None:
    """``widget.update(content)`` unless it shows that already."""
    sig = signature(content)
    if _shown.get(widget, _NOTHING) == sig:
        return
    _shown[widget] = sig
    widget.update(content)
