"""CPU of the dashboard while `cta-sim --speed 60` runs, per view, and per SSH session.

The dashboard runs as a real process on a pseudo-terminal of 120x40 (its output is read
and discarded, as a terminal would), reading the live topics of the local stack; keys
are typed into the terminal to switch views. Per view, the CPU (user + system, the
process and its children, from psutil) over a window; then the simulator is paused
(space in the dashboard, which sends the pause command) and the network view measured
again. An SSH session (`cta-tui serve --ssh`, shared feed) is measured the same way
while the simulator runs. The simulator publishes to the default topics (the
dashboard reads those), so run it on a stack where no other simulator does. Used by bench_tui (`make bench`, section tui).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench.terminal import PtyCommand
from cta_core import topics
from cta_core.settings import Settings

COLUMNS, ROWS = 120, 40
#: seconds per window (BENCH_TUI_CPU_SECONDS shortens it for a quick run)
WINDOW_S = float(os.environ.get("BENCH_TUI_CPU_SECONDS", "30"))
WARMUP_S = 8.0

DASHBOARD = "from cta_tui.cli import main; main()"


def _cpu_seconds(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def _cpu_pct(pid: int, seconds: float) -> float:
    c0, t0 = _cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (_cpu_seconds(pid) - c0) / (time.monotonic() - t0)


def ensure_stations_table(settings: Settings) -> int:
    """The stations table the panels need (what `cta-jobs faust` writes), from the
    shipped coordinates file: idempotent (a compacted topic, the same records)."""
    from cta_core.kafka_clients import ensure_topics, make_admin, make_producer
    from cta_tui.map.geo import geography
    from stream_jobs.transform import record

    geo = geography()
    ensure_topics(make_admin(settings), [topics.SPECS[topics.STATIONS_TABLE]])
    producer = make_producer(settings)
    n = 0
    for line, branches in geo.paths.items():
        members: dict[int, dict[str, int]] = {}
        for branch, path in branches.items():
            for i, sid in enumerate(path):
                members.setdefault(sid, {})[branch] = i
        for sid, by_branch in members.items():
            key, value = record(line, by_branch, sid, geo.names[sid])
            producer.produce(topics.STATIONS_TABLE, key=key.encode(), value=json.dumps(value).encode())
            n += 1
    producer.flush(30)
    return n


class PtyDashboard(PtyCommand):
    """`cta-tui` on a pseudo-terminal of 120x40; :attr:`bytes` counts what it drew."""

    def __init__(self) -> None:
        self.bytes = 0
        env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(ROWS))
        super().__init__([sys.executable, "-c", DASHBOARD], env, COLUMNS, ROWS)

    def on_output(self, data: bytes) -> None:
        self.bytes += len(data)


async def _ssh_session_cpu(settings: Settings, seconds: float) -> float:
    import asyncssh

    from cta_tui.ssh.keys import KeyRing
    from cta_tui.ssh.server import ServeOptions, SSHDashboardServer

    with tempfile.TemporaryDirectory(prefix="bench-tui-ssh-") as tmp:
        work = Path(tmp)
        key = asyncssh.generate_private_key("ssh-ed25519")
        (work / "authorized_keys").write_bytes(key.export_public_key())
        server = SSHDashboardServer(
            ServeOptions(
                host="127.0.0.1",
                port=0,
                host_key=work / "host_key",
                keyring=KeyRing(work / "authorized_keys"),
                settings=settings,
            )
        )
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
            pid = next(s.info.pid for s in server.sessions if s.info.pid)
            pct = await asyncio.to_thread(_cpu_pct, pid, seconds)
            conn.close()
            task.cancel()
            return pct
        finally:
            await server.close()


def measure(settings: Settings, seconds: float = WINDOW_S) -> dict[str, float]:
    """CPU % of one core per view at --speed 60, paused, and per SSH session."""
    ensure_stations_table(settings)
    run_id = f"bench-tui-{os.getpid()}"
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-tui-cpu-") as tmp:
        work = Path(tmp)
        sim = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "producers_sim",
                "--speed",
                "60",
                "--start",
                "07:30",
                "--seed",
                "11",
                "--run-id",
                run_id,
            ],
            stdout=(work / "sim.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        dash: PtyDashboard | None = None
        try:
            dash = PtyDashboard()
            time.sleep(WARMUP_S)
            for view, key in (("network", ""), ("line", "1"), ("map", "m"), ("network", "0")):
                if key:
                    dash.press(key)
                    time.sleep(2)
                sent = dash.bytes
                pct = _cpu_pct(dash.proc.pid, seconds)
                if view in out:  # the network view again, after the others: the median of both
                    view = "network"
                    pct = (out[view] + pct) / 2
                out[view] = pct
                out[f"{view} KiB/s"] = (dash.bytes - sent) / 1024 / seconds
            out["ssh session"] = asyncio.run(_ssh_session_cpu(settings, seconds))
            _pause(settings, run_id)
            time.sleep(3)
            out["network, simulator paused"] = _cpu_pct(dash.proc.pid, seconds)
        finally:
            if dash is not None:
                dash.close()
            sim.terminate()
            try:
                sim.wait(15)
            except subprocess.TimeoutExpired:
                sim.kill()
    return out


def _pause(settings: Settings, run_id: str) -> None:
    """The pause command, addressed to this benchmark's simulator run only."""
    from cta_core.records.control import make_command
    from cta_tui.control import KafkaControlPublisher

    publisher = KafkaControlPublisher(settings)
    try:
        publisher.send(make_command("pause", sender="bench-tui", run_id=run_id))
    finally:
        publisher.close()


if __name__ == "__main__":
    print(json.dumps(measure(Settings.from_env(), float(sys.argv[1]) if len(sys.argv) > 1 else WINDOW_S)))
