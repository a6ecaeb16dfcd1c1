"""The app's commands in Textual's command palette (ctrl+p)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from cta_tui.state.model import LINE_ORDER

if TYPE_CHECKING:
    from cta_tui.app import CtaApp


class CtaCommands(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app: CtaApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, Callable[[], object], str]] = [
            ("Pause or resume the simulator", app.action_toggle_pause, "space"),
            ("Simulator faster", app.action_faster, "+"),
            ("Simulator slower", app.action_slower, "-"),
            ("Toggle °F / °C", app.action_toggle_units, "u"),
            ("Pipeline health", app.action_pipeline, "p"),
            ("Keys (help)", app.action_help, "?"),
        ]
        for i, line in enumerate(LINE_ORDER):
            out.append((f"Show the {line.title()} line", partial(app.action_show_line, line), str(i + 1)))
        return out

    async def discover(self) -> Hits:
        for name, callback, key in self._commands():
            yield DiscoveryHit(name, callback, help=f"key: {key}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, key in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=f"key: {key}")
