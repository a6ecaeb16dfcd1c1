"""Broker kill: kill -9 one Kafka broker while the simulator produces as fast as it can,
bring it back with ``cta-stack up``, and count what was read back against what was
produced (lost, duplicated), how long producing stalled, and how long the broker took to
rejoin and every partition to have its replicas in sync again."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

from bench.trials.checks import compare, expected_events, read_back
from bench.trials.harness import (
    EVENT_TOPICS,
    SEED,
    TrialResult,
    WatermarkGauge,
    all_in_sync,
    leader_of,
    sim_failed,
    start_sim,
    suffix,
)
from cta_stack.scratch import ScratchStack


@dataclass
class KillResult(TrialResult):
    brokers: int
    events: int
    victim: int
    produced: int = 0
    read_back: int = 0
    lost: int = 0
    duplicated: int = 0
    sim_exit: int | None = None
    sim_failed: int | None = None
    stall_s: float = 0.0
    sim_s: float = 0.0
    rejoin_s: float = 0.0
    in_sync_s: float = 0.0
    in_sync: bool = False
    notes: list[str] = field(default_factory=list)

    def row(self) -> str:
        """The trial as a row of docs/reliability.md's table."""
        what = f"one of {self.brokers} brokers" if self.brokers > 1 else "the only broker"
        return (
            f"| kill -9 of {what} (broker {self.victim}) during `cta-sim --speed max --count "
            f"{self.events}` | {self.produced:,} | {self.read_back:,} | {self.lost} | {self.duplicated} | "
            f"longest produce stall {self.stall_s:.1f} s; broker back {self.rejoin_s:.1f} s after "
            f"`cta-stack up`, all replicas in sync {self.in_sync_s:.1f} s after | "
            f"simulator exit {self.sim_exit}, {self.sim_failed} failed deliveries; {'; '.join(self.notes)} |"
        )


def _kill_during_sim(
    trial: ScratchStack,
    result: KillResult,
    sim: subprocess.Popen[str],
    names: list[str],
    *,
    victim: int | None,
    down: float,
    kill_after: float,
) -> float | None:
    """Kill the victim when ``kill_after`` of the events is in the topics, ``cta-stack up``
    after ``down`` seconds (when > 0), wait for the simulator; when ``up`` began (or None)."""
    settings = trial.settings
    gauge = WatermarkGauge(settings, names).start()
    started = time.monotonic()
    restarted = None
    try:
        gauge.wait_for(result.events * kill_after, sim)
        result.victim = victim or leader_of(settings, names[1])
        killed_at = time.monotonic()
        os.kill(trial.broker_pid(result.victim), signal.SIGKILL)
        if down > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                sim.wait(down)
            restarted = time.monotonic()
            result.rejoin_s = trial.up()
        out, _ = sim.communicate(timeout=900)
        ended = time.monotonic()
        result.sim_exit = sim.returncode
        result.sim_failed = sim_failed(out or "")
        result.sim_s = ended - started
        result.stall_s = gauge.longest_stall(killed_at, ended)
    finally:
        gauge.stop()
        if sim.poll() is None:
            sim.kill()
    return restarted


def broker_kill(
    trial: ScratchStack,
    events: int,
    *,
    victim: int | None = None,
    down: float = 0.0,
    kill_after: float = 0.25,
    seed: int = SEED,
) -> KillResult:
    """Run the simulator for ``events`` events; when a ``kill_after`` share of them is in
    the topics, kill -9 broker ``victim`` (default: the leader of the turnstiles' partition
    0); after ``down`` seconds (0: once the simulator ended) run ``cta-stack up``."""
    topic_suffix = suffix("fault")
    settings = trial.settings
    names = [t + topic_suffix for t in EVENT_TOPICS]
    expected = expected_events(trial.env, events, seed)
    result = KillResult(trial.brokers, events, victim or 0, produced=sum(expected.values()))
    sim = start_sim(trial.env, events, seed=seed, topic_suffix=topic_suffix)
    restarted = _kill_during_sim(trial, result, sim, names, victim=victim, down=down, kill_after=kill_after)
    if restarted is None:
        restarted = time.monotonic()
        result.rejoin_s = trial.up()
    deadline = time.monotonic() + 120
    while True:
        result.in_sync = all_in_sync(settings, min(3, trial.brokers))
        if result.in_sync or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    result.in_sync_s = time.monotonic() - restarted
    got = read_back(settings, topic_suffix)
    result.read_back = sum(got.values())
    result.lost, result.duplicated = compare(expected, got)
    return result
