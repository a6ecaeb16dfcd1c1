"""CPU and memory of the dashboard on every screen with the whole pipeline running.

What a user runs: the job set of `cta-tui up` (the stations load and connector, Faust,
the predictions, the weather, and `cta-sim --start 07:30`) on the stack of the
environment (the tui section makes a scratch stack of its own), and the dashboard as a
real process on a 120x40 pseudo-terminal (its output read and discarded, as a terminal
would), driven by keys typed into the terminal.

- ``--speed 60``: a simulated day (``DAY_MINUTES`` of wall time). The screens are visited
  in turn for the whole day, one window of ``WINDOW_S`` each (CPU = user + system of the
  process over the window), so every screen gets many windows; the dashboard's resident
  memory is sampled at every window (the memory curve).
- then the simulator paused (space), two windows; one SSH session (`cta-tui serve
  --ssh`) on the network and on the board, two windows each;
- ``--speed 600`` (the set_speed command): two more rounds of every screen.

Figures are medians of the windows. Used by bench_tui (`make bench`, section tui).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.bench_ssh import _cpu_seconds as cpu_seconds
from bench.bench_ssh import _tree as process_tree
from bench.terminal import PtyCommand
from cta_core.settings import Settings

COLUMNS, ROWS = 120, 40
#: seconds per window (BENCH_TUI_CPU_SECONDS shortens it for a quick run)
WINDOW_S = float(os.environ.get("BENCH_TUI_CPU_SECONDS", "10"))
#: wall minutes of the --speed 60 run: 24 is a whole simulated day
DAY_MINUTES = float(os.environ.get("BENCH_TUI_DAY_MINUTES", "24"))
#: rounds of every screen at --speed 600
FAST_ROUNDS = int(os.environ.get("BENCH_TUI_FAST_ROUNDS", "2"))
WARMUP_S = 10.0
SETTLE_S = 2.0
DASHBOARD = "from cta_tui.cli import main; main()"
ESC, ENTER, DOWN = "\x1b", "\r", "\x1b[B"
#: not a key: wait a little longer (a screen that lists something first)
WAIT = ""

#: every screen and the keys that reach it from the network screen (home, ``0``)
SCREENS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("network", ()),
    ("line", ("1",)),
    ("map", ("m",)),
    ("zoomed map", ("m", "z")),
    ("board (Howard)", ("1", ENTER)),  # the red line opens on Howard, highlighted
    ("pipeline: jobs", ("p", "j")),
    ("pipeline: lag", ("p", "g")),
    ("pipeline: services", ("p", "v")),
    ("tail (arrivals)", ("t", WAIT, ENTER, DOWN, ENTER)),  # the topic list, its first topic
    ("help", ("?",)),
)


@dataclass
class Figures:
    """Windows per screen and speed, and the memory curve."""

    #: (speed, screen) -> CPU % of one core, one per window
    cpu: dict[tuple[int, str], list[float]] = field(default_factory=dict)
    #: (seconds into the day, simulated clock, RSS MB)
    rss: list[tuple[float, str, float]] = field(default_factory=list)
    #: jobs that ran
    jobs: list[str] = field(default_factory=list)
    #: what ``during`` returned (run at --speed 60 with every job and the dashboard running)
    during: dict[str, float] = field(default_factory=dict)

    def add(self, speed: int, screen: str, pct: float) -> None:
        self.cpu.setdefault((speed, screen), []).append(pct)

    def median(self, speed: int, screen: str) -> float:
        return statistics.median(self.cpu[(speed, screen)])

    def windows(self, speed: int, screen: str) -> int:
        return len(self.cpu.get((speed, screen), []))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children (0 once it is gone)."""
    return cpu_seconds(process_tree(pid))


def _cpu_pct(pid: int, seconds: float) -> float:
    c0, t0 = _cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (_cpu_seconds(pid) - c0) / (time.monotonic() - t0)


def _rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


class PtyDashboard(PtyCommand):
    """`cta-tui` on a pseudo-terminal of 120x40; :attr:`bytes` counts what it drew."""

    def __init__(self) -> None:
        self.bytes = 0
        env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(ROWS))
        super().__init__([sys.executable, "-c", DASHBOARD], env, COLUMNS, ROWS)

    def on_output(self, data: bytes) -> None:
        self.bytes += len(data)

    def keys(self, keys: Sequence[str]) -> None:
        for key in keys:
            if key == WAIT:
                time.sleep(2.0)
                continue
            self.press(key)
            time.sleep(0.4)


def go_to(dash: PtyDashboard, keys: Sequence[str]) -> None:
    """Home (escape twice: a modal, then the screen; ``0``), then ``keys``."""
    dash.keys((ESC, ESC, "0", *keys))
    time.sleep(SETTLE_S)


def visit_all(dash: PtyDashboard, figures: Figures, speed: int, clock: SimClock | None = None) -> None:
    """One window on every screen; with ``clock``, the RSS sampled at every window."""
    for screen, keys in SCREENS:
        go_to(dash, keys)
        figures.add(speed, screen, _cpu_pct(dash.proc.pid, WINDOW_S))
        if clock is not None:
            figures.rss.append((clock.elapsed(), clock.sim(), _rss_mb(dash.proc.pid)))


@dataclass
class SimClock:
    """The simulated clock of a run started at 07:30 at ``speed`` (for the curve's labels)."""

    speed: float
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def sim(self) -> str:
        minutes = (7 * 60 + 30 + self.elapsed() * self.speed / 60) % (24 * 60)
        return f"{int(minutes // 60):02d}:{int(minutes % 60):02d}"


def start_jobs(settings: Settings) -> list[str]:
    """The job set of `cta-tui up` (--speed 60, from 07:30) on the environment's stack."""
    from cta_stack import jobs
    from cta_stack.stack import Stack

    layout = Stack(settings).layout
    catalogue = jobs.catalogue(sim_speed="60", sim_args=["--start", "07:30", "--seed", "11"])
    report = jobs.bring_up(layout, catalogue, "bench-tui", ksql_available=False)
    if report.failed:
        raise RuntimeError(f"jobs failed to start: {report.failed} (logs in {layout.logs_dir})")
    return report.started + report.already


def stop_jobs(settings: Settings) -> None:
    from cta_stack import jobs
    from cta_stack.stack import Stack

    layout = Stack(settings).layout
    for job in jobs.catalogue():
        if not job.oneshot:
            with contextlib.suppress(Exception):
                jobs.stop(layout, job, "bench-tui")


def command(settings: Settings, name: str, **fields: object) -> None:
    """A control command to every simulator of the stack (the benchmark's only one)."""
    from cta_core.records.control import make_command
    from cta_tui.control import KafkaControlPublisher

    publisher = KafkaControlPublisher(settings)
    try:
        publisher.send(make_command(name, sender="bench-tui", **fields))
    finally:
        publisher.close()


async def _ssh_session_cpu(
    settings: Settings, keys: Sequence[str], seconds: float, windows: int
) -> list[float]:
    """CPU of one `cta-tui serve --ssh` session's dashboard on the screen ``keys`` reach."""
    import asyncssh

    from cta_tui.ssh.keys import KeyRing
    from cta_tui.ssh.server import ServeOptions, SSHDashboardServer

    with tempfile.TemporaryDirectory(prefix="bench-tui-ssh-") as tmp:
        work = Path(tmp)
        key = asyncssh.generate_private_key("ssh-ed25519")
        (work / "authorized_keys").write_bytes(key.export_public_key())
        options = ServeOptions(
            host="127.0.0.1",
            port=0,
            host_key=work / "host_key",
            keyring=KeyRing(work / "authorized_keys"),
            settings=settings,
        )
        server = SSHDashboardServer(options)
        await server.start()
        try:
            conn = await asyncssh.connect(
                "127.0.0.1",
                server.port,
                known_hosts=None,
                username="bench",
                client_keys=[key],
                agent_path=None,
            )
            proc = await conn.create_process(
                term_type="xterm-256color", term_size=(COLUMNS, ROWS), encoding=None
            )

            async def pump() -> None:
                while await proc.stdout.read(65536):
                    pass

            task = asyncio.create_task(pump())
            await asyncio.sleep(WARMUP_S)
            for k in keys:
                proc.stdin.write(k.encode())
                await asyncio.sleep(0.4)
            await asyncio.sleep(SETTLE_S)
            pid = next(s.info.pid for s in server.sessions if s.info.pid)
            out = [await asyncio.to_thread(_cpu_pct, pid, seconds) for _ in range(windows)]
            conn.close()
            task.cancel()
            return out
        finally:
            await server.close()


def measure(settings: Settings, during: Callable[[], dict[str, float]] | None = None) -> Figures:
    """Every screen at --speed 60 for a simulated day and at --speed 600; paused; SSH;
    ``during`` run at --speed 60 after those, with every job running."""
    figures = Figures()
    figures.jobs = start_jobs(settings)
    dash: PtyDashboard | None = None
    try:
        dash = PtyDashboard()
        time.sleep(WARMUP_S)
        clock = SimClock(60)
        while clock.elapsed() < DAY_MINUTES * 60 or not figures.cpu:
            visit_all(dash, figures, 60, clock)
        go_to(dash, ())
        dash.press(" ")  # pause: the dashboard sends the command
        time.sleep(3)
        for _ in range(2):
            figures.add(60, "network, simulator paused", _cpu_pct(dash.proc.pid, WINDOW_S))
        dash.press(" ")  # resume
        for name, keys in (("ssh session: network", ()), ("ssh session: board", ("1", ENTER))):
            for pct in asyncio.run(_ssh_session_cpu(settings, keys, WINDOW_S, 2)):
                figures.add(60, name, pct)
        if during is not None:
            figures.during = during()
        command(settings, "set_speed", speed=600)
        time.sleep(3)
        for _ in range(FAST_ROUNDS):
            visit_all(dash, figures, 600)
    finally:
        if dash is not None:
            dash.close()
    return figures


def main() -> None:
    settings = Settings.from_env()
    try:
        figures = measure(settings)
    finally:
        stop_jobs(settings)
    print(json.dumps({f"{s} {n}": v for (s, n), v in figures.cpu.items()} | {"rss": figures.rss}))


if __name__ == "__main__":
    main()
