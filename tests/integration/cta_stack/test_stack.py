"""The local stack for real: the shared one (default ports) and, for down/up, a
private one in a temporary directory on shifted ports."""

from __future__ import annotations

import struct
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from click.testing import CliRunner
from confluent_kafka import TopicPartition
from confluent_kafka.admin import NewTopic

from cta_core.kafka_clients import make_admin, make_consumer, make_producer
from cta_core.settings import Settings
from cta_stack.cli import cli
from cta_stack.connect import DEBEZIUM_POSTGRES
from cta_stack.net import free_ports, port_open
from cta_stack.services import KAFKA, SERVICES
from cta_stack.stack import Stack

pytestmark = pytest.mark.integration

SCHEMA_ID = 4242


def frame(schema_id: int, payload: bytes) -> bytes:
    """Confluent wire format: magic byte 0, 4-byte big-endian schema id, payload."""
    return b"\x00" + struct.pack(">I", schema_id) + payload


def unframe(data: bytes) -> tuple[int, bytes]:
    assert data[0] == 0, f"magic byte {data[0]}"
    return struct.unpack(">I", data[1:5])[0], data[5:]


def consume_all(
    settings: Settings, topic: str, count: int, timeout: float = 60.0
) -> list[tuple[bytes, bytes]]:
    consumer = make_consumer(settings, f"test-{uuid.uuid4().hex[:8]}")
    consumer.assign([TopicPartition(topic, 0, 0)])
    out: list[tuple[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < count and time.monotonic() < deadline:
            for msg in consumer.consume(500, timeout=1.0):
                assert msg.error() is None, msg.error()
                key, value = msg.key(), msg.value()
                assert isinstance(key, bytes) and isinstance(value, bytes)
                out.append((key, value))
    finally:
        consumer.close()
    return out


def produce(settings: Settings, topic: str, n: int) -> None:
    producer = make_producer(settings)
    delivered: list[int] = []
    for i in range(n):
        producer.produce(
            topic,
            key=str(i).encode(),
            value=frame(SCHEMA_ID, f'{{"seq": {i}}}'.encode()),
            on_delivery=lambda err, msg: delivered.append(0 if err else 1),
        )
        producer.poll(0)
    assert producer.flush(30) == 0
    assert sum(delivered) == n


def create_topic(settings: Settings, partitions: int = 1) -> str:
    name = f"cta-stack-test-{uuid.uuid4().hex[:10]}"
    admin = make_admin(settings)
    admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])[name].result(30)
    return name


def test_wire_framed_records_round_trip_in_order(stack: Settings) -> None:
    topic = create_topic(stack)
    try:
        produce(stack, topic, 1000)
        records = consume_all(stack, topic, 1000)
        assert len(records) == 1000
        for i, (key, value) in enumerate(records):
            schema_id, payload = unframe(value)
            assert schema_id == SCHEMA_ID
            assert key == str(i).encode()
            assert payload == f'{{"seq": {i}}}'.encode()
    finally:
        make_admin(stack).delete_topics([topic])


def test_connect_lists_the_debezium_postgres_connector(stack: Settings) -> None:
    resp = httpx.get(stack.connect_url + "/connector-plugins", timeout=10)
    assert resp.status_code == 200
    assert DEBEZIUM_POSTGRES in {p["class"] for p in resp.json()}


def test_postgres_answers_with_logical_wal_and_a_replication_role(stack: Settings) -> None:
    with psycopg.connect(stack.postgres_dsn, connect_timeout=10) as conn:
        assert conn.execute("SELECT 6 * 7").fetchone() == (42,)
        assert conn.execute("SHOW wal_level").fetchone() == ("logical",)
        row = conn.execute("SELECT rolreplication, rolcreatedb FROM pg_roles WHERE rolname = current_user")
        assert row.fetchone() == (True, True)
        assert conn.execute("SELECT current_database()").fetchone() == ("cta",)


def test_up_twice_leaves_running_services_alone(stack: Settings) -> None:
    before = {r.name: r.pid for r in Stack(stack).status()}
    result = CliRunner().invoke(cli, ["--stack-dir", str(stack.stack_dir), "up"])
    assert result.exit_code == 0, result.output
    assert "already running" in result.output
    after = {r.name: r.pid for r in Stack(stack).status()}
    assert after == before


def test_status_reports_every_service(stack: Settings) -> None:
    result = CliRunner().invoke(
        cli, ["--stack-dir", str(stack.stack_dir), "status"], env={"COLUMNS": "200"}, terminal_width=200
    )
    assert result.exit_code == 0, result.output
    for spec in SERVICES:
        assert spec.name in result.output
    rows = {r.name: r for r in Stack(stack).status()}
    assert set(rows) == {s.name for s in SERVICES}
    for name in ("kafka", "connect"):
        assert rows[name].state == "running" and rows[name].healthy is True
        assert rows[name].pid and rows[name].uptime_s is not None
    assert rows["kafka"].data_bytes and rows["kafka"].data_bytes > 0
    assert rows["postgres"].healthy is True


@pytest.fixture
def private_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A Kafka-only stack of its own: temporary directory, shifted ports."""
    kafka, controller = free_ports(2)
    monkeypatch.setenv("CTA_KAFKA_PORT", str(kafka))
    monkeypatch.setenv("CTA_KAFKA_CONTROLLER_PORT", str(controller))
    monkeypatch.setenv("CTA_STACK_DIR", str(tmp_path / "stack"))
    settings = Settings.from_env()
    yield settings
    Stack(settings).down(purge=True)


def test_down_then_up_keeps_topic_data(private_stack: Settings) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["up", "--only", "kafka"])
    assert first.exit_code == 0, first.output
    topic = create_topic(private_stack)
    produce(private_stack, topic, 50)

    down = runner.invoke(cli, ["down"])
    assert down.exit_code == 0, down.output
    assert "kafka" in down.output
    assert not port_open(private_stack.ports.kafka)
    assert not list((private_stack.stack_dir / "run").glob("*.json"))

    again = runner.invoke(cli, ["up", "--only", "kafka"])
    assert again.exit_code == 0, again.output
    assert "started kafka" in again.output
    records = consume_all(private_stack, topic, 50)
    assert [unframe(v)[1] for _, v in records] == [f'{{"seq": {i}}}'.encode() for i in range(50)]


def test_external_postgres_is_checked_not_started(stack: Settings, tmp_path: Path) -> None:
    """CTA_POSTGRES_DSN (here: the shared stack's server) replaces the embedded PostgreSQL."""
    env = {"CTA_STACK_DIR": str(tmp_path / "stack"), "CTA_POSTGRES_DSN": stack.postgres_dsn}
    runner = CliRunner()
    result = runner.invoke(cli, ["up", "--only", "postgres"], env=env)
    assert result.exit_code == 0, result.output
    assert "external: postgres" in result.output
    assert not (tmp_path / "stack" / "run" / "postgres.json").exists()
    status = runner.invoke(cli, ["status"], env={**env, "COLUMNS": "200"}, terminal_width=200)
    assert "external" in status.output

    bad = {**env, "CTA_POSTGRES_DSN": stack.postgres_dsn.replace(":chicago@", ":wrong@")}
    failed = runner.invoke(cli, ["up", "--only", "postgres"], env=bad)
    assert failed.exit_code == 1
    assert "CTA_POSTGRES_DSN" in failed.output


def test_logs_shows_the_tail_of_a_service_log(stack: Settings) -> None:
    result = CliRunner().invoke(cli, ["--stack-dir", str(stack.stack_dir), "logs", "kafka", "-n", "5"])
    assert result.exit_code == 0, result.output
    log = (Path(stack.stack_dir) / "logs" / "kafka.log").read_text(errors="replace").splitlines()
    lines = result.output.splitlines()
    assert len(lines) == 5
    assert lines[0] in log  # lines of the log, the newest ones (the broker may have logged since)


def test_a_service_that_dies_is_reported_with_its_log_tail(
    private_stack: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker's JVM refuses a 1 KB heap: `up` names the service and prints its log's tail."""
    monkeypatch.setenv("CTA_JVM_OPTS", "-Xmx1k")
    result = CliRunner().invoke(cli, ["up", "--only", "kafka"])
    assert result.exit_code == 1
    assert "Kafka failed to start: the process exited" in result.output
    assert "last lines of" in result.output and "kafka.log" in result.output
    assert "heap" in result.output.lower()
    assert Stack(private_stack).running(KAFKA) is None
