"""The rewind's "go to" prompt: a simulated time to show (HH:MM or HH:MM:SS)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class GoToPrompt(ModalScreen[str | None]):
    """Asks for a time; dismissed with the text typed (None: cancelled)."""

    DEFAULT_CSS = """
    GoToPrompt { align: center middle; }
    GoToPrompt > Vertical { width: 44; height: auto; border: round $accent; background: $panel; padding: 0 1; }
    GoToPrompt Input { width: 100%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, shown: str) -> None:
        super().__init__()
        #: the moment shown now, as HH:MM
        self.shown = shown

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Go to simulated time (shown: {self.shown})")
            yield Input(placeholder="HH:MM or HH:MM:SS", id="goto-time")
            yield Label("enter: go · esc: cancel · L: live", classes="dim")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
