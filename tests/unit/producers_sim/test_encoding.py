"""The fast Avro encoders write exactly what fastavro writes, in Confluent's wire format."""

from __future__ import annotations

import io
import math
import random
import struct
from datetime import datetime

import fastavro
import pytest

from cta_core.avro import zigzag_long
from cta_core.records.arrival import Arrival
from cta_core.schemas import schema_dict
from producers_sim.encoding import (
    _LOW,
    ArrivalEncoder,
    TurnstileEncoder,
    long_bytes,
    millis_suffix,
)
from producers_sim.events import TurnstileEvent


def _decode(data: bytes, schema: str, schema_id: int) -> dict:
    assert data[0] == 0 and struct.unpack(">I", data[1:5])[0] == schema_id
    record = fastavro.schemaless_reader(io.BytesIO(data[5:]), fastavro.parse_schema(schema_dict(schema)))
    assert isinstance(record, dict)
    # timestamp-millis comes back as a datetime; compare in epoch ms like the events
    return {k: round(v.timestamp() * 1000) if isinstance(v, datetime) else v for k, v in record.items()}


@pytest.mark.parametrize("n", [0, 1, -1, 63, 64, -65, 2**31, 1_795_950_192_250, -(2**62)])
def test_zigzag_matches_fastavro(n: int) -> None:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, {"type": "long"}, n)
    assert zigzag_long(n) == buf.getvalue()
    assert long_bytes(n) == buf.getvalue()


def test_table_encoding_of_timestamps() -> None:
    rng = random.Random(9)
    for _ in range(20_000):
        n = rng.choice([rng.randrange(1 << 34, 1 << 41), rng.randrange(-(1 << 41), 1 << 41)])
        assert long_bytes(n) == zigzag_long(n)
    for n in ((1 << 34) - 1, 1 << 34, (1 << 41) - 1, 1 << 41, -(1 << 34), -(1 << 41)):
        assert long_bytes(n) == zigzag_long(n)


def test_turnstile_encoding_round_trips() -> None:
    enc = TurnstileEncoder(key_id=7, value_id=8)
    rng = random.Random(3)
    for sid, name, line in [
        (40380, "Clark/Lake", "brown"),
        (41400, "Roosevelt", None),
        (40900, "Howard", "red"),
    ]:
        for _ in range(50):
            e = TurnstileEvent(1_795_950_000 + rng.random() * 86400, sid, name, line)
            assert _decode(enc.key(e), "turnstile_key", 7) == {"station_id": sid}
            assert _decode(enc.value(e), "turnstile_value", 8) == e.value()
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, fastavro.parse_schema(schema_dict("turnstile_value")), e.value())
            assert enc.value(e)[5:] == buf.getvalue()


def test_arrival_encoding_round_trips() -> None:
    enc = ArrivalEncoder(key_id=1, value_id=2)
    e = Arrival.at(1_795_950_001.5, 40380, "brown-0001", "a", "brown", "in_service", None, None, "main", 0, 1)
    assert _decode(enc.key(e), "arrival_key", 1) == {"train_id": "brown-0001"}
    assert _decode(enc.value(e), "arrival_value", 2) == e.value()
    e2 = Arrival.at(
        1_795_950_100.0, 40260, "brown-0001", "b", "brown", "broken_down", 40380, "a", "main", 75, 2
    )
    assert _decode(enc.value(e2), "arrival_value", 2) == e2.value()
    e3 = Arrival.at(
        1_795_950_100.0, 40260, "grün-0001", "b", "green", "in_service", None, "a", None, 0, 10**12
    )
    assert _decode(enc.value(e3), "arrival_value", 2) == e3.value()


def test_direct_arrival_values_equal_fastavro_for_a_simulated_hour() -> None:
    from producers_sim.engine import Engine, EngineOptions
    from producers_sim.network import load_network

    enc = ArrivalEncoder(key_id=1, value_id=2)
    assert enc._direct
    parsed = fastavro.parse_schema(schema_dict("arrival_value"))
    engine = Engine(load_network(), 1_796_140_800.0, 3, EngineOptions(turnstiles=False, weather=False))
    n = 0
    for ev in engine.events():
        if ev.t > 1_796_140_800.0 + 3600:
            break
        assert isinstance(ev, Arrival)
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, parsed, ev.value())
        assert enc.value(ev)[5:] == buf.getvalue()
        n += 1
    assert n > 1000


def test_split_millis_encoding_matches_int_conversion() -> None:
    """publish_many encodes sim_time from divmod(t * 1000.0, 8192.0); it must give the bytes
    of int(t * 1000) for any float t, including fractions next to a slice boundary."""
    rng = random.Random(11)
    times = [rng.uniform(1.7e9, 2.19e9) for _ in range(20_000)]
    times += [
        (8192 * k + d) / 1000 for k in (215_000_000, 268_435_454) for d in (0, 0.5, 8191, 8191.9999, 8192)
    ]
    times += [math.nextafter(t, -math.inf) for t in times[-10:]]
    for t in times:
        q, r = divmod(t * 1000.0, 8192.0)
        suffix = millis_suffix(int(q))
        assert suffix is not None, t
        assert _LOW[int(r)] + suffix == long_bytes(int(t * 1000)), t
    assert millis_suffix(1 << 28) is None and millis_suffix((1 << 21) - 1) is None


def test_kafka_preparer_fast_path_writes_what_the_encoders_write() -> None:
    """prepare() encodes entries straight from their columns; compare with prepare_one() on
    the minute's events in order, across pickling (the engine process gets the preparer
    that way)."""
    import pickle

    from cta_core import topics
    from producers_sim.engine import Engine
    from producers_sim.network import load_network
    from producers_sim.prepare import KafkaPreparer

    ids = {topics.ARRIVALS: (1, 2), topics.TURNSTILES: (3, 4)}
    engine = Engine(load_network(["red", "brown"]), 1_796_140_800.0 + 7.5, 5)  # starts mid-minute
    fast = pickle.loads(pickle.dumps(KafkaPreparer(ids)))
    slow = KafkaPreparer(ids)
    records: list[tuple] = []
    events = []
    for minute in engine.minutes():
        records += sorted(fast.prepare(minute), key=lambda r: r[0])  # (the pipe's stable sort)
        events += minute.ordered()
        if len(events) >= 5000:
            break
    assert records == [slow.prepare_one(ev) for ev in events]
    assert {r[1] for r in records} == {topics.ARRIVALS, topics.TURNSTILES, topics.WEATHER}
    assert [r[0] for r in records] == sorted(ev.t for ev in events) and records[0][0] >= engine.start
    entry = next(i for i, ev in enumerate(events) if isinstance(ev, TurnstileEvent))
    assert _decode(records[entry][2], "turnstile_value", 4) == events[entry].value()
    assert _decode(records[entry][3], "turnstile_key", 3) == events[entry].key()
    weather = next(r for r in records if r[1] == topics.WEATHER)
    assert weather[2] in events  # weather goes to the REST Proxy publisher as the event


def test_kafka_publisher_produces_the_records_under_the_suffixed_topics() -> None:
    """(A recording stand-in for the Producer: the Kafka round trip is in the integration tests.)"""
    from cta_core import topics
    from producers_sim.publishers.kafka_publisher import KafkaPublisher

    class Recorder:
        def __init__(self) -> None:
            self.sent: list[tuple[str, bytes, bytes]] = []
            self.full = 2  # the first produce calls find the local queue full

        def produce(self, topic: str, value: bytes, key: bytes, *args: object, **kwargs: object) -> None:
            if self.full:
                self.full -= 1
                raise BufferError("Local: Queue full")
            self.sent.append((topic, key, value))

        def poll(self, timeout: float = 0) -> int:
            return 0

        def __len__(self) -> int:
            return 0

    records = [
        (1.0, topics.TURNSTILES, b"v1", b"k1"),
        (2.0, topics.ARRIVALS, b"v2", b"k2"),
        (3.0, topics.TURNSTILES, b"v3", b"k3"),
    ]
    producer = Recorder()
    publisher = KafkaPublisher(producer, ".x")  # type: ignore[arg-type]
    publisher.publish_many(records)
    assert producer.sent == [(t + ".x", k, v) for _, t, v, k in records]
    assert publisher.counters.produced == {topics.TURNSTILES: 2, topics.ARRIVALS: 1, topics.WEATHER: 0}
    with pytest.raises(TypeError, match="does not publish"):
        publisher.publish_many([(4.0, topics.WEATHER, object(), None)])
