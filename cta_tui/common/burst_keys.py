"""Keys typed in one burst after the key that opens a text box (pasted, or typed as fast
as tmux send-keys): they reach the screen together, addressed to the widget that had
the focus, before a binding for the opening key would run. A screen routes them with
:func:`route_to_box` from its ``on_key`` so they land in the box, not on its bindings
(``/purple`` used to open the pipeline at its ``p``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import events
from textual.screen import Screen
from textual.widgets import Input


def route_to_box(
    screen: Screen[Any],
    event: events.Key,
    box: Input,
    *,
    open_key: str,
    open_box: Callable[[], None],
    submit: Callable[[], None],
) -> None:
    """``open_key`` opens ``box`` here (``open_box`` must give it the focus at once, with
    ``screen.set_focus``); while it has the focus, a printable key that reached the
    screen goes into it and enter is ``submit``. Keys the box took itself never reach
    the screen."""
    if screen.focused is not box:
        if event.key != open_key:
            return
        open_box()
    elif event.is_printable and event.character:
        box.insert_text_at_cursor(event.character)
    elif event.key == "enter":
        submit()
    else:
        return
    event.stop()
    event.prevent_default()
