"""``cta-stack logs [NAME] [-f]``: the last lines of the stack's logs, then, with ``-f``,
every line appended to them, like ``tail -F``: a log rotated by size (renamed to
``<file>.1`` and started afresh) is reopened from its start, so no line is lost."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

POLL_SECONDS = 0.3


@dataclass
class FollowedFile:
    """One log being followed: its name (the service or job), its path, the open file."""

    name: str
    path: Path
    handle: IO[str] | None = None
    inode: int | None = None
    pending: str = field(default="")

    def open(self, at_end: bool) -> None:
        try:
            handle = self.path.open("r", encoding="utf-8", errors="replace")
        except OSError:
            return
        if at_end:
            handle.seek(0, os.SEEK_END)
        self.close()
        self.handle, self.inode = handle, os.fstat(handle.fileno()).st_ino

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
        self.handle = None

    def rotated(self) -> bool:
        """True when the path now names another file (rotated or recreated) or a shorter one."""
        try:
            stat = self.path.stat()
        except OSError:
            return False
        if self.handle is None or stat.st_ino != self.inode:
            return True
        return stat.st_size < self.handle.tell()

    def read_lines(self) -> list[str]:
        """Whole lines appended since the last call (a partial last line waits for its end)."""
        if self.handle is None:
            return []
        self.pending += self.handle.read()
        *lines, self.pending = self.pending.split("\n")
        return [line + "\n" for line in lines]


def poll(files: Sequence[FollowedFile]) -> list[tuple[str, str]]:
    """One round: (name, line) for every new line of every file, rotation followed."""
    out: list[tuple[str, str]] = []
    for followed in files:
        if followed.rotated():
            # the rest of the old file first, then the new one from its start
            out += [(followed.name, line) for line in followed.read_lines()]
            followed.open(at_end=False)
        out += [(followed.name, line) for line in followed.read_lines()]
    return out


def follow(
    files: Sequence[tuple[str, Path]],
    echo: Callable[[str], None],
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    """Print lines appended to ``files`` until ``keep_going()`` is false or ctrl+c;
    with several files each line is prefixed with its name."""
    followed = [FollowedFile(name, path) for name, path in files]
    for item in followed:
        item.open(at_end=True)
    prefix = len(followed) > 1
    try:
        while keep_going():
            lines = poll(followed)
            for name, line in lines:
                echo(f"{name}| {line}" if prefix else line)
            if not lines:
                time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        pass
    finally:
        for item in followed:
            item.close()
