"""The app's commands in Textual's command palette (ctrl+p), from the actions table."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from cta_tui.actions import palette_entries

if TYPE_CHECKING:
    from cta_tui.app import CtaApp


class CtaCommands(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app: CtaApp = self.app  # type: ignore[assignment]
        return [
            (title, partial(app.action_do, name, *args), key) for title, name, args, key in palette_entries()
        ]

    async def discover(self) -> Hits:
        for name, callback, key in self._commands():
            yield DiscoveryHit(name, callback, help=f"key: {key}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, key in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=f"key: {key}")
