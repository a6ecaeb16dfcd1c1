"""The bytes that put a terminal back after the dashboard (pyte as the terminal)."""

from __future__ import annotations

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
