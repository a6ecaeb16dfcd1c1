from __future__ import annotations

import io
import json
import struct

import fastavro
import pytest

from cta_core.schemas import schema_text
from stream_jobs.avro_wire import AvroDecoder, NotAvro, RegistryUnavailable, station_id_of


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
