"""How trains and lines are drawn: shape first (glyphs), colour second.

A train's glyph says its heading (▲ up the station list, ▼ down), whether it stands
at the station (filled) or has left for the next (hollow), and ✖ when broken down —
so nothing depends on colour alone.
"""

from __future__ import annotations

from collections.abc import Collection

from rich.text import Text

from cta_tui.state.model import DOWN, UP, Train

LINE_COLOURS: dict[str, str] = {
    "red": "#c60c30",
    "blue": "#00a1de",
    "green": "#009b3a",
    "brown": "#8b5a2b",
    "purple": "#7b4cc4",
    "yellow": "#f9e300",
    "pink": "#e27ea6",
    "orange": "#f9461c",
}

#: line strip and station board: a train at a station / departed for the next, by heading
AT = {UP: "▲", DOWN: "▼"}
GONE = {UP: "△", DOWN: "▽"}
#: a train broken down (every screen)
BROKEN = "✖"

#: network panels: a train moving along the strip (rightwards: down the station list),
#: and one running late (hollow)
MOVING = {DOWN: "▶", UP: "◀"}
MOVING_LATE = {DOWN: "▷", UP: "◁"}
#: network panels: the strip's stations and track
STATION = "•"
TRACK = "─"
LOOP_TRACK = "═"
JUNCTION = "└"

#: prediction flags (station board, line strip, a followed train's stops): the prediction
#: says delayed, says the train is at fault (broken down), or comes from the timetable
PREDICTED_DELAY_FLAG = "⚠"
FAULT_FLAG = BROKEN
SCHEDULED_FLAG = "◷"

SPARK = "▁▂▃▄▅▆▇█"


def line_style(line: str) -> str:
    return f"bold {LINE_COLOURS.get(line, 'white')}"


def train_glyphs(
    at: list[Train],
    gone: list[Train],
    heading: str,
    width: int,
    follow: str | None,
    delayed: Collection[str] = (),
) -> Text:
    """Up to ``width`` cells of glyphs (a count when more trains than cells); a train the
    predictions call delayed is drawn as ⚠ (unless broken down: ✖)."""
    text = Text()
    items: list[tuple[str, str]] = []
    for train in sorted(at, key=lambda t: t.train_id):
        glyph = BROKEN if train.broken else PREDICTED_DELAY_FLAG if train.train_id in delayed else AT[heading]
        style = "bold reverse" if train.train_id == follow else line_style(train.line)
        items.append((glyph, style))
    for train in sorted(gone, key=lambda t: t.train_id):
        style = "bold reverse" if train.train_id == follow else line_style(train.line)
        items.append((PREDICTED_DELAY_FLAG if train.train_id in delayed else GONE[heading], style))
    if len(items) > width:
        text.append(f"{items[0][0]}{len(items)}"[:width], items[0][1])
    else:
        for glyph, style in items:
            text.append(glyph, style)
    if text.cell_len < width:
        text.pad_right(width - text.cell_len)
    return text


def mini_spark(values: list[float]) -> str:
    """A text sparkline for a table row (the detail pane uses Textual's Sparkline)."""
    top = max(values, default=0.0)
    if top <= 0:
        return " " * len(values)
    return "".join(
        SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1)))] if v > 0 else " " for v in values
    )
