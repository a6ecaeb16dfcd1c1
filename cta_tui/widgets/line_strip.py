"""A line's stations in order, one row each: trains heading up (▲), the station,
trains heading down (▼), the turnstile count and a mini entries-per-minute sparkline."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from cta_tui.state.model import DOWN, UP
from cta_tui.state.views import StationRow
from cta_tui.widgets.glyphs import line_style, mini_spark, train_glyphs

GLYPH_WIDTH = 4
NAME_WIDTH = 26


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
        self.line = ""
        self.follow: str | None = None

    @staticmethod
    def header() -> Text:
        """Column titles matching :meth:`row_text` (OptionList has no header of its own)."""
        text = Text(style="dim")
        text.append("▲ up".ljust(GLYPH_WIDTH + 1))
        text.append("station".ljust(NAME_WIDTH + 1))
        text.append("▼ dn".ljust(GLYPH_WIDTH))
        text.append(f" {'entries':>9} ")
        text.append("per min")
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

    def show(self, line: str, rows: list[StationRow], follow: str | None = None) -> None:
        """Replace the rows; keeps the highlighted station when it is still shown."""
        options: list[Option] = []
        ids: list[str] = []
        for row in rows:
            if row.branch_start:
                options.append(
                    Option(Text(f"── {row.branch_start} branch ──", style=line_style(line)), disabled=True)
                )
                ids.append(f"branch-{row.branch_start}")
            option_id = f"s{row.station.station_id}-{len(ids)}"
            options.append(Option(self.row_text(row, follow), id=option_id))
            ids.append(option_id)
        if ids == self._ids and line == self.line:
            # only rows whose text changed: a replaced prompt costs a re-measure
            for option in options:
                if option.id and not option.disabled and self._prompts.get(option.id) != option.prompt:
                    self._prompts[option.id] = option.prompt
                    self.replace_option_prompt(option.id, option.prompt)
            return
        self._prompts = {o.id: o.prompt for o in options if o.id}
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
