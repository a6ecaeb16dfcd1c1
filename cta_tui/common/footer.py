"""The footer every screen shows: Textual's Footer, which lets go of its old keys.

Textual's Footer is rebuilt whenever the active bindings change (every screen switch,
every focus change), and each of its keys binds the footer's ``compact`` reactive
(``data_bind``). The footer's list of watchers keeps the keys of every earlier build,
as that list is pruned only when ``compact`` changes, which it never does here: a
dashboard left switching screens for a simulated day grew by megabytes. This footer
drops the watchers of keys no longer mounted before each rebuild.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer


class CtaFooter(Footer):
    # Textual's compact footer sets a key group's label flush against the next key and
    # pads the group's keys with a second space: one space between every key here
    DEFAULT_CSS = """
    CtaFooter.-compact FooterLabel {
        margin: 0 1 0 0;
    }
    CtaFooter.-compact KeyGroup {
        padding-left: 0;
    }
    """

    def compose(self) -> ComposeResult:
        watchers = getattr(self, "__watchers", None)  # Textual's per-object watcher lists
        if isinstance(watchers, dict):
            for callbacks in watchers.values():
                callbacks[:] = [(node, cb) for node, cb in callbacks if node is self or node.is_attached]
        yield from super().compose()

    def on_resize(self) -> None:
        # below 100 columns the keys sit closer together, so q and ? stay in view
        # beside the palette hint with the rewind keys shown
        self.compact = self.size.width < 100
