"""The dashboard's rewind: the app's side of it (keys' actions, the worker, the messages).

:class:`RewindControl` is mixed into :class:`cta_tui.app.CtaApp`. The live feed always
applies to ``live_state``; rewound, ``state`` (what every screen shows) is the past
moment's own :class:`~cta_tui.state.model.DashboardState`, read by a worker thread, so
each app (each SSH session) rewinds alone and the feed it shares is untouched. Playing
forward reads the next moment when the last one is shown, until it meets live.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.worker import get_current_worker

from cta_core.errors import CtaError
from cta_tui.messages import LiveReached, MomentAdvanced, MomentFailed, MomentProgressed, MomentRead
from cta_tui.rewind.engine import Advance, Rewinder, Rewound, apply_advance
from cta_tui.rewind.timeline import format_sim, parse_sim_time
from cta_tui.state.model import DashboardState
from cta_tui.state.motion import sim_clock_ms

#: the play-forward rates the play key steps through (simulated seconds per second; 0: stopped)
PLAY_RATES = (1, 10, 60, 0)
#: a rewind that takes longer than this (s) shows its progress
PROGRESS_AFTER = 0.5


class RewindControl:
    """Mixin: the app's rewind state and actions (see the module docstring)."""

    state: DashboardState
    live_state: DashboardState
    rewind_factory: Callable[[], Rewinder] | None
    clock: Callable[[], float]

    def init_rewind(self, factory: Callable[[], Rewinder] | None) -> None:
        self.rewind_factory = factory
        self._rewinder: Rewinder | None = None
        self.rewound: Rewound | None = None
        self.play_rate = 0
        self._request = 0
        self._reading: str | None = None
        self._run_id: str | None = None

    # ------------------------------------------------------------------ what is shown

    @property
    def rewinding(self) -> bool:
        return self.rewound is not None

    def view_now(self) -> float:
        """The wall time the screens are drawn for: the past moment's, when rewound."""
        return self.rewound.plan.at_ms / 1000.0 if self.rewound is not None else self.clock()

    def live_sim_ms(self) -> int | None:
        return sim_clock_ms(self.live_state, self.clock())

    def shown_sim_ms(self) -> int | None:
        return self.rewound.plan.sim_ms if self.rewound is not None else self.live_sim_ms()

    def rewind_label(self) -> str | None:
        """The status bar's "REWIND 08:12 · live 10:40" (None when live and idle)."""
        live = self.live_sim_ms()
        live_text = format_sim(live) if live is not None else "--:--"
        if self.rewound is None:
            return f"⟲ reading {self._reading} · live {live_text}" if self._reading else None
        text = f"REWIND {format_sim(self.rewound.plan.sim_ms, seconds=True)} · live {live_text}"
        if self.play_rate:
            text += f" · ▶ {self.play_rate}x"
        if self._reading:
            text += " · reading…"
        return text + " · L live"

    # ------------------------------------------------------------------ actions

    def rewind_by(self, minutes: float) -> None:
        """Step the shown moment ``minutes`` simulated minutes (back when negative)."""
        base = self.shown_sim_ms()
        if base is None:
            self.notify_rewind("no simulator clock yet: nothing to rewind", warning=True)
            return
        self.play_rate = 0
        self.read_moment(base + int(minutes * 60_000), None)

    def rewind_to(self, text: str) -> None:
        """Go to ``HH:MM[:SS]`` of the run shown (the go-to prompt's answer)."""
        if text.strip():
            self.play_rate = 0
            self.read_moment(None, text.strip())

    def back_to_live(self) -> None:
        """Show the live state again; the next rewind is in the run live then."""
        self._request += 1
        self._run_id = None
        self._reading = None
        self.play_rate = 0
        if self.rewound is not None:
            self.rewound = None
            self.state = self.live_state
            self.notify_rewind("live again")
        self.rewind_changed()

    def play_forward(self) -> None:
        """Play from the shown moment at the next rate (1x, 10x, 60x, stop)."""
        if self.rewound is None:
            self.notify_rewind("live already: rewind first ([ or {)", warning=True)
            return
        self.play_rate = PLAY_RATES[(PLAY_RATES.index(self.play_rate) + 1) % len(PLAY_RATES)]
        self._played_at = time.monotonic()
        self.rewind_changed()
        if self.play_rate and self._reading is None:
            self._play_step()

    def _play_step(self) -> None:
        if self.rewound is None or not self.play_rate:
            return
        elapsed = max(1.0, time.monotonic() - self._played_at)
        self._played_at = time.monotonic()
        self.read_moment(self.rewound.plan.sim_ms + int(elapsed * self.play_rate * 1000), None)

    def read_moment(self, sim_ms: int | None, text: str | None) -> None:
        """Read a moment in the background (a newer request supersedes an older one)."""
        if self.rewind_factory is None:
            self.notify_rewind("rewind is not available here", warning=True)
            return
        live = self.live_sim_ms()
        live_run = self.live_state.sim.run_id if self.live_state.sim is not None else None
        same_run = self._run_id is None or self._run_id == live_run
        if sim_ms is not None and live is not None and sim_ms >= live and same_run:
            self.back_to_live()
            return
        self._request += 1
        self._reading = text or (format_sim(sim_ms, seconds=True) if sim_ms is not None else "…")
        if self._run_id is None and self.live_state.sim is not None:
            self._run_id = self.live_state.sim.run_id
        self.rewind_changed()
        shown = self.rewound
        if shown is not None and sim_ms is not None and sim_ms > shown.plan.sim_ms:
            self._advance_worker(self._request, shown, sim_ms)
        else:
            self._read_worker(self._request, self._run_id, sim_ms, text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="rewind")
    def _advance_worker(self, request: int, shown: Rewound, sim_ms: int) -> None:
        """Forward from the moment shown: only the records in between are read."""
        try:
            rewinder = self._rewinder
            assert rewinder is not None
            run = rewinder.run(shown.run.run_id)
            if run.live and sim_ms >= run.last.sim_ms:
                self.post_message(LiveReached(request))
                return
            step = rewinder.advance(shown, sim_ms)
        except (CtaError, ValueError) as exc:
            self.post_message(MomentFailed(str(exc), request))
            return
        self.post_message(MomentAdvanced(step, request))

    @work(thread=True, exclusive=True, exit_on_error=False, group="rewind")
    def _read_worker(self, request: int, run_id: str | None, sim_ms: int | None, text: str | None) -> None:
        worker = get_current_worker()
        started = time.monotonic()

        def progress(n: int) -> None:
            if time.monotonic() - started > PROGRESS_AFTER and not worker.is_cancelled:
                self.post_message(MomentProgressed(n, request))

        try:
            if self._rewinder is None and self.rewind_factory is not None:
                self._rewinder = self.rewind_factory()
            assert self._rewinder is not None
            run = self._rewinder.run(run_id)
            target = parse_sim_time(text, run) if text is not None else sim_ms
            assert target is not None
            if run.live and target >= run.last.sim_ms:
                self.post_message(LiveReached(request))
                return
            rewound = self._rewinder.state_at(run, target, progress)
            rewound.state.predictions.settle()
        except (CtaError, ValueError) as exc:
            self.post_message(MomentFailed(str(exc), request))
            return
        if not worker.is_cancelled:
            self.post_message(MomentRead(rewound, request))

    # ------------------------------------------------------------------ messages

    def on_moment_read(self, message: MomentRead) -> None:
        if message.request != self._request:
            return
        rewound = message.rewound
        assert isinstance(rewound, Rewound)
        self._reading = None
        self.rewound = rewound
        self._run_id = rewound.run.run_id
        self.state = rewound.state
        self.rewind_changed()
        if self.play_rate:
            self.set_timer(max(0.05, 1.0 - rewound.seconds), self._play_step)

    def on_moment_advanced(self, message: MomentAdvanced) -> None:
        step, shown = message.step, self.rewound
        if message.request != self._request or shown is None:
            return
        assert isinstance(step, Advance)
        started = time.monotonic()
        apply_advance(shown, step)
        shown.state.predictions.settle()
        self._reading = None
        self.rewind_changed()
        if self.play_rate:
            self.set_timer(max(0.05, 1.0 - (time.monotonic() - started)), self._play_step)

    def on_moment_failed(self, message: MomentFailed) -> None:
        if message.request != self._request:
            return
        self._reading = None
        self.play_rate = 0
        self.notify_rewind(message.error, warning=True)
        self.rewind_changed()

    def on_moment_progressed(self, message: MomentProgressed) -> None:
        if message.request == self._request:
            self._reading = (
                f"{self._reading.split(' (')[0] if self._reading else ''} ({message.records:,} records)"
            )
            self.rewind_changed()

    def on_live_reached(self, message: LiveReached) -> None:
        if message.request == self._request:
            self.back_to_live()

    # ------------------------------------------------------------------ the app provides

    def notify_rewind(self, text: str, warning: bool = False) -> None:
        raise NotImplementedError

    def rewind_changed(self) -> None:
        raise NotImplementedError

    if TYPE_CHECKING:  # the App's own

        def post_message(self, message: Any) -> bool: ...

        def set_timer(self, delay: float, callback: Callable[[], Any]) -> Any: ...
