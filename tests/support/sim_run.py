"""The simulator for a fixed wall time, as the end-to-end tests run it: ``cta-sim
--speed 600 --seed 1 --no-control --report FILE`` plus the test's arguments, stopped with
SIGINT like ctrl+c; the report it writes (what it produced, per station)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.support.jobs import stop_process


def simulate(env: dict[str, str], report: Path, seconds: float, *args: str) -> dict:
    """cta-sim at 600x for ``seconds`` of wall time with ``args``; its report."""
    argv = [sys.executable, "-m", "producers_sim", "--speed", "600", "--seed", "1", "--no-control"]
    sim = subprocess.Popen(
        [*argv, "--report", str(report), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert sim.poll() is None, f"cta-sim exited early: {sim.stderr.read() if sim.stderr else ''}"
            time.sleep(0.5)  # the simulator runs for a fixed wall time, by design of the test
    finally:
        stop_process(sim)
    assert sim.returncode == 0, sim.stderr.read() if sim.stderr else ""
    produced: dict = json.loads(report.read_text())
    return produced
