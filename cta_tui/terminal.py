"""Putting a terminal back the way the shell expects it (pure bytes, no IO).

The dashboard (Textual) switches the terminal to the alternate screen, turns on mouse
tracking, bracketed paste and focus events, and hides the cursor; it undoes all that
when it exits normally. When it does not (the SSH server shuts down, the dashboard is
killed or crashes), whoever owns the other end writes :data:`RESTORE` so the user is not
left with a terminal that needs ``reset``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from typing import Any, Protocol


class Exitable(Protocol):
    def exit(self, result: Any = None, return_code: int = 0) -> None: ...


#: CAN first: it aborts an escape sequence the dashboard may have been cut off in the
#: middle of, so the sequences after it are read as meant.
CANCEL = b"\x18"

#: Each mode the dashboard may have turned on, turned off.
MODES_OFF: tuple[bytes, ...] = (
    b"\x1b[?2026l",  # synchronized output (a frame cut in half)
    b"\x1b[?1000l",  # mouse: clicks
    b"\x1b[?1002l",  # mouse: drags
    b"\x1b[?1003l",  # mouse: all motion
    b"\x1b[?1006l",  # mouse: SGR coordinates
    b"\x1b[?1015l",  # mouse: urxvt coordinates
    b"\x1b[?2004l",  # bracketed paste
    b"\x1b[?1004l",  # focus events
    b"\x1b[<u",  # kitty keyboard protocol: pop the dashboard's flags
    b"\x1b[?1049l",  # leave the alternate screen (the shell's screen comes back)
    b"\x1b[0m",  # attributes reset
    b"\x1b[?25h",  # cursor shown
)

RESTORE = CANCEL + b"".join(MODES_OFF)

SHUTDOWN_NOTICE = "cta-live: the server is shutting down; your dashboard session has ended."
CRASH_NOTICE = "cta-live: the dashboard stopped unexpectedly (exit status {status}); see its log file."

#: The exit status a session gets when the server ends it (as a shell killed by SIGTERM).
SHUTDOWN_STATUS = 143


def restore_with_notice(notice: str) -> bytes:
    """:data:`RESTORE`, then ``notice`` on a line of its own (CRLF: the pty may be raw)."""
    return RESTORE + b"\r\n" + notice.encode() + b"\r\n"


#: Signals that end the dashboard like ``q`` does: ``kill``, a closed terminal window.
EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


#: Seconds a signalled dashboard has to exit cleanly before it is ended at once (a
#: shutdown stuck on a closed terminal or a broker that does not answer must not leave
#: an orphan behind).
EXIT_GRACE_S = 5.0


def exit_cleanly_on_signals(app: Exitable, grace_s: float = EXIT_GRACE_S) -> None:
    """Make SIGTERM and SIGHUP end ``app`` through its own exit, which restores the
    terminal, instead of killing the process with the terminal still in the dashboard's
    modes. The exit status is 128 + the signal's number, as a shell reports it.

    A clean exit that takes longer than ``grace_s``, or a second signal, ends the
    process at once: the dashboard never outlives its terminal."""

    def on_signal(signum: int, _frame: Any) -> None:
        code = 128 + signum
        if getattr(on_signal, "armed", False):
            os._exit(code)
        on_signal.armed = True  # type: ignore[attr-defined]
        watchdog = threading.Timer(grace_s, os._exit, args=(code,))
        watchdog.daemon = True
        watchdog.start()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # before the app's loop runs, or after it ended
            raise SystemExit(code) from None
        loop.call_soon_threadsafe(lambda: app.exit(return_code=code))

    for sig in EXIT_SIGNALS:
        signal.signal(sig, on_signal)
