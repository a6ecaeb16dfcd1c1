"""A job's log, live: the end of its file, then every line appended (like ``tail -f``).

A thread worker reads the file (never the event loop) and posts lines in batches;
the :class:`~textual.widgets.Log` keeps at most :data:`MAX_LINES`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Log, Static
from textual.worker import get_current_worker

from cta_tui.common.footer import CtaFooter

MAX_LINES = 2000
#: bytes read back from the end of the file when the log opens
BACKLOG_BYTES = 64 * 1024


def read_backlog(path: Path, size: int = BACKLOG_BYTES) -> tuple[list[str], int]:
    """The whole lines in the last ``size`` bytes of ``path`` and the end position."""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        end = fh.tell()
        fh.seek(max(0, end - size))
        data = fh.read()
    lines = data.decode("utf-8", "replace").splitlines()
    if end > size and lines:
        lines = lines[1:]  # the first one is cut
    return lines, end


class JobLogScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,l", "app.pop_screen", "Back"),
        Binding("end", "end", "End"),
    ]

    @dataclass
    class LinesRead(Message):
        lines: list[str]

    def __init__(self, job: str, path: str, *, poll: float = 0.3) -> None:
        super().__init__()
        self.job = job
        self.path = Path(path)
        self.poll = poll

    def compose(self) -> ComposeResult:
        yield Static(f" {self.job} · {self.path}", id="log-title")
        yield Log(max_lines=MAX_LINES, id="job-log")
        yield CtaFooter()

    def on_mount(self) -> None:
        self.follow()

    @work(thread=True, exclusive=True, exit_on_error=False, group="job-log")
    def follow(self) -> None:
        worker = get_current_worker()
        pos = 0
        while not worker.is_cancelled and not self.path.exists():
            if pos == 0:
                self.post_message(self.LinesRead([f"(no log yet at {self.path}; waiting)"]))
                pos = -1
            time.sleep(self.poll)
        if worker.is_cancelled:
            return
        lines, pos = read_backlog(self.path)
        self.post_message(self.LinesRead(lines))
        partial = b""
        while not worker.is_cancelled:
            size = self.path.stat().st_size if self.path.exists() else 0
            if size < pos:  # truncated or replaced
                pos = 0
            if size > pos:
                with self.path.open("rb") as fh:
                    fh.seek(pos)
                    data = partial + fh.read(size - pos)
                pos = size
                *complete, partial = data.split(b"\n")
                if complete:
                    self.post_message(self.LinesRead([c.decode("utf-8", "replace") for c in complete]))
            else:
                time.sleep(self.poll)

    def on_job_log_screen_lines_read(self, message: LinesRead) -> None:
        self.query_one(Log).write_lines(message.lines)

    def action_end(self) -> None:
        self.query_one(Log).scroll_end(animate=False)
