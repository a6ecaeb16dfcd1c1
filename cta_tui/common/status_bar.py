"""The top bar: simulated clock, speed, paused, weather, feed health, read-only; while
rewound, "REWIND 08:12 · live 10:40" in its own colour instead of the clock."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from cta_tui.common.status_text import format_speed, format_temperature
from cta_tui.state.model import DashboardState


class StatusBar(Static):
    """One line, rebuilt from the state by :meth:`show` (the app coalesces calls)."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $foreground; }
    """

    celsius: reactive[bool] = reactive(False)

    def __init__(self, *, read_only: bool = False, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.read_only = read_only
        self.note = ""
        self._state: DashboardState | None = None
        self._shown: Text | None = None

    def show(self, state: DashboardState, note: str = "") -> None:
        self._state = state
        self.set_reactive(StatusBar.celsius, bool(getattr(self.app, "celsius", False)))
        self.note = note
        text = self.compose_text()
        if text != self._shown:  # only when it changed (the clock: once a second)
            self._shown = text
            self.update(text, layout=False)  # one row, fixed height: no layout pass

    def watch_celsius(self) -> None:
        if self._state is not None:
            self._shown = self.compose_text()
            self.update(self._shown)

    def compose_text(self) -> Text:
        state = self._state
        text = Text(" CTA ", style="bold reverse")
        if state is None:
            return text
        rewind = getattr(self.app, "rewind_label", None)
        label = rewind() if callable(rewind) else None
        sim = state.sim
        if label is not None:
            text.append(f" {label} ", style="bold black on #ffaf00")
            text.append(" ")
        elif sim is None:
            text.append(" sim: no status yet ", style="dim")
        else:
            clock = (sim.sim_time or "")[11:19] or "--:--:--"
            mark = "⏸ paused" if sim.paused else ("■ stopped" if sim.state == "stopped" else "▶ running")
            text.append(f" {clock} ", style="bold")
            text.append(f"{format_speed(sim.speed)} {mark} ")
        text.append("│ ")
        text.append(format_temperature(state, self.celsius), style="dim" if state.weather is None else "")
        text.append(" │ ")
        if state.feed_error:
            text.append("✖ Kafka down, retrying", style="bold red")
        elif state.feed_connected:
            text.append("● Kafka ok")
        else:
            text.append("… connecting", style="dim")
        if self.read_only:
            text.append(" │ ")
            text.append("READ-ONLY", style="bold")
        if self.note:
            text.append(" │ ")
            text.append(self.note, style="italic")
        return text
