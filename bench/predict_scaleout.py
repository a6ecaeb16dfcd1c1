"""The predictions bench's scale-out part: one worker against two in one group on the same
arrivals, and the take-over time when one of two is killed.

Accuracy: every prediction a group published is scored against the arrival that followed;
the arrival-triggered ones (generated at their own train's arrival) are also set against
the CTA method's eta for the same (train, generated, station), as the section's target is.

Take-over: two workers in one group behind ``cta-sim --speed 300``; one is killed
(SIGKILL) and the time from the kill until the survivor has published predictions for the
killed worker's trains on every line is taken (wall clock, the predictions' own Kafka
timestamps); the killed worker is started again, the partitions split again, and the next
trial kills the other one.
"""

from __future__ import annotations

import math
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psutil

from cta_core import topics
from cta_core.kafka_clients import make_admin
from cta_core.settings import Settings
from stream_jobs.predict.scoring import Actuals, Comparison, bucket_of, summarize
from tests.support.jobs import unique
from tests.support.predict_workers import ALL_LINES, BIN, Watch, owned, start_sim, start_worker, wait_until

#: output topics of the two-worker group (before the run's suffix)
TWO = "-two"
TRIAL_SPEED = 300


def seconds(value: datetime | int) -> float:
    """fastavro decodes timestamp-millis to an aware datetime."""
    return value.timestamp() if isinstance(value, datetime) else value / 1000


def start_group(env: dict[str, str], suffix: str, group: str, workers: int, variant: str) -> list:
    """``workers`` `cta-jobs predict` processes in ``group``; ``variant`` names their
    output topics (predictions and changelog) apart from another group's on the same run."""
    cmd = [str(BIN / "cta-jobs"), "predict", "--topic-suffix", suffix, "--group-id", group]
    if variant:
        cmd += ["--predictions-topic", topics.PREDICTIONS + variant]
        cmd += ["--state-topic", topics.PREDICTIONS_STATE + variant]
    return [
        subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        for _ in range(workers)
    ]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def wait_settled(settings: Settings, group: str, members: int, timeout: float = 90.0) -> None:
    """Until ``group`` is stable with ``members`` members that all own partitions."""
    from confluent_kafka import ConsumerGroupState

    admin = make_admin(settings)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        desc = admin.describe_consumer_groups([group])[group].result(timeout=10)
        owning = [m for m in desc.members if m.assignment and m.assignment.topic_partitions]
        if desc.state == ConsumerGroupState.STABLE and len(owning) == members:
            return
        time.sleep(0.5)
    raise RuntimeError(f"consumer group {group} did not settle with {members} members in {timeout:.0f} s")


@dataclass(frozen=True)
class OutputScore:
    published: int
    #: the larger p90 of the 0-2 and 2-5 minute horizons
    p90_5min: float
    mae_all: float
    #: arrival-triggered predictions with a CTA eta for the same point: MAE of both
    points: int
    mae_triggered: float
    mae_cta: float

    @property
    def gain(self) -> float:
        return 1 - self.mae_triggered / self.mae_cta if self.mae_cta else math.nan


def score_output(records: list[dict], actual: Actuals, comp: Comparison) -> OutputScore:
    errors: dict[str, list[float]] = {}
    ours: list[float] = []
    cta: list[float] = []
    for r in records:
        generated, pred = seconds(r["generated_at"]), seconds(r["predicted_arrival"])
        t = actual.next_arrival(r["train_id"], r["station_id"], r["direction"], generated)
        name = bucket_of(pred - generated)
        if t is None or name is None:
            continue
        errors.setdefault(name, []).append(abs(t - pred))
        c = comp.cta_at.get((r["train_id"], round(generated * 1000), r["station_id"], r["direction"]))
        if c is not None:
            ours.append(abs(t - pred))
            cta.append(abs(t - c))
    buckets = summarize(errors)
    n = len(ours)
    return OutputScore(
        len(records),
        max(buckets[0].p90, buckets[1].p90),
        buckets[-1].mae,
        n,
        sum(ours) / n if n else math.nan,
        sum(cta) / n if n else math.nan,
    )


def score_table(rows: list[tuple[str, OutputScore]]) -> list[str]:
    out = [
        "| workers | predictions published | p90 up to 5 min s | MAE s | arrival-triggered points "
        "| their MAE s | CTA method's MAE s | lower than CTA |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, s in rows:
        out.append(
            f"| {label} | {s.published:,} | {s.p90_5min:.1f} | {s.mae_all:.1f} | {s.points:,} "
            f"| {s.mae_triggered:.2f} | {s.mae_cta:.2f} | {s.gain:.1%} |"
        )
    return out


class _Pair:
    """Two workers of one group, each with its own log per start."""

    def __init__(self, settings: Settings, suffix: str, tmp: Path):
        self.settings, self.suffix, self.tmp = settings, suffix, tmp
        self.group = unique("bench.predict.takeover")
        self.starts = 0
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        for _ in range(2):
            p, log = self._start()
            self.procs.append(p)
            self.logs.append(log)

    def _start(self) -> tuple[subprocess.Popen[bytes], Path]:
        self.starts += 1
        log = self.tmp / f"worker-{self.starts}.log"
        return start_worker(self.settings, self.suffix, self.group, log), log

    def restart(self, slot: int) -> None:
        self.procs[slot], self.logs[slot] = self._start()

    def parts(self) -> list[set[int] | None]:
        return [owned(log) for log in self.logs]

    def split(self) -> bool:
        a, b = self.parts()
        return bool(a) and bool(b) and not (a or set()) & (b or set())

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def _one_trial(pair: _Pair, watch: Watch, slot: int) -> float:
    """Kill the worker in ``slot`` once both publish; seconds until the other covers for it."""
    victim = pair.parts()[slot] or set()
    joined_ms = int(time.time() * 1000)
    watch.drop_before(joined_ms)

    # a partition may hold no train of a short line (Yellow runs two to four): wait for the
    # lines the victim's partitions have trains of
    def both_publishing() -> bool:
        every = watch.running_lines(set(watch.partition_of.values())) == ALL_LINES
        return every and watch.lines_of(victim, joined_ms) >= watch.running_lines(victim)

    wait_until("both publishing", both_publishing, watch, 60)
    lines = watch.running_lines(victim)
    pair.procs[slot].send_signal(signal.SIGKILL)
    pair.procs[slot].wait(timeout=10)
    killed_ms = int(time.time() * 1000)
    wait_until("the take-over", lambda: watch.lines_of(victim, killed_ms) >= lines, watch, 90)
    took = ((watch.first_covering(victim, killed_ms, lines) or 0) - killed_ms) / 1000
    pair.restart(slot)
    return took


def takeover_trials(settings: Settings, suffix: str, trials: int, tmp: Path) -> list[float]:
    """Seconds from a SIGKILL until the survivor covers every line of the killed one's trains."""
    pair = _Pair(settings, suffix, tmp)
    watch = Watch(settings, suffix)
    sim = None
    out: list[float] = []
    try:
        wait_until("two workers", lambda: all(p is not None for p in pair.parts()), watch, 90)
        sim = start_sim(settings, suffix, TRIAL_SPEED, "16h", tmp / "sim.log")
        for trial in range(trials):
            wait_until("the partitions split", pair.split, watch, 90)
            out.append(_one_trial(pair, watch, trial % 2))
    finally:
        watch.close()
        pair.stop()
        if sim is not None and sim.poll() is None:
            sim.send_signal(signal.SIGTERM)
            sim.wait(timeout=30)
    return out
