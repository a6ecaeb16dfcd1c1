"""The highlighted station: name, lines, turnstile count and Textual's Sparkline of
entries per minute."""

from __future__ import annotations

from time import monotonic

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

#: the same station's text and sparkline change at most this often (seconds)
DETAIL_PERIOD = 1.0


class StationDetail(Vertical):
    DEFAULT_CSS = """
    StationDetail { height: 3; padding: 0 1; }
    StationDetail > #detail-text { height: 1; }
    StationDetail > Sparkline { height: 2; }
    """

    def compose(self) -> ComposeResult:
        yield Static("no station highlighted", id="detail-text")
        yield Sparkline([], summary_function=max, id="detail-spark")

    def show(self, text: str, history: list[float], station: object = None) -> None:
        """Show ``text`` and ``history``; for the same ``station`` at most every
        :data:`DETAIL_PERIOD` (its count and sparkline change faster than anyone reads,
        and each sparkline redraw is costly)."""
        now = monotonic()
        station = text if station is None else station
        if station == getattr(self, "_station", None) and now - getattr(self, "_shown", 0.0) < DETAIL_PERIOD:
            return
        self._station = station
        self._shown = now
        label = self.query_one("#detail-text", Static)
        if text != getattr(self, "_text", None):
            # one row, fixed height: no layout pass (each redraw paid for one)
            self._text = text
            label.update(text, layout=False)
        spark = self.query_one("#detail-spark", Sparkline)
        if list(spark.data or []) != history:
            spark.data = history
