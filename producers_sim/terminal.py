"""The simulator's own terminal: a rich live status line on stderr, and keys when stdin
is a TTY (space pauses/resumes, + doubles the speed, - halves it)."""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import select
import sys
import threading
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from cta_core.records.control import Command, Rejected
from producers_sim.clock import SimClock

_ids = itertools.count(1)


def key_command(key: str, clock: SimClock) -> Command | None:
    """The command a key stands for, given the clock's state (pure)."""
    cid = f"keyboard-{next(_ids)}"
    if key == " ":
        return Command(cid, "resume" if clock.paused else "pause")
    if key in "+=-_" and key:
        speed = clock.speed
        if speed is None:
            return (
                Command(cid, "set_speed", speed=None)
                if key in "+="
                else Command(cid, "set_speed", speed=600.0)
            )
        new = speed * 2 if key in "+=" else max(speed / 2, 0.125)
        return Command(cid, "set_speed", speed=new)
    return None


def status_text(doc: dict[str, Any]) -> Text:
    produced = sum(doc["produced"].values())
    delivered = sum(doc["delivered"].values())
    failed = sum(doc["failed"].values())
    state = doc["state"]
    style = {"running": "bold green", "paused": "bold yellow", "stopped": "bold red"}[state]
    speed = doc["speed"]
    speed_s = "max" if speed == "max" else f"{speed:g}x"
    t = Text()
    t.append(f" {state.upper()} ", style=f"reverse {style}")
    t.append(f"  {doc['sim_time'][:19].replace('T', ' ')}  speed {speed_s}  trains {doc['trains']}  ")
    t.append(f"produced {produced:,}  delivered {delivered:,}")
    if failed:
        t.append(f"  failed {failed:,}", style="bold red")
    t.append("   [space] pause/resume  [+/-] speed", style="dim")
    return t


class TerminalUI:
    def __init__(
        self, clock: SimClock, commands: queue.Queue[Command | Rejected], console: Console | None = None
    ):
        self.clock = clock
        self.commands = commands
        self.console = console or Console(stderr=True)
        self._live: Live | None = None
        self._stop = threading.Event()

    def update(self, doc: dict[str, Any]) -> None:
        if self._live is not None:
            self._live.update(status_text(doc))

    @contextlib.contextmanager
    def running(self) -> Iterator[TerminalUI]:
        if not self.console.is_terminal:
            yield self
            return
        with Live(Text("starting…"), console=self.console, refresh_per_second=4, transient=False) as live:
            self._live = live
            keys = self._start_keys()
            try:
                yield self
            finally:
                self._stop.set()
                if keys is not None:
                    keys.join(timeout=1.0)
                self._live = None

    def _start_keys(self) -> threading.Thread | None:
        if not sys.stdin.isatty():
            return None
        thread = threading.Thread(target=self._read_keys, name="cta-sim-keys", daemon=True)
        thread.start()
        return thread

    def _read_keys(self) -> None:
        import termios
        import tty

        fd = sys.stdin.fileno()
        try:
            old = termios.tcgetattr(fd)
        except termios.error:
            return
        try:
            tty.setcbreak(fd)
            while not self._stop.is_set():
                ready, _, _ = select.select([fd], [], [], 0.1)
                if not ready:
                    continue
                key = os.read(fd, 1).decode(errors="ignore")
                cmd = key_command(key, self.clock)
                if cmd is not None:
                    self.commands.put(cmd)
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)
