"""The dashboard's KafkaSource against the real local stack (Kafka + Schema Registry):
uniquely named copies of the topics, read through ``aliases`` as the contract topics."""

from __future__ import annotations

import io
import json
import struct
import time
import uuid

import fastavro
import pytest
from confluent_kafka.schema_registry import Schema

from cta_core import schemas, topics
from cta_core.kafka_clients import ensure_topics, make_admin, make_producer, make_registry_client
from cta_core.settings import Settings
from cta_core.topics import TopicSpec
from cta_tui.feeds.kafka_source import KafkaSource
from cta_tui.state.model import DashboardState
from cta_tui.state.reducers import apply_batch

pytestmark = pytest.mark.integration


def test_kafka_source_reads_avro_and_json_and_counts_malformed(stack: Settings) -> None:
    suffix = uuid.uuid4().hex[:8]
    arrivals, table, summary = (
        f"cta-tui-test-{name}-{suffix}" for name in ("arrivals", "stations", "summary")
    )
    admin = make_admin(stack)
    ensure_topics(
        admin,
        [
            TopicSpec(arrivals, partitions=3),
            TopicSpec(table, compacted=True),
            TopicSpec(summary, compacted=True),
        ],
    )
    schema_id = make_registry_client(stack).register_schema(
        f"{arrivals}-value", Schema(schemas.schema_text(schemas.ARRIVAL_VALUE), "AVRO")
    )
    parsed = fastavro.parse_schema(schemas.schema_dict(schemas.ARRIVAL_VALUE))
    producer = make_producer(stack)
    try:
        for order, (sid, name) in enumerate([(40900, "Howard"), (41190, "Jarvis"), (40100, "Morse")]):
            row = {"station_id": sid, "station_name": name, "order": order, "line": "red"}
            producer.produce(table, key=json.dumps({"line": "red", "station_id": sid}), value=json.dumps(row))
        producer.produce(summary, key=struct.pack(">i", 41190), value=json.dumps({"COUNT": 12}))
        now_ms = int(time.time() * 1000)
        for seq, (station, prev) in enumerate([(40900, None), (41190, 40900), (40100, 41190)], start=1):
            value = {
                "station_id": station,
                "train_id": "R7",
                "direction": "b",
                "line": "red",
                "train_status": "in_service",
                "prev_station_id": prev,
                "prev_direction": "b" if prev else None,
                "sim_time": now_ms,
                "seq": seq,
            }
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, parsed, value)
            producer.produce(
                arrivals, key=b"R7", value=b"\x00" + struct.pack(">I", schema_id) + buf.getvalue()
            )
        producer.produce(arrivals, key=b"R8", value=b"\x00\x00\x00\x00\x01garbage")
        producer.flush(15)

        source = KafkaSource(
            stack,
            topics_to_read=(),
            aliases={
                arrivals: topics.ARRIVALS,
                table: topics.STATIONS_TABLE,
                summary: topics.TURNSTILE_SUMMARY,
            },
            replay_minutes=5,
            lag_interval=0.0,
        )
        state = DashboardState()
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                apply_batch(state, source.poll(1000, 0.5), time.time())
                train = state.trains.get("R7")
                moved = train is not None and train.station_id == 40100
                if moved and state.turnstile_counts and state.topic(topics.ARRIVALS).malformed:
                    break
        finally:
            source.close()
        assert state.trains["R7"].station_id == 40100
        assert state.trains_at(41190) == []
        assert state.turnstile_counts == {41190: 12}
        assert state.topic(topics.ARRIVALS).malformed == 1
        assert [s.name for s in state.lines["red"].ordered()] == ["Howard", "Jarvis", "Morse"]
    finally:
        admin.delete_topics([arrivals, table, summary])


def _arrival(parsed: object, schema_id: int, station: int, train: str, direction: str) -> bytes:
    value = {
        "station_id": station,
        "train_id": train,
        "direction": direction,
        "line": "blue",
        "train_status": "in_service",
        "prev_station_id": None,
        "prev_direction": None,
        "sim_time": int(time.time() * 1000),
        "seq": 1,
    }
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, parsed, value)
    return b"\x00" + struct.pack(">I", schema_id) + buf.getvalue()


def test_arrival_topics_are_followed_by_pattern_including_ones_created_later(stack: Settings) -> None:
    """As the course's consumers subscribe: one arrivals topic per station works; a
    topic that appears while the dashboard runs is picked up at the next rediscovery."""
    prefix = f"cta-tui-test-pattern-{uuid.uuid4().hex[:8]}."
    first, later, other = f"{prefix}40890", f"{prefix}40380", f"cta-tui-test-other-{uuid.uuid4().hex[:8]}"
    admin = make_admin(stack)
    ensure_topics(admin, [TopicSpec(first), TopicSpec(other)])
    registry = make_registry_client(stack)
    parsed = fastavro.parse_schema(schemas.schema_dict(schemas.ARRIVAL_VALUE))
    ids = {
        t: registry.register_schema(f"{t}-value", Schema(schemas.schema_text(schemas.ARRIVAL_VALUE), "AVRO"))
        for t in (first, later, other)
    }
    producer = make_producer(stack)
    source = KafkaSource(
        stack,
        topics_to_read=(),
        patterns={"^" + prefix.replace(".", r"\."): topics.ARRIVALS},
        rediscover_interval=0.5,
    )
    state = DashboardState()

    def seen() -> set[str]:  # no stations table here: arrivals wait as pending, by train
        return set(state.trains) | {str(v.get("train_id")) for v in state.pending_arrivals}

    try:
        producer.produce(first, key=b"B1", value=_arrival(parsed, ids[first], 40890, "B1", "a"))
        producer.produce(other, key=b"X1", value=_arrival(parsed, ids[other], 40890, "X1", "a"))
        producer.flush(15)
        deadline = time.monotonic() + 30
        while "B1" not in seen() and time.monotonic() < deadline:
            apply_batch(state, source.poll(1000, 0.5), time.time())
        ensure_topics(admin, [TopicSpec(later)])
        producer.produce(later, key=b"B2", value=_arrival(parsed, ids[later], 40380, "B2", "b"))
        producer.flush(15)
        deadline = time.monotonic() + 30
        while "B2" not in seen() and time.monotonic() < deadline:
            apply_batch(state, source.poll(1000, 0.5), time.time())
    finally:
        source.close()
        admin.delete_topics([first, later, other])
    assert {"B1", "B2"} <= seen()
    assert "X1" not in seen()  # a topic the pattern does not match is not read
    assert state.topic(topics.ARRIVALS).malformed == 0


def test_predictions_are_read_undecoded_and_decoded_when_a_view_asks(stack: Settings) -> None:
    """The predictions stream reaches the state as bytes (no screen but the board and the
    line view shows it); the book decodes them, through the registry, when asked."""
    from cta_core.records.prediction import Prediction
    from cta_tui.state.records import Deferred

    name = f"cta-tui-test-predictions-{uuid.uuid4().hex[:8]}"
    admin = make_admin(stack)
    ensure_topics(admin, [TopicSpec(name, partitions=2)])
    text = schemas.schema_text(schemas.PREDICTION_VALUE)
    schema_id = make_registry_client(stack).register_schema(f"{name}-value", Schema(text, "AVRO"))
    parsed = fastavro.parse_schema(schemas.schema_dict(schemas.PREDICTION_VALUE))
    producer = make_producer(stack)
    now_ms = int(time.time() * 1000)
    for train, ahead in (("R1", 60_000), ("R2", 240_000)):
        buf = io.BytesIO()
        p = Prediction(41300, "red", "b", train, "Howard", now_ms + ahead, now_ms, False, False, False, False)
        fastavro.schemaless_writer(buf, parsed, p.value())
        producer.produce(name, key=b"41300", value=b"\x00" + struct.pack(">I", schema_id) + buf.getvalue())
    producer.produce(name, key=b"41300", value=b"\x00" + struct.pack(">I", schema_id) + b"\xff garbage")
    producer.flush(15)
    source = KafkaSource(stack, topics_to_read=(), aliases={name: topics.PREDICTIONS}, lag_interval=0.0)
    state = DashboardState()
    read = []
    try:
        deadline = time.monotonic() + 60
        while len(read) < 3 and time.monotonic() < deadline:
            batch = source.poll(1000, 0.5)
            read += batch.records.get(topics.PREDICTIONS, [])
            apply_batch(state, batch, time.time())
    finally:
        source.close()
        admin.delete_topics([name])
    assert len(read) == 3 and all(isinstance(r.value, Deferred) for r in read)
    assert len(state.predictions.pending) == 3
    assert [e.train_id for e in state.predictions.next_at(41300)] == ["R1", "R2"]
    assert state.predictions.malformed == 1


def test_predictions_are_not_read_while_no_screen_shows_them(
    stack: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unwanted, the predictions are not fetched at all; wanted again, they are read from
    the same recent start, no further back than a few seconds' worth."""
    from cta_tui.feeds import kafka_source
    from cta_tui.state.records import settle_values

    monkeypatch.setattr(kafka_source, "PENDING_MAX", 10)  # 5 a partition at the start
    monkeypatch.setattr(kafka_source, "RESUME_BACKLOG", 4)  # 2 a partition when shown again
    name = f"cta-tui-test-predictions-{uuid.uuid4().hex[:8]}"
    admin = make_admin(stack)
    ensure_topics(admin, [TopicSpec(name, partitions=2)])
    producer = make_producer(stack)

    def produce(first: int, n: int) -> None:
        for i in range(first, first + n):
            producer.produce(name, key=str(40000 + i).encode(), value=json.dumps({"n": i}).encode())
        producer.flush(15)

    def read_for(seconds: float) -> list[int]:
        out: list[int] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            batch = source.poll(1000, 0.2)
            out += [v["n"] for v in settle_values(batch.records.get(topics.PREDICTIONS, []))]
        return out

    produce(0, 40)
    source = KafkaSource(stack, topics_to_read=(), aliases={name: topics.PREDICTIONS}, replay_minutes=5)
    try:
        first = read_for(5)
        assert len(first) == 10 and set(first) <= set(range(40))  # the last 5 of each partition
        source.want(topics.PREDICTIONS, False)
        assert read_for(1) == []
        produce(40, 40)
        assert read_for(5) == []  # written while no screen showed them: not fetched
        source.want(topics.PREDICTIONS, True)
        again = read_for(5)
        assert len(again) == 4 and set(again) <= set(range(40, 80))  # the newest, capped
        produce(80, 3)
        assert sorted(read_for(3)) == [80, 81, 82]
    finally:
        source.close()
        admin.delete_topics([name])
