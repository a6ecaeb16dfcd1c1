"""A line's stations in order, one row each: trains heading up (▲), the station,
trains heading down (▼), the turnstile count and a mini entries-per-minute sparkline."""

from __future__ import annotations

from dataclasses import dataclass
from time import monotonic

from rich.text import Text
from textual.message import Message
from textual.visual import VisualType
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from cta_tui.common.glyphs import line_style, mini_spark, train_glyphs
from cta_tui.line.view import StationRow
from cta_tui.state.model import DOWN, UP, Train

GLYPH_WIDTH = 4
NAME_WIDTH = 26
#: a row whose trains are unchanged shows a new count or sparkline at most this often
#: (seconds): at --speed 60 counts tick several times a second, faster than anyone reads
COUNT_PERIOD = 1.0
#: a row's trains move at most this often (seconds): each move repaints the row
MOTION_PERIOD = 0.5
#: how many leading fields of :meth:`LineStrip._row_key` describe the row's trains
TRAIN_FIELDS = 6


class LineStrip(OptionList):
    """Selecting a row (enter or click) posts :class:`LineStrip.StationChosen`."""

    DEFAULT_CSS = """
    LineStrip { height: 1fr; border: none; padding: 0; }
    """

    @dataclass
    class StationChosen(Message):
        station_id: int

    @dataclass
    class StationHighlighted(Message):
        station_id: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._ids: list[str] = []
        self._prompts: dict[str, object] = {}
        self._row_cache: dict[str, tuple[tuple[object, ...], Text]] = {}
        self.line = ""
        self.follow: str | None = None
        self._counts_shown = 0.0
        self._counts_due = True
        self._motion_shown = 0.0
        self._motion_due = True

    @staticmethod
    def header() -> Text:
        """Column titles matching :meth:`row_text` (OptionList has no header of its own)."""
        text = Text(style="dim")
        text.append("▲ up".ljust(GLYPH_WIDTH + 1))
        text.append("station".ljust(NAME_WIDTH + 1))
        text.append("▼ dn".ljust(GLYPH_WIDTH))
        text.append(f" {'entries':>9} ")
        text.append("▁▃▅ per min")  # the sparkline, apart from the count beside it
        return text

    @staticmethod
    def row_text(row: StationRow, follow: str | None) -> Text:
        text = Text()
        text.append_text(train_glyphs(row.up_at, row.up_gone, UP, GLYPH_WIDTH, follow, row.delayed))
        text.append(" ")
        name = row.station.name
        marks = " ⟲" if row.station.loop else ""
        label = (name[: NAME_WIDTH - len(marks) - 1] + "…") if len(name) + len(marks) > NAME_WIDTH else name
        text.append(f"{label}{marks}".ljust(NAME_WIDTH))
        text.append(" ")
        text.append_text(train_glyphs(row.down_at, row.down_gone, DOWN, GLYPH_WIDTH, follow, row.delayed))
        count = "—" if row.count is None else f"{row.count:,}"
        text.append(f" {count:>9} ", style="dim" if row.count is None else "")
        text.append(mini_spark(row.history), style="dim")
        return text

    @staticmethod
    def _row_key(row: StationRow, follow: str | None) -> tuple[object, ...]:
        """What a row's text depends on (its trains by id and state, delayed by the
        predictions included, count, history)."""
        delayed = row.delayed

        def ids(trains: list[Train]) -> tuple[tuple[str, bool, bool, bool], ...]:
            return tuple(
                sorted((t.train_id, t.broken, t.train_id == follow, t.train_id in delayed) for t in trains)
            )

        return (
            row.station.name,
            row.station.loop,
            ids(row.up_at),
            ids(row.up_gone),
            ids(row.down_at),
            ids(row.down_gone),
            row.count,
            tuple(row.history),
        )

    def _cached_row_text(self, option_id: str, row: StationRow, follow: str | None) -> Text:
        """A row's text, rebuilt only when what it shows changed (most rows, most redraws)."""
        key = self._row_key(row, follow)
        cached = self._row_cache.get(option_id)
        if cached is not None:
            same_trains = cached[0][:TRAIN_FIELDS] == key[:TRAIN_FIELDS]
            due = self._counts_due if same_trains else self._motion_due
            if not due or cached[0] == key:
                return cached[1]
        text = self.row_text(row, follow)
        self._row_cache[option_id] = (key, text)
        return text

    def show(self, line: str, rows: list[StationRow], follow: str | None = None) -> None:
        """Replace the rows; keeps the highlighted station when it is still shown."""
        options: list[Option] = []
        ids: list[str] = []
        self._throttle(line, follow)
        for row in rows:
            if row.branch_start:
                options.append(
                    Option(Text(f"── {row.branch_start} branch ──", style=line_style(line)), disabled=True)
                )
                ids.append(f"branch-{row.branch_start}")
            option_id = f"s{row.station.station_id}-{len(ids)}"
            options.append(Option(self._cached_row_text(option_id, row, follow), id=option_id))
            ids.append(option_id)
        if ids == self._ids and line == self.line:
            # only rows whose text changed: a replaced prompt costs a re-measure
            for option in options:
                shown = self._prompts.get(option.id) if option.id else None
                if (
                    option.id
                    and not option.disabled
                    and shown is not option.prompt
                    and shown != option.prompt
                ):
                    self._prompts[option.id] = option.prompt
                    self._replace_row(option.id, option.prompt)
            return
        self._prompts = {o.id: o.prompt for o in options if o.id}
        self._row_cache = {k: v for k, v in self._row_cache.items() if k in self._prompts}
        previous = self.highlighted_option
        keep = previous.id.split("-")[0] if previous is not None and previous.id else None
        self.line = line
        self._ids = ids
        self.set_options(options)
        target = None
        if keep is not None:
            target = next((i for i, oid in enumerate(ids) if oid.split("-")[0] == keep), None)
        if target is None:
            target = next((i for i, o in enumerate(options) if not o.disabled), None)
        self.highlighted = target

    def _throttle(self, line: str, follow: str | None) -> None:
        """Whether this redraw shows new counts and moved trains: at most every
        :data:`COUNT_PERIOD` and :data:`MOTION_PERIOD`; at once for a new line or followed train."""
        now = monotonic()
        fresh = line != self.line or follow != self.follow
        self.follow = follow
        self._counts_due = fresh or now - self._counts_shown >= COUNT_PERIOD
        self._motion_due = fresh or now - self._motion_shown >= MOTION_PERIOD
        if self._counts_due:
            self._counts_shown = now
        if self._motion_due:
            self._motion_shown = now

    def _replace_row(self, option_id: str, prompt: VisualType) -> None:
        """Replace one row's text and repaint that row only.

        ``replace_option_prompt`` clears the render cache of *every* option, so each
        redraw re-rendered the whole strip (most of the line view's CPU). Rows are one
        line each, so the line layout stays; dropping this option's cached renders and
        refreshing its line suffices. Uses OptionList internals of the pinned Textual
        (8.2.8); falls back to the public call if they change."""
        index = self.get_option_index(option_id)
        option = self.get_option_at_index(index)
        cache = getattr(self, "_option_render_cache", None)
        lines = getattr(getattr(self, "_line_cache", None), "index_to_line", None)
        if cache is None or not isinstance(lines, dict | list) or not hasattr(option, "_set_prompt"):
            self.replace_option_prompt(option_id, prompt)
            return
        option._set_prompt(prompt)
        for key in [k for k in cache.keys() if k[0] is option]:  # noqa: SIM118 (an LRUCache)
            cache.discard(key)
        try:
            line = lines[index]
        except (IndexError, KeyError):
            self.refresh()
            return
        self.refresh_line(line)

    def highlight_station(self, station_id: int) -> None:
        for index, option_id in enumerate(self._ids):
            if option_id.split("-")[0] == f"s{station_id}":
                self.highlighted = index
                return

    @staticmethod
    def station_of(option: Option) -> int | None:
        if option.id and option.id.startswith("s"):
            return int(option.id[1:].split("-")[0])
        return None

    def _on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        station_id = self.station_of(event.option)
        if station_id is not None:
            event.stop()
            self.post_message(self.StationChosen(station_id))

    def _on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        station_id = self.station_of(event.option)
        if station_id is not None:
            self.post_message(self.StationHighlighted(station_id))
