"""Fault trials: kill a Kafka broker while the simulator produces as fast as it can, then
count what was read back against what was produced (docs/reliability.md).

Every trial runs on its OWN local stack (a temporary CTA_STACK_DIR, ports moved by
``--port-base``), never the shared one, and deletes it afterwards::

    python -m bench.faults broker-kill --brokers 3 --events 1500000
    python -m bench.faults broker-kill --brokers 1 --events 600000 --down 10

Not part of ``make bench`` (that runs on the shared stack); the integration test
tests/integration/cta_stack/test_cluster.py runs a short version of the three-broker
trial. What is counted:

- expected: the same simulator run (same seed, same ``--max-events``) with ``--dry-run``;
- read back: every arrival and turnstile event in the topics, decoded, compared with the
  expected ones as multisets (lost = expected but missing, duplicated = read more often
  than produced);
- stall: the longest time the topics' high watermarks did not grow while the simulator
  ran (sampled every 0.1 s), i.e. how long producing stopped;
- rejoin: how long ``cta-stack up`` took to bring the killed broker back, and until every
  partition had all its replicas in sync again.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cta_core import topics
from cta_core.settings import Settings

EVENT_TOPICS = (topics.ARRIVALS, topics.TURNSTILES)
SEED = 20261201
_BIN = Path(sys.executable).parent


def free_port_base(brokers: int = 3) -> int:
    """A port base whose every port (services and all brokers) is free on 127.0.0.1."""
    import random
    import socket

    from cta_core.ports import BROKER_PORT_STEP

    def free(port: int) -> bool:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
        return True

    for _ in range(200):
        base = random.randrange(20000, 60000, 100)
        wanted = [base + i for i in range(6)] + [
            base + BROKER_PORT_STEP * i + j for i in range(brokers) for j in (0, 1)
        ]
        if all(free(p) for p in wanted):
            return base
    raise RuntimeError("no free port range found")


def stack_env(base: int, stack_dir: Path) -> dict[str, str]:
    """Environment of a separate stack: its own directory and ports from ``base`` up."""
    return {
        **os.environ,
        "CTA_STACK_DIR": str(stack_dir),
        "CTA_KAFKA_PORT": str(base),
        "CTA_KAFKA_CONTROLLER_PORT": str(base + 1),
        "CTA_SCHEMA_REGISTRY_PORT": str(base + 2),
        "CTA_REST_PROXY_PORT": str(base + 3),
        "CTA_CONNECT_PORT": str(base + 4),
        "CTA_POSTGRES_PORT": str(base + 5),
        # every client reads the broker count the stack records; nothing inherited
        "CTA_KAFKA_BROKERS": "",
        "CTA_BOOTSTRAP_SERVERS": "",
        "CTA_SCHEMA_REGISTRY_URL": "",
        "CTA_REST_PROXY_URL": "",
        "CTA_CONNECT_URL": "",
    }


def settings_for(env: Mapping[str, str]) -> Settings:
    return Settings.from_env(env)


@dataclass
class TrialStack:
    """A throw-away local stack for one trial."""

    env: dict[str, str]
    brokers: int

    @classmethod
    @contextlib.contextmanager
    def running(
        cls, brokers: int, base: int, only: tuple[str, ...] = ("rest-proxy",)
    ) -> Iterator[TrialStack]:
        root = Path(tempfile.mkdtemp(prefix="cta-faults-"))
        trial = cls(stack_env(base, root / "stack"), brokers)
        try:
            trial.cli("up", "--brokers", str(brokers), *(a for name in only for a in ("--only", name)))
            yield trial
        finally:
            with contextlib.suppress(Exception):
                trial.cli("down", "--purge")
            shutil.rmtree(root, ignore_errors=True)

    @property
    def settings(self) -> Settings:
        return settings_for(self.env)

    def cli(self, *args: str, timeout: float = 300) -> str:
        proc = subprocess.run(
            [str(_BIN / "cta-stack"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"cta-stack {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
            )
        return proc.stderr

    def broker_pid(self, node: int) -> int:
        name = "kafka" if node == 1 else f"kafka-{node}"
        record = json.loads((Path(self.env["CTA_STACK_DIR"]) / "run" / f"{name}.json").read_text())
        return int(record["pid"])


class WatermarkGauge:
    """Samples the sum of the topics' high watermarks every ``interval`` seconds."""

    def __init__(self, settings: Settings, names: list[str], interval: float = 0.1):
        from cta_core.kafka_clients import make_consumer

        self.names = names
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._high: dict[tuple[str, int], int] = {}
        self._consumer = make_consumer(settings, "cta-faults-gauge", **{"log_level": 0})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _total(self) -> int | None:
        """Sum of the high watermarks; a partition whose leader does not answer keeps its
        last value (so a dead broker's partitions do not hide the others' growth)."""
        from confluent_kafka import KafkaException, TopicPartition

        try:
            meta = self._consumer.list_topics(timeout=1)
        except KafkaException:
            return None
        for name in self.names:
            info = meta.topics.get(name)
            for p in info.partitions if info is not None else ():
                with contextlib.suppress(KafkaException):
                    _low, high = self._consumer.get_watermark_offsets(
                        TopicPartition(name, p), timeout=0.5, cached=False
                    )
                    self._high[(name, p)] = high
        return sum(self._high.values())

    def _run(self) -> None:
        while not self._stop.is_set():
            total = self._total()
            if total is not None:
                self.samples.append((time.monotonic(), total))
            self._stop.wait(self.interval)

    def start(self) -> WatermarkGauge:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._consumer.close()

    def last(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    def longest_stall(self, since: float, until: float) -> float:
        """Longest time in [since, until] during which the total did not grow."""
        longest, last_growth, last_total = 0.0, since, None
        for t, total in self.samples:
            if t < since or t > until:
                continue
            if last_total is None or total > last_total:
                longest = max(longest, t - last_growth)
                last_growth, last_total = t, total
        return max(longest, until - last_growth)


def _strip_logical(schema: Any) -> Any:
    """The schema without logical types: timestamps stay integers, as in --dry-run's JSON."""
    if isinstance(schema, dict):
        return {k: _strip_logical(v) for k, v in schema.items() if k != "logicalType"}
    if isinstance(schema, list):
        return [_strip_logical(v) for v in schema]
    return schema


def _canonical(topic: str, value: Mapping[str, Any]) -> str:
    return topic + "|" + json.dumps(value, sort_keys=True)


def expected_events(env: Mapping[str, str], events: int, seed: int = SEED) -> Counter[str]:
    """The events the simulator produces with these options, from a --dry-run."""
    proc = subprocess.run(
        [
            str(_BIN / "cta-sim"),
            "--dry-run",
            "--speed",
            "max",
            "--max-events",
            str(events),
            "--seed",
            str(seed),
        ],
        env=dict(env),
        capture_output=True,
        text=True,
        check=True,
    )
    out: Counter[str] = Counter()
    for line in io.StringIO(proc.stdout):
        event = json.loads(line)
        if event["topic"] in EVENT_TOPICS:
            out[_canonical(event["topic"], event["value"])] += 1
    return out


def read_back(settings: Settings, suffix: str, want: int, timeout: float = 120.0) -> Counter[str]:
    """Every event in the suffixed event topics, decoded (stops at the end of each partition)."""
    import fastavro
    from confluent_kafka import TopicPartition

    from cta_core.kafka_clients import make_consumer
    from cta_core.schemas import schema_dict

    readers = {
        topics.ARRIVALS: fastavro.parse_schema(_strip_logical(schema_dict("arrival_value"))),
        topics.TURNSTILES: fastavro.parse_schema(_strip_logical(schema_dict("turnstile_value"))),
    }
    consumer = make_consumer(settings, f"cta-faults-read-{time.time_ns()}", **{"enable.partition.eof": True})
    try:
        meta = consumer.list_topics(timeout=10)
        assignment = [
            TopicPartition(t + suffix, p, 0) for t in EVENT_TOPICS for p in meta.topics[t + suffix].partitions
        ]
        ends = {}
        for tp in assignment:
            ends[(tp.topic, tp.partition)] = consumer.get_watermark_offsets(tp, timeout=10, cached=False)[1]
        consumer.assign(assignment)
        done = {k for k, end in ends.items() if end == 0}
        out: Counter[str] = Counter()
        deadline = time.monotonic() + timeout
        while len(done) < len(ends) and time.monotonic() < deadline:
            for msg in consumer.consume(5000, 1.0):
                if msg.error() is not None:
                    continue
                physical = msg.topic()
                topic = physical[: len(physical) - len(suffix)] if suffix else physical
                if msg.offset() + 1 >= ends[(physical, msg.partition())]:
                    done.add((physical, msg.partition()))
                value = fastavro.schemaless_reader(io.BytesIO(msg.value()[5:]), readers[topic])
                out[_canonical(topic, value)] += 1  # type: ignore[arg-type]
        return out
    finally:
        consumer.close()


def compare(expected: Counter[str], got: Counter[str]) -> tuple[int, int]:
    """(lost, duplicated) between two multisets of events."""
    lost = sum((expected - got).values())
    duplicated = sum((got - expected).values())
    return lost, duplicated


def leader_of(settings: Settings, topic: str, partition: int = 0) -> int:
    from cta_core.kafka_clients import make_admin

    meta = make_admin(settings).list_topics(topic, timeout=10)
    return int(meta.topics[topic].partitions[partition].leader)


def all_in_sync(settings: Settings, replicas: int) -> bool:
    from cta_core.kafka_clients import make_admin

    meta = make_admin(settings, **{"log_level": 0}).list_topics(timeout=5)
    return all(
        len(p.isrs) >= min(replicas, len(p.replicas))
        for name, t in meta.topics.items()
        if not name.startswith("__")
        for p in t.partitions.values()
    )


@dataclass
class KillResult:
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
        what = f"one of {self.brokers} brokers" if self.brokers > 1 else "the only broker"
        return (
            f"| kill -9 of {what} (broker {self.victim}) during `cta-sim --speed max --max-events "
            f"{self.events}` | {self.produced:,} | {self.read_back:,} | {self.lost} | {self.duplicated} | "
            f"longest produce stall {self.stall_s:.1f} s; broker back {self.rejoin_s:.1f} s after "
            f"`cta-stack up`, all replicas in sync {self.in_sync_s:.1f} s after | "
            f"simulator exit {self.sim_exit}, {self.sim_failed} failed deliveries; {'; '.join(self.notes)} |"
        )


def _sim_summary_failed(text: str) -> int:
    failed = 0
    for line in text.splitlines():
        if "failed" in line and "delivered" in line:
            with contextlib.suppress(ValueError):
                failed += int(line.rsplit("failed", 1)[1].strip().split()[0].replace(",", ""))
    return failed


def broker_kill(
    trial: TrialStack,
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
    suffix = f".fault{time.time_ns() % 10**9}"
    settings = trial.settings
    names = [t + suffix for t in EVENT_TOPICS]
    expected = expected_events(trial.env, events, seed)
    result = KillResult(trial.brokers, events, victim or 0, produced=sum(expected.values()))
    sim = subprocess.Popen(
        [
            str(_BIN / "cta-sim"),
            "--speed",
            "max",
            "--max-events",
            str(events),
            "--seed",
            str(seed),
            "--topic-suffix",
            suffix,
            "--no-control",
        ],
        env=trial.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    gauge = WatermarkGauge(settings, names).start()
    started = time.monotonic()
    try:
        while gauge.last() < events * kill_after and sim.poll() is None:
            time.sleep(0.05)
        if victim is None:
            victim = leader_of(settings, names[1])
        result.victim = victim
        killed_at = time.monotonic()
        os.kill(trial.broker_pid(victim), signal.SIGKILL)
        restarted = None
        if down > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                sim.wait(down)
            restarted = time.monotonic()
            trial.cli("up")
            result.rejoin_s = time.monotonic() - restarted
        out, _ = sim.communicate(timeout=900)
        ended = time.monotonic()
        result.sim_exit = sim.returncode
        result.sim_failed = _sim_summary_failed(out or "")
        result.sim_s = ended - started
        result.stall_s = gauge.longest_stall(killed_at, ended)
    finally:
        gauge.stop()
        if sim.poll() is None:
            sim.kill()
    if restarted is None:
        restarted = time.monotonic()
        trial.cli("up")
        result.rejoin_s = time.monotonic() - restarted
    deadline = time.monotonic() + 120
    while True:
        result.in_sync = all_in_sync(settings, min(3, trial.brokers))
        if result.in_sync or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    result.in_sync_s = time.monotonic() - restarted
    got = read_back(settings, suffix, result.produced)
    result.read_back = sum(got.values())
    result.lost, result.duplicated = compare(expected, got)
    return result


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="trial", required=True)
    kill = sub.add_parser("broker-kill", help="kill -9 one broker during cta-sim --speed max")
    kill.add_argument("--brokers", type=int, default=3)
    kill.add_argument("--events", type=int, default=1_500_000)
    kill.add_argument(
        "--down", type=float, default=0.0, help="seconds before `cta-stack up` (0: after the run)"
    )
    kill.add_argument("--port-base", type=int, default=None, help="[default: a free range]")
    args = parser.parse_args(argv)
    with TrialStack.running(args.brokers, args.port_base or free_port_base(args.brokers)) as trial:
        result = broker_kill(trial, args.events, down=args.down)
    print(result.row())
    print(json.dumps(result.__dict__))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
