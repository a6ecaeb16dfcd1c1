"""Faust worker kill: ``workers`` workers on one app id; kill -9 of one of them when a
third of the turnstile entries is in Kafka (with one worker, a new one is started in its
place at once, as a supervisor would); then the seconds until TURNSTILE_SUMMARY equals
the entries produced for every station, and the entries over- and under-counted.

Two workloads: ``sim``, ``cta-sim --speed max`` on a stack of its own (the default
topics), and ``steady``, synthetic entries at a steady rate on topics of their own
against a running stack, which also gives the seconds from the kill until everything
produced before it was counted (the time to recover)."""

from __future__ import annotations

import random
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bench.trials.checks import SummaryFigures, expected_events, turnstiles_per_station, wait_for_summary
from bench.trials.faust import STATIONS, OwnTopics, per_station, produce_turnstiles, start_worker, wait_ready
from bench.trials.harness import TrialResult, WatermarkGauge, start_sim, stop
from cta_core import topics
from cta_core.settings import Settings
from cta_stack.scratch import ScratchStack


@dataclass
class FaustKillResult(TrialResult):
    workload: str
    workers: int
    turnstiles: int
    sim_exit: int | None = None
    #: from the kill until everything produced before it was counted (steady only)
    recovered_s: float | None = None
    #: until every station's count was exact, from the kill and from the last entry produced
    exact_after_kill_s: float | None = None
    exact_after_end_s: float | None = None
    summary_stations: int = 0
    summary_stations_exact: int = 0
    summary_total: int = 0
    over: int = 0
    under: int = 0


class Workload(Protocol):
    """Where the workers run and what they count."""

    name: str
    settings: Settings
    turnstiles: str
    summary: str
    expected: dict[int, int]
    poll_s: float

    def worker(self, log: Path) -> subprocess.Popen[bytes]: ...

    def settle(self, logs: list[Path]) -> None:
        """Until the workers have joined their group."""

    def start(self) -> None:
        """Start producing; return once a third of the entries is in Kafka."""

    def before_kill(self) -> dict[int, int] | None:
        """Entries per station produced before the kill, where known."""

    def finish(self) -> int | None:
        """Until producing ended; the simulator's exit code."""

    def close(self) -> None: ...


class SimWorkload:
    """``cta-sim --speed max`` on a trial's own stack, the default topics."""

    name, poll_s = "sim", 2.0

    def __init__(self, trial: ScratchStack, events: int):
        self.trial, self.events, self.settings = trial, events, trial.settings
        self.turnstiles, self.summary = topics.TURNSTILES, topics.TURNSTILE_SUMMARY
        self.expected = turnstiles_per_station(expected_events(trial.env, events))
        self.app_id = f"cta-faults-faust-{time.time_ns() % 10**6}"
        self.sim: subprocess.Popen[str] | None = None

    def worker(self, log: Path) -> subprocess.Popen[bytes]:
        return start_worker(self.trial.env, self.app_id, log)

    def settle(self, logs: list[Path]) -> None:
        time.sleep(15)  # the workers join the group and share the partitions

    def start(self) -> None:
        self.sim = start_sim(self.trial.env, self.events)
        gauge = WatermarkGauge(self.settings, [self.turnstiles]).start()
        try:
            gauge.wait_for(sum(self.expected.values()) / 3, self.sim)
        finally:
            gauge.stop()

    def before_kill(self) -> dict[int, int] | None:
        return None

    def finish(self) -> int | None:
        assert self.sim is not None
        self.sim.communicate(timeout=900)
        return self.sim.returncode

    def close(self) -> None:
        if self.sim is not None and self.sim.poll() is None:
            self.sim.kill()
            self.sim.wait(10)


class SteadyWorkload(OwnTopics):
    """Synthetic entries at ``rate`` per second on topics of their own."""

    name, poll_s = "steady", 0.5

    def __init__(self, settings: Settings, events: int, rate: float):
        super().__init__(settings, "kill")
        rng = random.Random(2)
        self.sids = [rng.choice(STATIONS) for _ in range(events)]
        self.expected = per_station(self.sids)
        self.rate, self.third = rate, events // 3
        self.producer: threading.Thread | None = None

    def settle(self, logs: list[Path]) -> None:
        for log in logs:
            wait_ready(log)

    def start(self) -> None:
        produce_turnstiles(self.settings, self.turnstiles, self.sids[: self.third], self.rate)
        rest = (self.settings, self.turnstiles, self.sids[self.third :], self.rate)
        self.producer = threading.Thread(target=produce_turnstiles, args=rest)
        self.producer.start()  # the stream goes on while a worker dies

    def before_kill(self) -> dict[int, int] | None:
        return per_station(self.sids[: self.third])

    def finish(self) -> int | None:
        assert self.producer is not None
        self.producer.join()
        return None

    def close(self) -> None:
        if self.producer is not None:
            self.producer.join()
        super().close()


def _recovered(workload: Workload, killed_at: float) -> float | None:
    before = workload.before_kill()
    if before is None:
        return None
    _counts, at = wait_for_summary(
        workload.settings,
        workload.summary,
        lambda got: all(got.get(s, 0) >= n for s, n in before.items()),
        300,
        workload.poll_s,
    )
    return None if at is None else round(at - killed_at, 1)


def faust_kill(workload: Workload, workers: int, log_dir: Path, wait: float = 300) -> FaustKillResult:
    """The trial on ``workload`` (closed afterwards)."""
    logs = [log_dir / f"faust-{i}.log" for i in range(workers)]
    procs = [workload.worker(log) for log in logs]
    result = FaustKillResult(workload.name, workers, sum(workload.expected.values()))
    try:
        workload.settle(logs)
        workload.start()
        procs[0].kill()
        killed_at = time.monotonic()
        procs[0].wait(10)
        if workers == 1:  # a supervisor restarts it
            procs.append(workload.worker(log_dir / "faust-restarted.log"))
        result.recovered_s = _recovered(workload, killed_at)
        result.sim_exit = workload.finish()
        ended = time.monotonic()
        counts, exact_at = wait_for_summary(
            workload.settings, workload.summary, lambda got: got == workload.expected, wait, workload.poll_s
        )
        if exact_at is not None:
            result.exact_after_kill_s = round(exact_at - killed_at, 1)
            result.exact_after_end_s = round(exact_at - ended, 1)
        figures = SummaryFigures.of(workload.expected, counts)
        result.summary_stations, result.summary_stations_exact = figures.stations, figures.stations_exact
        result.summary_total, result.over, result.under = figures.total, figures.over, figures.under
    finally:
        for proc in procs:
            stop(proc)
        workload.close()
    return result
