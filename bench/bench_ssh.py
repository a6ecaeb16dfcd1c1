"""Cost of `cta-tui serve --ssh` per session, shared feed vs one feed per session.

Each SSH session runs its own dashboard process. With the shared feed (the
default) the server consumes Kafka once and streams records to every dashboard;
with `--feed per-session` each dashboard has its own consumers. Measured side by
side in one run, 1 then 4 concurrent sessions in each mode, while
`cta-sim --speed 60` publishes. Per session: resident memory (RSS, and USS) of
the dashboard's process tree, CPU, bytes sent to the terminal, and TCP
connections to the broker (the load each viewer adds on Kafka); for the server
process: CPU and memory (it also runs this benchmark's SSH clients).
Target: <= 150 MB resident per session with 4 sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh
import psutil

from bench.targets import Section, check
from cta_core.kafka_clients import wait_for_broker
from cta_core.settings import Settings
from cta_tui.ssh.keys import KeyRing
from cta_tui.ssh.server import ServeOptions, SSHDashboardServer

WARMUP_S = 10.0
WINDOW_S = 15.0
SAMPLE_EVERY_S = 1.0
COLUMNS, ROWS = 120, 40


@dataclass
class SessionStats:
    rss_mb: list[float] = field(default_factory=list)
    uss_mb: list[float] = field(default_factory=list)
    cpu_pct: float = 0.0
    bytes_out: int = 0
    broker_conns: int = 0


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _memory(procs: list[psutil.Process]) -> tuple[float, float]:
    rss = uss = 0.0
    for p in procs:
        try:
            info = p.memory_full_info()
            rss += info.rss
            uss += getattr(info, "uss", info.rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return rss / 2**20, uss / 2**20


def _broker_connections(procs: list[psutil.Process], kafka_port: int) -> int:
    count = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            count += sum(1 for c in p.net_connections(kind="tcp") if c.raddr and c.raddr.port == kafka_port)
    return count


async def _measure(server: SSHDashboardServer, key: asyncssh.SSHKey, sessions: int, kafka_port: int) -> dict:
    conns = []
    counters: list[list[int]] = []
    pumps = []

    async def pump(proc: asyncssh.SSHClientProcess, counter: list[int]) -> None:  # type: ignore[type-arg]
        while True:
            data = await proc.stdout.read(65536)
            if not data:
                return
            counter[0] += len(data)

    for _ in range(sessions):
        conn = await asyncssh.connect(
            "127.0.0.1", server.port, known_hosts=None, username="bench", client_keys=[key], agent_path=None
        )
        proc = await conn.create_process(term_type="xterm-256color", term_size=(COLUMNS, ROWS), encoding=None)
        counter = [0]
        conns.append(conn)
        counters.append(counter)
        pumps.append(asyncio.create_task(pump(proc, counter)))
    await asyncio.sleep(WARMUP_S)
    pids = [s.info.pid for s in server.sessions if s.info.pid]
    stats = {pid: SessionStats() for pid in pids}
    me = psutil.Process()
    cpu0 = {pid: _cpu_seconds(_tree(pid)) for pid in pids}
    server_cpu0 = sum(me.cpu_times()[:2])
    bytes0 = sum(c[0] for c in counters)
    t0 = time.monotonic()
    while time.monotonic() - t0 < WINDOW_S:
        for pid in pids:
            rss, uss = _memory(_tree(pid))
            stats[pid].rss_mb.append(rss)
            stats[pid].uss_mb.append(uss)
        await asyncio.sleep(SAMPLE_EVERY_S)
    elapsed = time.monotonic() - t0
    for pid in pids:
        procs = _tree(pid)
        stats[pid].cpu_pct = 100 * (_cpu_seconds(procs) - cpu0[pid]) / elapsed
        stats[pid].broker_conns = _broker_connections(procs, kafka_port)
    server_cpu = 100 * (sum(me.cpu_times()[:2]) - server_cpu0) / elapsed
    out_rate = (sum(c[0] for c in counters) - bytes0) / elapsed / max(len(pids), 1)
    for conn in conns:
        conn.close()
    for task in pumps:
        task.cancel()
    deadline = time.monotonic() + 30
    while server.sessions and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return {
        "mode": "shared" if server.hub is not None else "per-session",
        "sessions": len(pids),
        "rss": statistics.median(statistics.median(s.rss_mb) for s in stats.values()),
        "rss_max": max(max(s.rss_mb) for s in stats.values()),
        "uss": statistics.median(statistics.median(s.uss_mb) for s in stats.values()),
        "cpu": statistics.median(s.cpu_pct for s in stats.values()),
        "conns": statistics.median(s.broker_conns for s in stats.values()),
        "server_cpu": server_cpu,
        "server_rss": me.memory_info().rss / 2**20,
        "out_kbps": out_rate / 1024,
        "left": len(server.sessions),
    }


async def _bench(settings: Settings, workdir: Path) -> list[dict]:
    key = asyncssh.generate_private_key("ssh-ed25519")
    authorized = workdir / "authorized_keys"
    authorized.write_bytes(key.export_public_key())
    results = []
    for shared in (False, True):
        server = SSHDashboardServer(
            ServeOptions(
                host="127.0.0.1",
                port=0,
                host_key=workdir / "host_key",
                keyring=KeyRing(authorized),
                settings=settings,
                shared_feed=shared,
            )
        )
        await server.start()
        try:
            results += [await _measure(server, key, n, settings.ports.kafka) for n in (1, 4)]
        finally:
            await server.close()
    return results


def run() -> Section:
    settings = Settings.from_env()
    wait_for_broker(settings, 15)
    sim_exe = shutil.which("cta-sim") or str(Path(sys.executable).with_name("cta-sim"))
    sim = subprocess.Popen(
        [sim_exe, "--speed", "60", "--seed", "7"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ssh-") as tmp:
            results = asyncio.run(_bench(settings, Path(tmp)))
    finally:
        sim.terminate()
        try:
            sim.wait(15)
        except subprocess.TimeoutExpired:
            sim.kill()
            sim.wait()
    own_1, own_4, shared_1, shared_4 = results
    worst = max(r["rss_max"] for r in (own_4, shared_4))
    target = check("ssh", "rss_mb", worst)
    rows = "\n".join(
        f"| {r['mode']} | {r['sessions']} | {r['rss']:.0f} | {r['rss_max']:.0f} | {r['uss']:.0f} | "
        f"{r['cpu']:.1f} | {r['out_kbps']:.1f} | {r['conns']:.0f} | {r['server_cpu']:.1f} | "
        f"{r['server_rss']:.0f} | {r['left']} |"
        for r in results
    )
    text = f"""## SSH dashboard: cost per session (`cta-tui serve --ssh`)

One dashboard process per SSH session; Kafka read once by the server (shared feed, the
default) or by every dashboard (`--feed per-session`). Measured with `cta-sim --speed 60`
publishing, {COLUMNS}x{ROWS} terminals, {WARMUP_S:.0f} s warm-up then {WINDOW_S:.0f} s sampled every
{SAMPLE_EVERY_S:.0f} s; medians over sessions and samples. Memory is the session's whole process tree.
Server CPU/RSS include this benchmark's own SSH clients (same process).

| feed | concurrent sessions | RSS per session, MB | RSS max, MB | USS per session, MB | CPU per session, % of a core | output per session, KiB/s | TCP connections to Kafka per session | server CPU, % | server RSS, MB | sessions left after disconnect |
|---|---|---|---|---|---|---|---|---|---|---|
{rows}

- Target: resident memory per session with 4 sessions {target.describe()} (the worst session): {target.verdict}.
- Shared vs per-session, 4 sessions: RSS per session x{shared_4["rss"] / own_4["rss"]:.2f},
  CPU per session x{shared_4["cpu"] / max(own_4["cpu"], 0.01):.2f}, broker connections
  {shared_4["conns"] * 4:.0f} vs {own_4["conns"] * 4:.0f} in all (the server's one consumer comes on top
  of the shared figure).
- 4 sessions vs 1, per-session feed: RSS per session x{own_4["rss"] / own_1["rss"]:.2f},
  CPU per session x{own_4["cpu"] / max(own_1["cpu"], 0.01):.2f}; shared feed: RSS x{shared_4["rss"] / shared_1["rss"]:.2f},
  CPU x{shared_4["cpu"] / max(shared_1["cpu"], 0.01):.2f}.
"""
    return Section(text, [target])


if __name__ == "__main__":
    print(run().markdown)
