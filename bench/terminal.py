"""A command on a pseudo-terminal for the benchmarks and trials that run the dashboard
as a user does: its output drained by a thread (as a terminal would read it), keys typed
with :meth:`PtyCommand.press`, and ``q`` then a kill to end it."""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import subprocess
import termios
import threading
from collections.abc import Mapping, Sequence


class PtyCommand:
    """``argv`` on a pseudo-terminal of ``columns`` x ``rows`` in its own session; every
    chunk of its output goes to :meth:`on_output` (set a subclass's own attributes
    before calling this constructor: the reader starts at once)."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], columns: int, rows: int):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.proc = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,  # Textual draws on stderr
            env=dict(env),
            start_new_session=True,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def on_output(self, data: bytes) -> None:
        """One chunk of the terminal's output (nothing by default: it is discarded)."""

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.on_output(data)

    def press(self, key: str) -> None:
        os.write(self.master, key.encode())

    def close(self) -> None:
        """``q``, then kill after 10 s when the command has not ended."""
        with contextlib.suppress(OSError):
            self.press("q")
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        with contextlib.suppress(OSError):
            os.close(self.master)
