"""The Faust summary against a live simulator and behind a backlog (part of bench jobs).

Keep-up: ``cta-sim`` writes into topics of its own (``--topic-suffix``) while one
``cta-jobs faust`` worker counts them; every second the turnstile events produced so far
(the topic's end offsets) are compared with the summary's total, and the lag is given in
seconds of events too: how long ago the topic held as many events as the summary has
counted now. The largest lag while the simulator runs is held to the target. After the
simulator stops: the seconds until the summary's counts are exact, station by station
(checked against the topic decoded with a bare consumer).

Catch-up: a worker with a new app id started behind N events, then stopped, N more
produced, and the same app id restarted: events/s and re-reads of each.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from bench.trials.faust import start_worker, wait_ready
from cta_core.avro import AvroDecoder, RegistryLookup, station_id_of
from cta_core.kafka_clients import ensure_topics, make_admin, make_consumer
from cta_core.settings import Settings
from cta_core.topics import TURNSTILES, TopicSpec

REREAD = "re-reading from offset"


@dataclass
class KeepUp:
    """One keep-up run: (wall s, produced, lag events, lag s) samples and the wait for exact counts."""

    sim_args: list[str]
    samples: list[tuple[float, int, int, float]] = field(default_factory=list)
    produced: int = 0
    sim_s: float = 0.0
    exact_after_s: float | None = None
    rereads: int = 0

    @property
    def max_lag_s(self) -> float:
        """The largest lag in seconds while the simulator ran."""
        return max((s[3] for s in self.samples if s[0] <= self.sim_s), default=0.0)


class SummaryReader:
    """The latest TURNSTILE_SUMMARY count per station, read as it is written."""

    def __init__(self, settings: Settings, topic: str):
        self.consumer = make_consumer(settings, f"bench.reader.{uuid.uuid4().hex[:8]}")
        self.consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        self.latest: dict[int, int] = {}

    def poll(self, timeout: float = 0.2) -> dict[int, int]:
        for msg in self.consumer.consume(5000, timeout):
            value = msg.value()
            if not msg.error() and value is not None:
                record = json.loads(value)
                self.latest[int(record["STATION_ID"])] = int(record["COUNT"])
        return self.latest

    def close(self) -> None:
        self.consumer.close()


def end_offsets(consumer: Consumer, topic: str) -> int:
    meta = consumer.list_topics(topic, timeout=5).topics[topic]
    return sum(
        consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1] for p in meta.partitions
    )


def per_station(settings: Settings, topic: str, n: int) -> dict[int, int]:
    """The first ``n`` events of ``topic`` counted per station by a bare consumer."""
    decoder = AvroDecoder(RegistryLookup(settings))
    consumer = make_consumer(settings, f"bench.check.{uuid.uuid4().hex[:8]}")
    meta = consumer.list_topics(topic, timeout=5).topics[topic]
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions])
    counts: Counter[int] = Counter()
    seen, deadline = 0, time.monotonic() + 120
    try:
        while seen < n and time.monotonic() < deadline:
            for msg in consumer.consume(5000, 0.5):
                if not msg.error():
                    counts[station_id_of(decoder.decode(msg.value()))] += 1
                    seen += 1
    finally:
        consumer.close()
    return dict(counts)


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _sample(run: KeepUp, t: float, produced: int, counted: int, history: list[tuple[float, int]]) -> None:
    """Record a sample; the lag in seconds is how long ago the topic held as many events
    as the summary has counted now (0 when it has counted everything)."""
    history.append((t, produced))
    lag = max(produced - counted, 0)
    behind_since = max((ht for ht, hp in history if hp <= counted), default=0.0)
    run.samples.append((t, produced, lag, 0.0 if lag == 0 else t - behind_since))


def keep_up(settings: Settings, env: dict[str, str], sim_args: list[str], tmp: Path) -> KeepUp:
    """``cta-sim SIM_ARGS`` with one worker counting (see the module's docstring)."""
    suffix = f".bench{uuid.uuid4().hex[:6]}"
    topic, summary = f"{TURNSTILES}{suffix}", f"bench.summary.{uuid.uuid4().hex[:8]}"
    ensure_topics(make_admin(settings), [TopicSpec(topic, partitions=3)])
    log = tmp / f"keepup-{suffix[1:]}.log"
    worker = start_worker(
        env, f"bench-keepup-{suffix[6:]}", log, turnstiles=topic, summary=summary, data_dir=tmp
    )
    run, sim, reader = KeepUp(sim_args), None, SummaryReader(settings, summary)
    history: list[tuple[float, int]] = []
    try:
        wait_ready(log)
        sim_cmd = [sys.executable, "-m", "producers_sim", *sim_args, "--topic-suffix", suffix, "--no-control"]
        sim = subprocess.Popen(sim_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        started = next_sample = time.monotonic()
        while sim.poll() is None:
            counted = sum(reader.poll().values())
            if time.monotonic() >= next_sample:
                next_sample += 1.0
                _sample(
                    run, time.monotonic() - started, end_offsets(reader.consumer, topic), counted, history
                )
        run.sim_s = time.monotonic() - started
        run.produced = end_offsets(reader.consumer, topic)
        run.exact_after_s = _until_exact(settings, reader, topic, run.produced)
    finally:
        _stop(sim)
        _stop(worker)
        reader.close()
    run.rereads = log.read_text(errors="replace").count(REREAD)
    return run


def _until_exact(settings: Settings, reader: SummaryReader, topic: str, produced: int) -> float | None:
    stopped = time.monotonic()
    expected = per_station(settings, topic, produced)
    deadline = stopped + 300
    while time.monotonic() < deadline:
        if reader.poll() == expected:
            return time.monotonic() - stopped
    return None


@dataclass
class CatchUp:
    """A worker behind a backlog: events/s and re-reads, new app id then restart."""

    events: int
    new_eps: float = 0.0
    new_rereads: int = 0
    restart_eps: float = 0.0
    restart_rereads: int = 0


def _drain(
    env: dict[str, str],
    settings: Settings,
    app_id: str,
    topics: tuple[str, str],
    goal: tuple[int, int],
    tmp: Path,
    workers: int = 1,
) -> tuple[float, int]:
    """Start ``workers`` workers on one app id and time them from ready to the summary's
    total reaching ``goal[0]``; (events/s over the ``goal[1]`` events counted, re-reads)."""
    total, backlog = goal
    logs = [tmp / f"{app_id}-{uuid.uuid4().hex[:4]}.log" for _ in range(workers)]
    procs = [
        start_worker(env, app_id, log, turnstiles=topics[0], summary=topics[1], data_dir=tmp) for log in logs
    ]
    reader = SummaryReader(settings, topics[1])
    try:
        for log in logs:
            wait_ready(log)
        started = time.monotonic()
        deadline = started + 600
        while sum(reader.poll().values()) < total and time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                raise RuntimeError(f"worker exited:\n{logs[0].read_text()[-2000:]}")
        took = time.monotonic() - started
    finally:
        for proc in procs:
            _stop(proc)
        reader.close()
    return backlog / took, sum(log.read_text(errors="replace").count(REREAD) for log in logs)


def catch_up(
    settings: Settings, env: dict[str, str], n: int, produce: Callable[[str, int], None], tmp: Path
) -> CatchUp:
    """See the module's docstring; ``produce(topic, n)`` writes n turnstile events."""
    topic, summary = f"bench.turnstiles.{uuid.uuid4().hex[:8]}", f"bench.summary.{uuid.uuid4().hex[:8]}"
    ensure_topics(make_admin(settings), [TopicSpec(topic, partitions=3)])
    app_id, out = f"bench-catchup-{uuid.uuid4().hex[:8]}", CatchUp(n)
    produce(topic, n)
    out.new_eps, out.new_rereads = _drain(env, settings, app_id, (topic, summary), (n, n), tmp)
    produce(topic, n)
    out.restart_eps, out.restart_rereads = _drain(env, settings, app_id, (topic, summary), (2 * n, n), tmp)
    return out


def one_and_two(
    settings: Settings, env: dict[str, str], n: int, produce: Callable[[str, int], None], tmp: Path
) -> tuple[float, float]:
    """Events/s of one worker, then of two on one app id, each behind a backlog of ``n``."""
    rates = []
    for workers in (1, 2):
        topic, summary = f"bench.turnstiles.{uuid.uuid4().hex[:8]}", f"bench.summary.{uuid.uuid4().hex[:8]}"
        ensure_topics(make_admin(settings), [TopicSpec(topic, partitions=3)])
        produce(topic, n)
        app_id = f"bench-workers-{uuid.uuid4().hex[:8]}"
        rates.append(_drain(env, settings, app_id, (topic, summary), (n, n), tmp, workers)[0])
    return rates[0], rates[1]
