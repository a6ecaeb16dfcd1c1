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
import struct
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
from cta_core.avro import without_logical_types
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
    only: tuple[str, ...] = ()

    @classmethod
    @contextlib.contextmanager
    def running(
        cls, brokers: int, base: int, only: tuple[str, ...] = ("rest-proxy",)
    ) -> Iterator[TrialStack]:
        root = Path(tempfile.mkdtemp(prefix="cta-faults-"))
        trial = cls(stack_env(base, root / "stack"), brokers, only)
        try:
            trial.cli("up", "--brokers", str(brokers), *trial.only_args())
            yield trial
        finally:
            with contextlib.suppress(Exception):
                trial.cli("down", "--purge")
            shutil.rmtree(root, ignore_errors=True)

    def only_args(self) -> list[str]:
        return [a for name in self.only for a in ("--only", name)]

    def up(self) -> None:
        """``cta-stack up`` of what this trial runs (starts what is down, e.g. a killed broker)."""
        self.cli("up", *self.only_args())

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
        topics.ARRIVALS: fastavro.parse_schema(without_logical_types(schema_dict("arrival_value"))),
        topics.TURNSTILES: fastavro.parse_schema(without_logical_types(schema_dict("turnstile_value"))),
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
            trial.up()
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
        trial.up()
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


def _topic_lines(text: str) -> dict[str, tuple[int, int, int]]:
    """The simulator's summary lines: topic -> (produced, delivered, failed)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if ": produced " in line and " delivered " in line:
            name, _, rest = line.partition(": produced ")
            nums = [
                int(x.strip(",").replace(",", ""))
                for x in rest.replace("delivered", "").replace("failed", "").split()
            ]
            out[name] = (nums[0], nums[1], nums[2])
    return out


def count_records(settings: Settings, topic: str) -> int:
    from confluent_kafka import TopicPartition

    from cta_core.kafka_clients import make_consumer

    consumer = make_consumer(settings, "cta-faults-count", **{"log_level": 0})
    try:
        meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if meta is None or meta.error is not None:
            return 0
        total = 0
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)
            total += high - low
        return total
    finally:
        consumer.close()


def wait_for_bytes(settings: Settings, topic: str, needle: bytes, timeout: float) -> float | None:
    """Seconds until a record containing ``needle`` is in ``topic`` (read from the start)."""
    from cta_core.kafka_clients import make_consumer

    consumer = make_consumer(settings, f"cta-faults-find-{time.time_ns()}", **{"log_level": 0})
    start = time.monotonic()
    try:
        consumer.subscribe([topic])
        while time.monotonic() - start < timeout:
            for msg in consumer.consume(500, 0.5):
                if msg.error() is None and needle in (msg.value() or b""):
                    return time.monotonic() - start
        return None
    finally:
        consumer.close()


def insert_station(settings: Settings, stop_id: int) -> None:
    import psycopg

    with psycopg.connect(settings.postgres_dsn, connect_timeout=5) as conn:
        conn.execute(
            "INSERT INTO stations (stop_id, direction_id, stop_name, station_name, "
            "station_descriptive_name, station_id, red, blue, green, brown, purple, yellow, pink, "
            "orange) VALUES (%s, 'N', 'fault trial', 'fault trial', 'fault trial', %s, true, false, "
            "false, false, false, false, false, false)",
            (stop_id, stop_id),
        )


@dataclass
class RestartResult:
    service: str
    down_s: float
    events: int = 0
    read_back: int = 0
    lost: int = 0
    duplicated: int = 0
    weather: tuple[int, int, int] = (0, 0, 0)
    weather_read: int = 0
    sim_exit: int | None = None
    up_s: float = 0.0
    row_s: float | None = None
    seen_while_down: list[str] = field(default_factory=list)


def service_restart(
    trial: TrialStack, service: str, *, down: float = 8.0, events: int = 400_000, speed: int = 1500
) -> RestartResult:
    """Stop ``service`` for ``down`` seconds while the simulator runs at ``speed``, then
    ``cta-stack up``; count the events and weather read back, and for Connect and
    PostgreSQL how long a stations row written during the outage takes to reach Kafka."""
    from cta_tui.feeds.health import HttpHealthProbe

    settings = trial.settings
    suffix = f".restart{time.time_ns() % 10**9}"
    expected = expected_events(trial.env, events)
    result = RestartResult(service, down)
    sim = subprocess.Popen(
        [
            str(_BIN / "cta-sim"),
            "--speed",
            str(speed),
            "--max-events",
            str(events),
            "--seed",
            str(SEED),
            "--topic-suffix",
            suffix,
            "--no-control",
        ],
        env=trial.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stop_id = 90000 + time.time_ns() % 9000
    try:
        time.sleep(4)
        trial.cli("down", "--only", service)
        if service == "connect":
            insert_station(settings, stop_id)
        time.sleep(down / 2)
        probe = HttpHealthProbe(settings)
        result.seen_while_down = [f"{h.name}: {h.detail}" for h in probe.check() if not h.ok]
        probe.close()
        time.sleep(down / 2)
        t0 = time.monotonic()
        trial.up()
        result.up_s = time.monotonic() - t0
        if service == "postgres":
            insert_station(settings, stop_id)
        if service in ("connect", "postgres"):
            found = wait_for_bytes(settings, topics.STATIONS_RAW, str(stop_id).encode(), 120)
            result.row_s = None if found is None else result.up_s + found
        out, _ = sim.communicate(timeout=600)
        result.sim_exit = sim.returncode
    finally:
        if sim.poll() is None:
            sim.kill()
    result.weather = _topic_lines(out).get(topics.WEATHER, (0, 0, 0))
    time.sleep(3)  # the weather thread's last batch
    result.weather_read = count_records(settings, topics.WEATHER + suffix)
    got = read_back(settings, suffix, sum(expected.values()))
    result.events = sum(expected.values())
    result.read_back = sum(got.values())
    result.lost, result.duplicated = compare(expected, got)
    return result


def restarts(services: list[str], down: float) -> list[RestartResult]:
    """Every restart trial on one full stack (stations loaded, connector running)."""
    results = []
    with TrialStack.running(1, free_port_base(1), only=()) as trial:
        subprocess.run([str(_BIN / "cta-jobs"), "setup"], env=trial.env, check=True, capture_output=True)
        for service in services:
            result = service_restart(trial, service, down=down)
            print(json.dumps(result.__dict__), flush=True)
            results.append(result)
    return results


#: Bad payloads written to every topic the dashboard reads (a framed Avro record with an
#: unknown schema id, a truncated frame, broken JSON, random bytes, an empty value).
GARBAGE = (b"\x00\x00\x0f\x42\x40\x02\x04ab", b"\x00\x00", b'{"station_id": ', b"\xff\xfe\x00garbage", b"")
DASHBOARD_TOPICS = (
    topics.ARRIVALS,
    topics.TURNSTILES,
    topics.WEATHER,
    topics.STATIONS_TABLE,
    topics.TURNSTILE_SUMMARY,
    topics.SIM_STATUS,
)


def malformed_records(trial: TrialStack) -> dict[str, Any]:
    """Good events from a short simulator run, then :data:`GARBAGE` on every topic the
    dashboard reads; ``cta-tui --once --json`` must read the rest and count the bad ones."""
    from cta_core.kafka_clients import make_producer

    settings = trial.settings
    subprocess.run(
        [str(_BIN / "cta-sim"), "--speed", "max", "--max-events", "20000", "--no-control"],
        env=trial.env,
        check=True,
        capture_output=True,
    )
    producer = make_producer(settings)
    for topic in DASHBOARD_TOPICS:
        for value in GARBAGE:
            producer.produce(topic, key=b"1", value=value)
    producer.flush(30)
    once = subprocess.run(
        [str(_BIN / "cta-tui"), "--once", "--json", "--replay-minutes", "60"],
        env={**trial.env, "CTA_TUI_LOG_FILE": os.devnull},
        capture_output=True,
        text=True,
        timeout=120,
    )
    out: dict[str, Any] = {"exit": once.returncode, "stderr": once.stderr[-500:]}
    if once.returncode == 0:
        snap = json.loads(once.stdout)
        out["topics"] = {name: snap["topics"].get(name) for name in DASHBOARD_TOPICS}
        out["stations_counted"] = len(snap.get("turnstile_counts") or {})
    return out


#: (service, method, path, content type, body, what it tries)
BAD_HTTP: tuple[tuple[str, str, str, str, bytes, str], ...] = (
    ("registry", "POST", "/subjects/x-value/versions", "application/json", b"{not json", "body not JSON"),
    (
        "registry",
        "POST",
        "/subjects/x-value/versions",
        "application/json",
        b'{"schema": "{\\"type\\": 1}"}',
        "invalid Avro schema",
    ),
    (
        "registry",
        "POST",
        "/subjects/x-value/versions",
        "application/json",
        b'{"nothing": 1}',
        "no schema field",
    ),
    ("registry", "GET", "/schemas/ids/987654", "", b"", "unknown schema id"),
    ("registry", "GET", "/subjects/no-such-subject/versions", "", b"", "unknown subject"),
    ("registry", "GET", "/subjects/x-value/versions/abc", "", b"", "version not a number"),
    (
        "registry",
        "POST",
        "/subjects/x-value/versions",
        "application/json",
        b"[" * 100_000,
        "deeply nested JSON",
    ),
    (
        "registry",
        "POST",
        "/subjects/x-value/versions",
        "application/json",
        b'{"schema": "' + b"a" * 5_000_000 + b'"}',
        "5 MB body",
    ),
    ("registry", "DELETE", "/", "", b"", "method not allowed"),
    (
        "rest-proxy",
        "POST",
        "/topics/org.chicago.cta.weather.v1",
        "application/vnd.kafka.avro.v2+json",
        b"{not json",
        "body not JSON",
    ),
    (
        "rest-proxy",
        "POST",
        "/topics/org.chicago.cta.weather.v1",
        "application/vnd.kafka.avro.v2+json",
        b'{"records": [{"value": {"x": 1}}]}',
        "no schema",
    ),
    (
        "rest-proxy",
        "POST",
        "/topics/org.chicago.cta.weather.v1",
        "application/vnd.kafka.avro.v2+json",
        b'{"value_schema": "{\\"type\\": \\"int\\"}", "records": [{"value": "text"}]}',
        "record not matching its schema",
    ),
    (
        "rest-proxy",
        "POST",
        "/topics/org.chicago.cta.weather.v1",
        "text/plain",
        b"hello",
        "unsupported content type",
    ),
    (
        "rest-proxy",
        "POST",
        "/topics/org.chicago.cta.weather.v1",
        "application/vnd.kafka.json.v2+json",
        b'{"records": "no"}',
        "records not a list",
    ),
    ("rest-proxy", "GET", "/topics/no.such.topic", "", b"", "unknown topic"),
    (
        "rest-proxy",
        "POST",
        "/topics/bad%20name",
        "application/vnd.kafka.json.v2+json",
        b'{"records": [{"value": 1}]}',
        "invalid topic name",
    ),
    (
        "rest-proxy",
        "POST",
        "/topics/org.chicago.cta.weather.v1",
        "application/vnd.kafka.json.v2+json",
        b"[" * 100_000,
        "deeply nested JSON",
    ),
)


def bad_http(trial: TrialStack) -> list[dict[str, Any]]:
    """Each request of :data:`BAD_HTTP`: its status, Confluent error code, and whether the
    service still answers afterwards."""
    import httpx

    settings = trial.settings
    base = {"registry": settings.schema_registry_url, "rest-proxy": settings.rest_proxy_url}
    health = {"registry": "/subjects", "rest-proxy": "/topics"}
    rows = []
    with httpx.Client(timeout=30) as client:
        for service, method, path, ctype, body, what in BAD_HTTP:
            headers = {"Content-Type": ctype} if ctype else {}
            try:
                resp = client.request(method, base[service] + path, content=body or None, headers=headers)
                status, text = resp.status_code, resp.text
            except httpx.HTTPError as exc:
                status, text = 0, f"{type(exc).__name__}: {exc}"
            try:
                payload = json.loads(text)
                code = payload.get("error_code") if isinstance(payload, dict) else None
                confluent = isinstance(payload, dict) and {"error_code", "message"} <= set(payload)
            except ValueError:
                code, confluent = None, False
            alive = client.get(base[service] + health[service]).status_code == 200
            rows.append(
                {
                    "service": service,
                    "what": what,
                    "status": status,
                    "error_code": code,
                    "confluent_format": confluent,
                    "alive_after": alive,
                }
            )
    return rows


class PtyDashboard:
    """``cta-tui`` on a pseudo-terminal, its output kept raw and rendered by pyte."""

    def __init__(self, env: Mapping[str, str], columns: int = 120, rows: int = 40):
        import fcntl
        import termios

        import pyte

        from cta_tui.ssh.session import pack_winsize

        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.states: list[tuple[float, str]] = []
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, pack_winsize(columns, rows))
        self.proc = subprocess.Popen(
            [str(_BIN / "cta-tui"), "--replay-minutes", "0"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm-256color"},
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.raw += data
                self.stream.feed(data)
                text = "\n".join(self.screen.display)
                state = "Kafka down" if "Kafka down" in text else "Kafka ok" if "Kafka ok" in text else "?"
                if not self.states or self.states[-1][1] != state:
                    self.states.append((time.monotonic(), state))

    def log_lines_seen(self) -> int:
        import re

        with self._lock:
            return len(re.findall(rb"%[0-7]\|\d+\.\d+\|[A-Z_]+\|", bytes(self.raw)))

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self.master, b"q")
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def summary_counts(settings: Settings, topic: str, timeout: float = 10) -> dict[int, int]:
    """Latest COUNT per STATION_ID on the summary topic."""
    from confluent_kafka import OFFSET_BEGINNING, TopicPartition

    from cta_core.kafka_clients import make_consumer
    from stream_jobs.summary import decode_key

    consumer = make_consumer(settings, f"cta-faults-summary-{time.time_ns()}", **{"log_level": 0})
    out: dict[int, int] = {}
    try:
        meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if meta is None or not meta.partitions:
            return out
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)[1]
            for p in meta.partitions
        }
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions])
        deadline = time.monotonic() + timeout
        seen = {p: 0 for p in ends}
        while any(seen[p] < ends[p] for p in ends) and time.monotonic() < deadline:
            for msg in consumer.consume(5000, 0.5):
                if msg.error() is not None:
                    continue
                seen[msg.partition()] = msg.offset() + 1
                with contextlib.suppress(ValueError, KeyError, TypeError, struct.error):
                    value = json.loads(msg.value())
                    station = value.get("STATION_ID")
                    out[int(station) if station is not None else decode_key(msg.key())] = int(value["COUNT"])
        return out
    finally:
        consumer.close()


def cluster_pipeline(trial: TrialStack, events: int, faust_wait: float = 180) -> dict[str, Any]:
    """Faust (turnstile summary) and the dashboard running while one broker of the
    cluster is killed during the simulator: do the summary's counts end exact, and what
    did the dashboard show?"""
    settings = trial.settings
    expected = expected_events(trial.env, events)
    per_station: Counter[int] = Counter()
    for key, n in expected.items():
        topic, _, value = key.partition("|")
        if topic == topics.TURNSTILES:
            per_station[int(json.loads(value)["station_id"])] += n
    root = Path(trial.env["CTA_STACK_DIR"])
    faust_log = (root / "faust.log").open("w")
    faust = subprocess.Popen(
        [str(_BIN / "cta-jobs"), "faust", "--no-stations", "--app-id", "cta-faults-summary"],
        env=trial.env,
        stdout=faust_log,
        stderr=subprocess.STDOUT,
    )
    dashboard = PtyDashboard({**trial.env, "CTA_TUI_LOG_FILE": str(root / "cta-tui.log")})
    out: dict[str, Any] = {"events": sum(expected.values()), "turnstiles": sum(per_station.values())}
    try:
        time.sleep(15)  # the worker joins its group, the dashboard connects
        suffix = ""
        sim = subprocess.Popen(
            [
                str(_BIN / "cta-sim"),
                "--speed",
                "max",
                "--max-events",
                str(events),
                "--seed",
                str(SEED),
                "--no-control",
            ],
            env=trial.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        gauge = WatermarkGauge(settings, [topics.TURNSTILES, topics.ARRIVALS]).start()
        try:
            while gauge.last() < events * 0.25 and sim.poll() is None:
                time.sleep(0.05)
            victim = leader_of(settings, topics.TURNSTILES)
            killed = time.monotonic()
            os.kill(trial.broker_pid(victim), signal.SIGKILL)
            sim_out, _ = sim.communicate(timeout=900)
            ended = time.monotonic()
        finally:
            gauge.stop()
        out.update(
            victim=victim, sim_exit=sim.returncode, stall_s=round(gauge.longest_stall(killed, ended), 1)
        )
        out["sim_failed"] = _sim_summary_failed(sim_out)
        t_up = time.monotonic()
        trial.up()
        out["rejoin_s"] = round(time.monotonic() - t_up, 1)
        deadline = time.monotonic() + faust_wait
        counts: dict[int, int] = {}
        while time.monotonic() < deadline:
            counts = summary_counts(settings, topics.TURNSTILE_SUMMARY)
            if counts == dict(per_station):
                break
            time.sleep(2)
        out["summary_exact_after_s"] = (
            round(time.monotonic() - ended, 1) if counts == dict(per_station) else None
        )
        out["summary_stations"] = len(counts)
        out["summary_stations_exact"] = sum(1 for k, v in per_station.items() if counts.get(k) == v)
        out["summary_total"] = sum(counts.values())
        got = read_back(settings, suffix, out["events"])
        out["read_back"] = sum(got.values())
        out["lost"], out["duplicated"] = compare(expected, got)
        out["dashboard_states"] = [(round(t - killed, 1), s) for t, s in dashboard.states]
        out["dashboard_log_lines_on_screen"] = dashboard.log_lines_seen()
        out["dashboard_alive"] = dashboard.proc.poll() is None
        out["faust_alive"] = faust.poll() is None
    finally:
        dashboard.stop()
        faust.send_signal(signal.SIGTERM)
        try:
            faust.wait(30)
        except subprocess.TimeoutExpired:
            faust.kill()
        faust_log.close()
    return out


def _faust(trial: TrialStack, app_id: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen(
            [str(_BIN / "cta-jobs"), "faust", "--no-stations", "--app-id", app_id],
            env=trial.env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )


def faust_kill(trial: TrialStack, events: int, workers: int = 1, wait: float = 240) -> dict[str, Any]:
    """``workers`` Faust workers on one app id; kill -9 one of them when a third of the
    events is in Kafka, start it again at once when it was the only one; then wait for
    TURNSTILE_SUMMARY to equal the entries produced for every station."""
    settings = trial.settings
    expected = expected_events(trial.env, events)
    per_station: Counter[int] = Counter()
    for key, n in expected.items():
        topic, _, value = key.partition("|")
        if topic == topics.TURNSTILES:
            per_station[int(json.loads(value)["station_id"])] += n
    root = Path(trial.env["CTA_STACK_DIR"])
    app_id = f"cta-faults-faust-{time.time_ns() % 10**6}"
    procs = [_faust(trial, app_id, root / f"faust-{i}.log") for i in range(workers)]
    out: dict[str, Any] = {"workers": workers, "turnstiles": sum(per_station.values())}
    try:
        time.sleep(15)  # the workers join the group and share the partitions
        sim = subprocess.Popen(
            [
                str(_BIN / "cta-sim"),
                "--speed",
                "max",
                "--max-events",
                str(events),
                "--seed",
                str(SEED),
                "--no-control",
            ],
            env=trial.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        gauge = WatermarkGauge(settings, [topics.TURNSTILES]).start()
        try:
            while gauge.last() < out["turnstiles"] / 3 and sim.poll() is None:
                time.sleep(0.05)
        finally:
            gauge.stop()
        procs[0].kill()
        procs[0].wait()
        if workers == 1:
            procs[0] = _faust(trial, app_id, root / "faust-0.log")
        sim.communicate(timeout=900)
        ended = time.monotonic()
        out["sim_exit"] = sim.returncode
        deadline = time.monotonic() + wait
        counts: dict[int, int] = {}
        while time.monotonic() < deadline:
            counts = summary_counts(settings, topics.TURNSTILE_SUMMARY)
            if counts == dict(per_station):
                break
            time.sleep(2)
        exact = counts == dict(per_station)
        out["summary_exact_after_s"] = round(time.monotonic() - ended, 1) if exact else None
        out["summary_stations"] = len(counts)
        out["summary_stations_exact"] = sum(1 for k, v in per_station.items() if counts.get(k) == v)
        out["summary_total"] = sum(counts.values())
        out["over"] = sum(max(0, counts.get(k, 0) - v) for k, v in per_station.items())
        out["under"] = sum(max(0, v - counts.get(k, 0)) for k, v in per_station.items())
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return out


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
    restart = sub.add_parser("restarts", help="stop and start services while cta-sim runs")
    restart.add_argument("--service", action="append", default=None)
    restart.add_argument("--down", type=float, default=8.0)
    sub.add_parser("inputs", help="malformed records on every dashboard topic, bad HTTP input")
    fk = sub.add_parser("faust-kill", help="kill -9 a Faust worker while the simulator produces")
    fk.add_argument("--workers", type=int, default=1)
    fk.add_argument("--events", type=int, default=600_000)
    pipe = sub.add_parser("cluster-pipeline", help="broker kill with Faust and the dashboard running")
    pipe.add_argument("--events", type=int, default=600_000)
    args = parser.parse_args(argv)
    if args.trial == "faust-kill":
        with TrialStack.running(1, free_port_base(1), only=("rest-proxy",)) as trial:
            print(json.dumps(faust_kill(trial, args.events, args.workers)), flush=True)
        return 0
    if args.trial == "cluster-pipeline":
        with TrialStack.running(3, free_port_base(3), only=("rest-proxy",)) as trial:
            print(json.dumps(cluster_pipeline(trial, args.events)), flush=True)
        return 0
    if args.trial == "inputs":
        with TrialStack.running(1, free_port_base(1), only=("rest-proxy",)) as trial:
            print(json.dumps({"malformed": malformed_records(trial)}), flush=True)
            for row in bad_http(trial):
                print(json.dumps(row), flush=True)
        return 0
    if args.trial == "restarts":
        restarts(args.service or ["schema-registry", "rest-proxy", "connect", "postgres"], args.down)
        return 0
    with TrialStack.running(args.brokers, args.port_base or free_port_base(args.brokers)) as trial:
        result = broker_kill(trial, args.events, down=args.down)
    print(result.row())
    print(json.dumps(result.__dict__))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
