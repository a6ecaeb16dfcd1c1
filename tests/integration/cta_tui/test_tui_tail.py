"""The topic tail against the real local stack: records produced with known contents
come back decoded, in order, per format (Avro through the registry, JSON, bytes), and
`cta-tui tail --json` prints them as JSON lines and exits on -c."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator

import fastavro
import pytest
from click.testing import CliRunner
from confluent_kafka.schema_registry import Schema

from cta_core import schemas, wire
from cta_core.kafka_clients import ensure_topics, make_admin, make_producer, make_registry_client
from cta_core.settings import Settings
from cta_core.topics import TopicSpec
from cta_tui.cli import main
from cta_tui.feeds.tail_source import TailSource
from cta_tui.state.tail import AVRO, BYTES, JSON, TailRecord
from cta_tui.tail.view import TailRing

pytestmark = pytest.mark.integration

WEATHER = [{"temperature": 41.5, "status": "sunny"}, {"temperature": 12.0, "status": "windy"}]


@pytest.fixture
def topic(stack: Settings) -> Iterator[str]:
    """A fresh one-partition topic holding: Avro, JSON, raw bytes, Avro (in this order)."""
    name = f"cta-tui-test-tail-{uuid.uuid4().hex[:8]}"
    admin = make_admin(stack)
    ensure_topics(admin, [TopicSpec(name, partitions=1)])
    schema_id = make_registry_client(stack).register_schema(
        f"{name}-value", Schema(schemas.schema_text(schemas.WEATHER_VALUE), "AVRO")
    )
    parsed = fastavro.parse_schema(schemas.schema_dict(schemas.WEATHER_VALUE))

    def avro(value: dict[str, object]) -> bytes:
        body = io.BytesIO()
        fastavro.schemaless_writer(body, parsed, value)
        return wire.frame(schema_id, body.getvalue())

    producer = make_producer(stack)
    producer.produce(name, key=b"w1", value=avro(WEATHER[0]))
    producer.produce(name, key=b"j1", value=json.dumps({"hello": "tail", "n": 1}).encode())
    producer.produce(name, key=b"b1", value=b"\xff\x00\xfe")
    producer.produce(name, key=b"w2", value=avro(WEATHER[1]))
    assert producer.flush(10) == 0
    yield name
    admin.delete_topics([name], operation_timeout=10)


def _read(source: TailSource, n: int) -> list[TailRecord]:
    out: list[TailRecord] = []
    for _ in range(100):
        out += source.poll(100, 0.2)
        if len(out) >= n:
            break
    return out


def test_tail_decodes_each_format_in_order_and_the_ring_keeps_the_last_n(stack: Settings, topic: str) -> None:
    source = TailSource(stack, topic)
    try:
        source.seek_start()
        records = _read(source, 4)
    finally:
        source.close()
    assert [r.offset for r in records] == [0, 1, 2, 3]
    assert [r.value_format for r in records] == [AVRO, JSON, BYTES, AVRO]
    assert records[0].value["status"] == "sunny" and records[0].value["temperature"] == pytest.approx(41.5)
    assert records[1].value == {"hello": "tail", "n": 1}
    assert records[2].value == "ff 00 fe"
    assert [r.key for r in records] == ["w1", "j1", "b1", "w2"]
    ring = TailRing(2)
    ring.extend(records)
    assert [r.offset for r in ring.records] == [2, 3] and ring.dropped == 2
    assert [r.offset for r in ring.matching("windy")] == [3]


def test_tail_from_the_end_shows_the_last_records_only(stack: Settings, topic: str) -> None:
    source = TailSource(stack, topic)
    try:
        source.seek_end(2)
        records = _read(source, 2)
    finally:
        source.close()
    assert [r.offset for r in records] == [2, 3]


def test_cli_prints_json_lines_and_exits_on_max(stack: Settings, topic: str) -> None:
    result = CliRunner().invoke(
        main,
        [
            "--bootstrap-servers",
            stack.bootstrap_servers,
            "tail",
            topic,
            "-o",
            "beginning",
            "--json",
            "-c",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(d["offset"], d["format"], d["key"]) for d in lines] == [
        (0, "avro", "w1"),
        (1, "json", "j1"),
        (2, "bytes", "b1"),
    ]
    assert lines[1]["value"] == {"hello": "tail", "n": 1}
    assert lines[0]["timestamp"].endswith("Z")


def test_cli_names_a_missing_topic(stack: Settings) -> None:
    result = CliRunner().invoke(main, ["tail", f"cta-tui-no-such-topic-{uuid.uuid4().hex[:6]}", "-c", "1"])
    assert result.exit_code == 1
    assert "does not exist" in result.output


@pytest.fixture
def kcat_topic(stack: Settings) -> Iterator[str]:
    """Two partitions; partition 0 holds t0..t3 (times 1000..4000 ms after T0, a header
    each), partition 1 holds u0."""
    name = f"cta-tui-test-kcat-{uuid.uuid4().hex[:8]}"
    admin = make_admin(stack)
    ensure_topics(admin, [TopicSpec(name, partitions=2)])
    producer = make_producer(stack)
    for i in range(4):
        producer.produce(
            name,
            partition=0,
            key=f"t{i}".encode(),
            value=f"v{i}".encode(),
            timestamp=T0 + 1000 * (i + 1),
            headers=[("seq", str(i).encode())],
        )
    producer.produce(name, partition=1, key=b"u0", value=b"w0", timestamp=T0)
    assert producer.flush(10) == 0
    yield name
    admin.delete_topics([name], operation_timeout=10)


T0 = 1_796_000_000_000


def _tail(stack: Settings, topic: str, *args: str) -> list[str]:
    result = CliRunner().invoke(main, ["tail", topic, "--bootstrap-servers", stack.bootstrap_servers, *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_kcat_offsets_partition_format_and_exit_at_end(stack: Settings, kcat_topic: str) -> None:
    fmt = r"%p:%o:%k=%s %T %h\n"
    assert _tail(stack, kcat_topic, "-p", "0", "-o", "-2", "-e", "-f", fmt) == [
        f"0:2:t2=v2 {T0 + 3000} seq=2",
        f"0:3:t3=v3 {T0 + 4000} seq=3",
    ]
    assert _tail(stack, kcat_topic, "-p", "0", "-o", "1", "-c", "1", "-f", r"%o\n") == ["1"]
    assert _tail(stack, kcat_topic, "-p", "0", "-o", f"s@{T0 + 2500}", "-e", "-f", r"%k\n") == ["t2", "t3"]
    everything = _tail(stack, kcat_topic, "-o", "beginning", "-e", "-f", r"%k\n")
    assert sorted(everything) == ["t0", "t1", "t2", "t3", "u0"]
    assert _tail(stack, kcat_topic, "-o", "end", "-e") == []
    lines = [
        json.loads(line) for line in _tail(stack, kcat_topic, "-p", "1", "-o", "beginning", "-e", "--json")
    ]
    assert [(d["partition"], d["offset"], d["key"], d["timestamp_ms"]) for d in lines] == [(1, 0, "u0", T0)]


def test_kcat_unknown_partition_is_one_line_and_exit_1(stack: Settings, kcat_topic: str) -> None:
    result = CliRunner().invoke(main, ["tail", kcat_topic, "-p", "5", "-e"])
    assert result.exit_code == 1
    assert "has no partition 5" in result.output and len(result.output.splitlines()) == 1


def test_an_unreachable_registry_is_one_line_and_exit_1(stack: Settings, topic: str) -> None:
    """Framed Avro with no registry to decode it: an error naming the registry, not hex."""
    closed = stack.with_overrides(schema_registry_url="http://127.0.0.1:9")
    result = CliRunner().invoke(
        main, ["tail", topic, "-o", "beginning", "-e", "--schema-registry-url", closed.schema_registry_url]
    )
    assert result.exit_code == 1
    assert result.output.startswith("cta-tui: error: Schema Registry at http://127.0.0.1:9 is not reachable")
    assert len(result.output.splitlines()) == 1
