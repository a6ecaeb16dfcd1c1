"""The one Avro decode path (cta_core.avro): jobs and dashboard, single and batched."""

from __future__ import annotations

import io
import json
import struct

import fastavro
import pytest

from cta_core.avro import (
    MALFORMED,
    AvroDecoder,
    NotAvro,
    RegistryUnavailable,
    station_id_of,
    without_logical_types,
    zigzag_long,
)
from cta_core.schemas import schema_dict, schema_text


def _frame(schema_id: int, record: dict) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(json.loads(schema_text("turnstile_value"))), record)
    return b"\x00" + struct.pack(">I", schema_id) + buf.getvalue()


class Lookup:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, schema_id: int) -> str:
        self.calls += 1
        if schema_id != 3:
            raise KeyError(schema_id)
        return schema_text("turnstile_value")


def test_decodes_and_caches_the_schema() -> None:
    lookup = Lookup()
    dec = AvroDecoder(lookup)
    rec = {"station_id": 40900, "station_name": "Howard", "line": "red", "sim_time": None}
    assert dec.decode(_frame(3, rec)) == rec
    assert station_id_of(dec.decode(_frame(3, rec))) == 40900
    assert lookup.calls == 1


@pytest.mark.parametrize(
    "data",
    [
        None,
        b"",
        b"hello world",
        b"\x01\x00\x00\x00\x03abc",
        b"\x00\x00\x00\x00\x09xyz",
        b"\x00\x00\x00\x00\x03",
    ],
)
def test_non_avro_bytes_are_not_avro(data: bytes | None) -> None:
    with pytest.raises(NotAvro):
        AvroDecoder(Lookup()).decode(data)


def test_trailing_bytes_are_rejected() -> None:
    frame = _frame(3, {"station_id": 1, "station_name": "x", "line": None, "sim_time": None})
    with pytest.raises(NotAvro, match="trailing"):
        AvroDecoder(Lookup()).decode(frame + b"\x00\x00")


def test_registry_errors_are_retried_not_skipped() -> None:
    def down(_schema_id: int) -> str:
        raise ConnectionError("refused")

    with pytest.raises(RegistryUnavailable):
        AvroDecoder(down).decode(
            _frame(3, {"station_id": 1, "station_name": "x", "line": None, "sim_time": None})
        )


def test_a_missing_schema_in_a_batch_is_malformed_and_a_down_registry_too() -> None:
    good = _frame(3, {"station_id": 1, "station_name": "x", "line": None, "sim_time": None})
    unknown = b"\x00\x00\x00\x00\x09" + good[5:]
    assert AvroDecoder(Lookup()).decode_many([good, unknown, b"{}"]) == [
        {"station_id": 1, "station_name": "x", "line": None, "sim_time": None},
        MALFORMED,
        MALFORMED,  # no JSON fallback given
    ]

    def down(_schema_id: int) -> str:
        raise ConnectionError("refused")

    assert AvroDecoder(down).decode_many([good]) == [MALFORMED]


def test_logical_types_are_dropped_so_timestamps_stay_epoch_ms() -> None:
    schema = schema_dict("arrival_value")
    assert "logicalType" in json.dumps(schema)
    assert "logicalType" not in json.dumps(without_logical_types(schema))
    assert without_logical_types(schema)["fields"][0] == schema["fields"][0]


@pytest.mark.parametrize("n", [0, 1, -1, 63, 64, -65, 2**31, 1_795_950_192_250, -(2**62), 2**63 - 1])
def test_zigzag_matches_fastavro(n: int) -> None:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, {"type": "long"}, n)
    assert zigzag_long(n) == buf.getvalue()
