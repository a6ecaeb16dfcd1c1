"""The bytes that put a terminal back after the dashboard (pyte as the terminal)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pyte

from cta_tui.terminal import SHUTDOWN_NOTICE, restore_with_notice

#: What Textual turns on, as it writes it (alternate screen, mouse, SGR mouse, focus, paste).
TEXTUAL_ON = b"\x1b[?1049h\x1b[?1000h\x1b[?1003h\x1b[?1006h\x1b[?1004h\x1b[?2004h\x1b[?25l"


def test_restore_undoes_what_the_dashboard_turned_on_even_mid_sequence() -> None:
    screen = pyte.Screen(80, 6)
    stream = pyte.ByteStream(screen)
    stream.feed(TEXTUAL_ON + b"\x1b[1;38;5;2")  # cut off in the middle of a colour
    assert screen.cursor.hidden and (1049 << 5) in screen.mode
    stream.feed(restore_with_notice(SHUTDOWN_NOTICE))
    assert not screen.cursor.hidden
    assert not {1049 << 5, 1000 << 5, 1003 << 5, 1006 << 5, 2004 << 5} & screen.mode
    assert screen.cursor.attrs.fg == "default" and not screen.cursor.attrs.bold
    assert any(SHUTDOWN_NOTICE in line for line in screen.display)


STUCK_APP = """
import asyncio, sys
from cta_tui.terminal import exit_cleanly_on_signals

class Stuck:
    def exit(self, result=None, return_code=0):
        print("exit asked", flush=True)  # and never exits: a shutdown that hangs

async def main():
    exit_cleanly_on_signals(Stuck(), grace_s=float(sys.argv[1]))
    print("ready", flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def _signalled_stuck_app(signals: int, grace_s: float) -> tuple[int, str, float]:
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK_APP, str(grace_s)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    started = time.monotonic()
    for _ in range(signals):
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
    code = proc.wait(timeout=30)
    return code, proc.stdout.read(), time.monotonic() - started


def test_a_dashboard_whose_clean_exit_hangs_is_ended_after_the_grace_period() -> None:
    code, out, _ = _signalled_stuck_app(signals=1, grace_s=1.0)
    assert "exit asked" in out
    assert code == 128 + signal.SIGTERM


def test_a_second_signal_ends_a_stuck_dashboard_at_once() -> None:
    code, _, took = _signalled_stuck_app(signals=2, grace_s=20.0)
    assert code == 128 + signal.SIGTERM
    assert took < 15  # not the 20 s grace: the second signal ended it
