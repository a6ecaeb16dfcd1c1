"""cta-sim against the shared local stack (Kafka, Schema Registry, REST Proxy).

Topics are fixed by the contract, so each test tags its run instead: a unique simulated
start date (and run id), and reads back only from the end offsets recorded before the run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from cta_core import topics
from cta_core.kafka_clients import make_consumer, make_producer
from cta_core.settings import Settings
from producers_sim.clock import CHICAGO

pytestmark = pytest.mark.integration

SIM = [sys.executable, "-m", "producers_sim"]


def _unique_start() -> datetime:
    rng = random.Random(uuid.uuid4().int)
    return datetime(rng.randint(2031, 2099), rng.randint(1, 12), rng.randint(1, 28), 8, 0, tzinfo=CHICAGO)


def _conn(settings: Settings, rest_proxy_url: str | None = None) -> list[str]:
    return [
        "--bootstrap-servers", settings.bootstrap_servers,
        "--schema-registry-url", settings.schema_registry_url,
        "--rest-proxy-url", rest_proxy_url or settings.rest_proxy_url,
    ]  # fmt: skip


def _consumer_at_end(settings: Settings, topic: str) -> Consumer:
    """A consumer assigned to every partition of ``topic`` at its current end."""
    consumer = make_consumer(settings, f"test-sim-{uuid.uuid4().hex[:8]}")
    md = consumer.list_topics(topic, timeout=10)
    assignment = []
    for p in sorted(md.topics[topic].partitions):
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        assignment.append(TopicPartition(topic, p, high))
    consumer.assign(assignment)
    return consumer


@pytest.fixture(scope="module")
def sim_topics(stack: Settings) -> None:
    """Offsets are recorded before each run, so the topics must exist: a one-event run creates them."""
    settings = stack
    subprocess.run(
        [*SIM, *_conn(settings), "--speed", "max", "--count", "1", "--lines", "yellow"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _drain(consumer: Consumer, want: Callable[[list[Any]], bool], timeout: float = 60.0) -> list[Any]:
    msgs: list[Any] = []
    deadline = time.monotonic() + timeout
    while not want(msgs):
        assert time.monotonic() < deadline, f"timed out with {len(msgs)} messages"
        for msg in consumer.consume(1000, 0.5):
            if msg.error() is None:
                msgs.append(msg)
    return msgs


def _ms(value: Any) -> Any:
    """Epoch ms for timestamp-millis; Avro floats (weather) rounded to what was sent."""
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return round(value, 3) if isinstance(value, float) else value


@pytest.fixture
def registry(stack: Settings) -> SchemaRegistryClient:
    return SchemaRegistryClient(stack.registry_conf())


def test_events_read_back_match_the_contract_and_the_dry_run(
    stack: Settings, sim_topics: None, registry: SchemaRegistryClient
) -> None:
    start = _unique_start()
    start_ms = int(start.timestamp() * 1000)
    end_ms = start_ms + 2 * 3600 * 1000
    args = [
        "--speed",
        "max",
        "--duration",
        "2h",
        "--lines",
        "red,green",
        "--seed",
        "4",
        "--start",
        start.isoformat(),
    ]
    dry = subprocess.run([*SIM, *args, "--dry-run"], capture_output=True, text=True, timeout=120, check=True)
    expected = [json.loads(line) for line in dry.stdout.splitlines()]
    by_topic = Counter(e["topic"] for e in expected)
    consumers = {t: _consumer_at_end(stack, t) for t in (topics.ARRIVALS, topics.TURNSTILES, topics.WEATHER)}
    try:
        run = subprocess.run([*SIM, *args, *_conn(stack)], capture_output=True, text=True, timeout=180)
        assert run.returncode == 0, run.stderr
        assert "stopped (duration)" in run.stderr
        for topic in consumers:  # after the final flush every count is exact
            n = by_topic[topic]
            assert f"{topic}: produced {n}, delivered {n}, failed 0" in run.stderr
        got: dict[str, list[dict[str, Any]]] = {}
        for topic, consumer in consumers.items():
            deser = AvroDeserializer(registry)

            def decode(msg: Any, topic: str = topic, deser: AvroDeserializer = deser) -> dict[str, Any]:
                value = deser(msg.value(), SerializationContext(topic, MessageField.VALUE))
                key = deser(msg.key(), SerializationContext(topic, MessageField.KEY))
                return {
                    "key": key,
                    "value": {k: _ms(v) for k, v in value.items()},
                    "partition": msg.partition(),
                }

            def ours(
                msgs: list[Any], decode: Callable[[Any], dict[str, Any]] = decode
            ) -> list[dict[str, Any]]:
                out = [decode(m) for m in msgs]
                return [r for r in out if start_ms <= r["value"]["sim_time"] < end_ms]

            # Count only this run's events: another producer may write the topic meanwhile.
            kept: list[dict[str, Any]] = []
            seen = [0]

            def enough(
                msgs: list[Any],
                kept: list[dict[str, Any]] = kept,
                seen: list[int] = seen,
                n: int = by_topic[topic],
                ours: Callable[[list[Any]], list[dict[str, Any]]] = ours,
            ) -> bool:
                kept.extend(ours(msgs[seen[0] :]))
                seen[0] = len(msgs)
                return len(kept) >= n

            _drain(consumer, enough, timeout=90)
            got[topic] = kept
    finally:
        for c in consumers.values():
            c.close()
    # every event of the dry run arrived, nothing else from this run
    for topic in consumers:
        want = sorted(
            json.dumps([e["key"], e["value"]], sort_keys=True) for e in expected if e["topic"] == topic
        )
        have = sorted(json.dumps([r["key"], r["value"]], sort_keys=True) for r in got[topic])
        assert have == want, topic
    arrivals = got[topics.ARRIVALS]
    assert len(arrivals) > 500
    for r in arrivals:
        v = r["value"]
        assert r["key"] == {"train_id": v["train_id"]}
        assert v["direction"] in ("a", "b") and v["line"] in ("red", "green")
        assert v["train_status"] in ("in_service", "out_of_service", "broken_down")
    # keyed by train: each train's events in one partition
    partitions: dict[str, set[int]] = {}
    for r in arrivals:
        partitions.setdefault(r["value"]["train_id"], set()).add(r["partition"])
    assert all(len(p) == 1 for p in partitions.values())
    assert len(got[topics.WEATHER]) == 2  # 08:00 and 09:00, through the REST Proxy


def _status_reader(settings: Settings) -> Consumer:
    return _consumer_at_end(settings, topics.SIM_STATUS)


def _wait_status(
    consumer: Consumer, run_id: str, pred: Callable[[dict[str, Any]], bool], timeout: float = 30.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for msg in consumer.consume(100, 0.2):
            if msg.error() is None and msg.key() == run_id.encode():
                doc = json.loads(msg.value())
                if pred(doc):
                    return doc
    raise AssertionError(f"no status from {run_id} matched in {timeout}s")


def _send(settings: Settings, command: dict[str, Any]) -> float:
    producer = make_producer(settings)
    producer.produce(topics.SIM_CONTROL, json.dumps(command).encode())
    assert producer.flush(10) == 0
    return time.time()


@pytest.fixture
def sim_process(stack: Settings) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen([*SIM, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_pause_stops_arrivals_within_a_second_and_resume_restarts_them(
    stack: Settings, sim_topics: None, sim_process: Callable[..., subprocess.Popen[str]]
) -> None:
    run_id = f"t-{uuid.uuid4().hex[:8]}"
    start = _unique_start()
    start_ms = int(start.timestamp() * 1000)
    status = _status_reader(stack)
    arrivals = _consumer_at_end(stack, topics.ARRIVALS)
    try:
        proc = sim_process(
            *_conn(stack),
            "--speed",
            "120",
            "--lines",
            "red",
            "--start",
            start.isoformat(),
            "--run-id",
            run_id,
        )
        _wait_status(status, run_id, lambda d: d["state"] == "running")

        def ours(msgs: list[Any]) -> list[Any]:
            # only this run simulates that date; train ids repeat between runs
            return [m for m in msgs if _arrival_sim_time(m.value()) >= start_ms]

        _drain(arrivals, lambda m: len(ours(m)) >= 20, timeout=60)
        pause_id = str(uuid.uuid4())
        sent = _send(stack, {"command_id": pause_id, "command": "pause", "run_id": run_id})
        paused = _wait_status(status, run_id, lambda d: d["last_command_id"] == pause_id)
        assert paused["paused"] is True and paused["state"] == "paused"
        time.sleep(2.0)  # let anything in flight arrive, then look at what was produced when
        late = [
            m
            for m in ours(_drain(arrivals, lambda m: True, timeout=5))
            if m.timestamp()[1] > sent * 1000 + 1000
        ]
        more: list[Any] = []
        for _ in range(4):
            more += [m for m in arrivals.consume(1000, 0.5) if m.error() is None]
        late += [m for m in ours(more) if m.timestamp()[1] > sent * 1000 + 1000]
        assert late == [], f"{len(late)} arrivals produced more than 1s after the pause"
        resume_id = str(uuid.uuid4())
        resumed_at = _send(stack, {"command_id": resume_id, "command": "resume", "run_id": run_id})
        resumed = _wait_status(status, run_id, lambda d: d["last_command_id"] == resume_id)
        assert resumed["paused"] is False and resumed["state"] == "running"
        after = _drain(
            arrivals, lambda m: any(msg.timestamp()[1] > resumed_at * 1000 for msg in ours(m)), timeout=30
        )
        assert after
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "stopped (signal)" in err
        _wait_status(status, run_id, lambda d: d["state"] == "stopped")
    finally:
        status.close()
        arrivals.close()


def _arrival_sim_time(value: bytes) -> int:
    import io

    import fastavro

    from cta_core.schemas import schema_dict

    record = fastavro.schemaless_reader(
        io.BytesIO(value[5:]), fastavro.parse_schema(schema_dict("arrival_value"))
    )
    assert isinstance(record, dict)
    return _ms(record["sim_time"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            assert time.monotonic() < deadline, f"{url} did not come up"
            time.sleep(0.2)


def test_trains_keep_running_when_the_rest_proxy_stops(
    stack: Settings, sim_topics: None, sim_process: Callable[..., subprocess.Popen[str]]
) -> None:
    """Runs a REST proxy of its own on a spare port and stops it (never the shared one)."""
    port = _free_port()
    proxy = subprocess.Popen(
        [sys.executable, "-m", "cta_servers.rest_proxy", "--port", str(port),
         "--bootstrap-servers", stack.bootstrap_servers, "--schema-registry-url", stack.schema_registry_url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
    )  # fmt: skip
    proxy_url = f"http://127.0.0.1:{port}"
    run_id = f"t-{uuid.uuid4().hex[:8]}"
    status = _status_reader(stack)
    try:
        _wait_http(f"{proxy_url}/topics")
        proc = sim_process(
            *_conn(stack, proxy_url), "--speed", "1800", "--lines", "red", "--start", _unique_start().isoformat(),
            "--run-id", run_id,
        )  # fmt: skip
        first = _wait_status(status, run_id, lambda d: d["delivered"][topics.WEATHER] >= 2, timeout=60)
        proxy.send_signal(signal.SIGTERM)
        proxy.wait(30)
        down = _wait_status(status, run_id, lambda d: True)
        later = _wait_status(
            status,
            run_id,
            lambda d: (
                d["delivered"][topics.ARRIVALS] > down["delivered"][topics.ARRIVALS] + 100
                and d["produced"][topics.WEATHER]
                > d["delivered"][topics.WEATHER] + d["failed"][topics.WEATHER]
            ),
            timeout=60,
        )
        assert later["state"] == "running"
        assert later["sim_time_ms"] > first["sim_time_ms"]
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "stopped (signal)" in err
    finally:
        status.close()
        if proxy.poll() is None:
            proxy.kill()
            proxy.wait(10)
