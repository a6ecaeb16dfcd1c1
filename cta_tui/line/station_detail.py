"""The highlighted station: name, lines, turnstile count and Textual's Sparkline of
entries per minute."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static


class StationDetail(Vertical):
    DEFAULT_CSS = """
    StationDetail { height: 3; padding: 0 1; }
    StationDetail > #detail-text { height: 1; }
    StationDetail > Sparkline { height: 2; }
    """

    def compose(self) -> ComposeResult:
        yield Static("no station highlighted", id="detail-text")
        yield Sparkline([], summary_function=max, id="detail-spark")

    def show(self, text: str, history: list[float]) -> None:
        label = self.query_one("#detail-text", Static)
        if text != getattr(self, "_text", None):
            # one row, fixed height: no layout pass (each redraw paid for one)
            self._text = text
            label.update(text, layout=False)
        spark = self.query_one("#detail-spark", Sparkline)
        if list(spark.data or []) != history:
            spark.data = history
