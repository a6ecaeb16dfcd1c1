"""Cluster pipeline: the Faust turnstile summary and the dashboard running while one
broker of a three-broker cluster is killed during the simulator: do the summary's counts
end exact, is every event read back once, and what did the dashboard show?"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from bench.terminal import PtyCommand
from bench.trials.checks import (
    SummaryFigures,
    compare,
    expected_events,
    read_back,
    turnstiles_per_station,
    wait_for_summary,
)
from bench.trials.faust import start_worker
from bench.trials.harness import BIN, TrialResult, WatermarkGauge, leader_of, sim_failed, start_sim, stop
from cta_core import topics
from cta_stack.scratch import ScratchStack

#: a librdkafka log line (``%3|1700000000.123|FAIL|...``) drawn on the dashboard's screen
_RDKAFKA_LINE = re.compile(rb"%[0-7]\|\d+\.\d+\|[A-Z_]+\|")


class ScreenDashboard(PtyCommand):
    """``cta-tui`` on a pseudo-terminal, its output kept raw and rendered by pyte; the
    changes of its Kafka state ("Kafka ok", "Kafka down") with their times."""

    def __init__(self, env: Mapping[str, str], columns: int = 120, rows: int = 40):
        import pyte

        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.states: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        env = {**env, "TERM": "xterm-256color"}
        super().__init__([str(BIN / "cta-tui"), "--replay-minutes", "0"], env, columns, rows)

    def on_output(self, data: bytes) -> None:
        with self._lock:
            self.raw += data
            self.stream.feed(data)
            text = "\n".join(self.screen.display)
            state = "Kafka down" if "Kafka down" in text else "Kafka ok" if "Kafka ok" in text else "?"
            if not self.states or self.states[-1][1] != state:
                self.states.append((time.monotonic(), state))

    def log_lines_seen(self) -> int:
        with self._lock:
            return len(_RDKAFKA_LINE.findall(bytes(self.raw)))


@dataclass
class PipelineResult(TrialResult):
    events: int
    turnstiles: int
    victim: int = 0
    sim_exit: int | None = None
    stall_s: float = 0.0
    sim_failed: int = 0
    rejoin_s: float = 0.0
    summary_exact_after_s: float | None = None
    summary_stations: int = 0
    summary_stations_exact: int = 0
    summary_total: int = 0
    read_back: int = 0
    lost: int = 0
    duplicated: int = 0
    dashboard_states: list[tuple[float, str]] = field(default_factory=list)
    dashboard_log_lines_on_screen: int = 0
    dashboard_alive: bool = False
    faust_alive: bool = False


def _kill_during_sim(trial: ScratchStack, result: PipelineResult, events: int) -> tuple[float, float]:
    """The simulator; kill -9 of the turnstiles' leader when a quarter of the events is
    in; when the kill happened and when the simulator ended."""
    settings = trial.settings
    sim = start_sim(trial.env, events)
    gauge = WatermarkGauge(settings, [topics.TURNSTILES, topics.ARRIVALS]).start()
    try:
        gauge.wait_for(events * 0.25, sim)
        result.victim = leader_of(settings, topics.TURNSTILES)
        killed = time.monotonic()
        os.kill(trial.broker_pid(result.victim), signal.SIGKILL)
        sim_out, _ = sim.communicate(timeout=900)
        ended = time.monotonic()
    finally:
        gauge.stop()
        if sim.poll() is None:
            sim.kill()
    result.sim_exit, result.stall_s = sim.returncode, round(gauge.longest_stall(killed, ended), 1)
    result.sim_failed = sim_failed(sim_out)
    return killed, ended


def cluster_pipeline(trial: ScratchStack, events: int, faust_wait: float = 180) -> PipelineResult:
    """The trial on ``trial``'s cluster (three brokers)."""
    settings = trial.settings
    expected = expected_events(trial.env, events)
    stations = turnstiles_per_station(expected)
    faust = start_worker(trial.env, "cta-faults-summary", trial.root / "faust.log")
    dashboard = ScreenDashboard({**trial.env, "CTA_LOG_FILE": str(trial.root / "cta-tui.log")})
    result = PipelineResult(sum(expected.values()), sum(stations.values()))
    try:
        time.sleep(15)  # the worker joins its group, the dashboard connects
        killed, ended = _kill_during_sim(trial, result, events)
        result.rejoin_s = round(trial.up(), 1)
        counts, exact_at = wait_for_summary(
            settings, topics.TURNSTILE_SUMMARY, lambda got: got == stations, faust_wait
        )
        result.summary_exact_after_s = None if exact_at is None else round(exact_at - ended, 1)
        figures = SummaryFigures.of(stations, counts)
        result.summary_stations, result.summary_stations_exact = figures.stations, figures.stations_exact
        result.summary_total = figures.total
        got = read_back(settings, "")
        result.read_back = sum(got.values())
        result.lost, result.duplicated = compare(expected, got)
        result.dashboard_states = [(round(t - killed, 1), s) for t, s in dashboard.states]
        result.dashboard_log_lines_on_screen = dashboard.log_lines_seen()
        result.dashboard_alive = dashboard.proc.poll() is None
        result.faust_alive = faust.poll() is None
    finally:
        dashboard.close()
        stop(faust)
    return result
