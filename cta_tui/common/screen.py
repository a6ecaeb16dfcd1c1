"""What the dashboard's own screens share: typed access to the app that owns them."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from cta_tui.app import CtaApp


class CtaScreen(Screen[None]):
    def on_screen_resume(self) -> None:
        """Back on top (a screen above was closed): redraw at the next tick."""
        mark = getattr(self.app, "mark_dirty", None)
        if mark is not None:
            mark()

    @property
    def cta_app(self) -> CtaApp:
        """The app, typed (the screens run only in :class:`cta_tui.app.CtaApp`; not
        imported here: the app imports the screens)."""
        return cast("CtaApp", self.app)
