"""Decoding (Avro by schema id, JSON, ksqlDB keys), control acks and the in-memory source."""

from __future__ import annotations

import io
import struct

import fastavro
import pytest

from cta_core import schemas
from cta_core.avro import MALFORMED, AvroDecoder, DecodeError
from cta_core.errors import ServiceUnavailable
from cta_core.records.control import make_command
from cta_tui.control import PendingAcks, next_speed
from cta_tui.feeds.decode import decode_json, decode_key, decode_value
from cta_tui.feeds.memory_source import MemorySource
from cta_tui.state.records import Record


def framed(schema_id: int, name: str, value: dict) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schemas.schema_dict(name)), value)
    return b"\x00" + struct.pack(">I", schema_id) + out.getvalue()


def test_avro_decoded_by_schema_id_and_cached() -> None:
    asked: list[int] = []

    def lookup(schema_id: int) -> str:
        asked.append(schema_id)
        return schemas.schema_text(schemas.ARRIVAL_VALUE)

    decoder = AvroDecoder(lookup)
    value = {
        "station_id": 40900,
        "train_id": "R1",
        "direction": "a",
        "line": "red",
        "train_status": "in_service",
        "prev_station_id": None,
        "prev_direction": None,
        "sim_time": 1_795_950_192_250,
        "seq": 7,
    }
    for _ in range(3):
        decoded = decode_value(framed(5, schemas.ARRIVAL_VALUE, value), decoder)
    assert decoded["train_id"] == "R1" and decoded["seq"] == 7
    assert decoded["sim_time"] == 1_795_950_192_250  # epoch ms, not a datetime
    assert asked == [5]


def test_bad_bytes_raise_decode_error() -> None:
    decoder = AvroDecoder(lambda _id: schemas.schema_text(schemas.ARRIVAL_VALUE))
    with pytest.raises(DecodeError):
        decode_value(b"\x00\x00\x00\x00\x05\xff\xff", decoder)
    with pytest.raises(DecodeError):
        decode_value(b"not json", decoder)
    unknown = AvroDecoder(lambda _id: (_ for _ in ()).throw(KeyError("no such id")))
    with pytest.raises(DecodeError, match="schema id 9"):
        decode_value(b"\x00\x00\x00\x00\x09\x00", unknown)


def test_keys_decoded_tolerantly() -> None:
    assert decode_key(struct.pack(">i", 40900), None) == 40900  # ksqlDB KAFKA INT key
    assert decode_key(b'{"STATION_ID": 40900}', None) == {"STATION_ID": 40900}
    assert decode_key(b"40900", None) == 40900
    assert decode_key(b"run-abc", None) == "run-abc"
    assert decode_key(None, None) is None
    assert decode_value(None, None) is None


def test_pending_acks_settle_in_order_and_expire() -> None:
    acks = PendingAcks()
    first, second = make_command("pause"), make_command("set_speed", speed=120)
    acks.sent(first, 10.0)
    acks.sent(second, 11.0)
    assert acks.acknowledged("someone-else") is None
    assert acks.acknowledged(second["command_id"]) == "set_speed"
    assert acks.pending == {}
    third = make_command("resume")
    acks.sent(third, 20.0)
    assert acks.expired(22.0) == []
    assert acks.expired(23.0) == ["resume"]


def test_speed_steps() -> None:
    assert next_speed(60.0, faster=True) == 120
    assert next_speed(60.0, faster=False) == 30
    assert next_speed(None, faster=True) == 120
    assert next_speed(1, faster=False) == 1


def test_memory_source_batches_and_fails_on_demand() -> None:
    source = MemorySource([Record("t", None, {"n": i}) for i in range(5)])
    assert source.poll(3, 0.01).count() == 3
    source.fail_next(ServiceUnavailable("Kafka", "127.0.0.1:1"))
    assert source.poll(10, 0.01).count() == 2
    with pytest.raises(ServiceUnavailable):
        source.poll(10, 0.01)
    assert source.poll(10, 0.01).count() == 0


def test_decode_many_batches_and_isolates_malformed_items() -> None:
    calls: list[int] = []

    def lookup(schema_id: int) -> str:
        calls.append(schema_id)
        return schemas.schema_text(schemas.WEATHER_VALUE if schema_id == 2 else schemas.TURNSTILE_VALUE)

    decoder = AvroDecoder(lookup)
    good = [
        framed(1, schemas.TURNSTILE_VALUE, {"station_id": i, "station_name": f"S{i}"}) for i in range(300)
    ]
    weather = framed(2, schemas.WEATHER_VALUE, {"temperature": 40.5, "status": "sunny"})
    datas: list[bytes | None] = [*good[:150], weather, None, b'{"x": 1}', *good[150:]]
    values = decoder.decode_many(datas, unframed=decode_json)
    assert [v["station_id"] for v in values[:150]] == list(range(150))
    assert values[150]["status"] == "sunny" and values[151] is None and values[152] == {"x": 1}
    assert [v["station_id"] for v in values[153:]] == list(range(150, 300))

    broken = [*good[:10], good[10][:-3], b"\x00\x00\x00\x00\x01", *good[11:20], b"junk"]
    values = decoder.decode_many(broken, unframed=decode_json)
    assert [v["station_id"] for v in values[:10]] == list(range(10))
    assert values[10] is MALFORMED and values[11] is MALFORMED and values[-1] is MALFORMED
    assert [v["station_id"] for v in values[12:21]] == list(range(11, 20))


def test_a_feed_error_shows_its_first_line_cut_to_fit() -> None:
    from cta_tui.feeds.errors import short_error

    assert short_error(ValueError("first line\nsecond line")) == "first line"
    assert short_error(TimeoutError()) == "TimeoutError"
    assert short_error(ValueError("x" * 200), 100) == "x" * 100
    assert len(short_error(ValueError("x" * 200))) == 80
