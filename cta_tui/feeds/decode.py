"""Decoding Kafka message bytes: Confluent-framed Avro (schema by id, cached), JSON,
and the bare keys ksqlDB writes. No Kafka client here; the schema lookup is injected.
"""

from __future__ import annotations

import contextlib
import io
import json
import struct
from collections.abc import Callable
from typing import Any

import fastavro

from cta_core import wire

#: Looks up a writer schema (the registry's JSON text) by its id.
SchemaLookup = Callable[[int], str]


#: Marks an item of :meth:`AvroDecoder.decode_many` that could not be decoded.
MALFORMED: Any = object()


def _zigzag(n: int) -> bytes:
    """Avro's long encoding (zigzag varint) of a non-negative ``n``."""
    n <<= 1
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


class DecodeError(ValueError):
    """The bytes are not what the topic carries."""


class AvroDecoder:
    """Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro body.

    Parsed schemas are cached by id, so the registry is asked once per schema.
    """

    def __init__(self, lookup: SchemaLookup) -> None:
        self._lookup = lookup
        self._schemas: dict[int, Any] = {}
        self._arrays: dict[int, Any] = {}

    def schema(self, schema_id: int) -> Any:
        parsed = self._schemas.get(schema_id)
        if parsed is None:
            try:
                text = self._lookup(schema_id)
            except Exception as exc:
                raise DecodeError(f"schema id {schema_id} not found: {exc}") from exc
            parsed = self._schemas[schema_id] = fastavro.parse_schema(
                _without_logical_types(json.loads(text))
            )
        return parsed

    def array_schema(self, schema_id: int) -> Any:
        parsed = self._arrays.get(schema_id)
        if parsed is None:
            parsed = self._arrays[schema_id] = fastavro.parse_schema(
                {"type": "array", "items": _without_logical_types(json.loads(self._lookup(schema_id)))}
            )
        return parsed

    def decode_many(self, datas: list[bytes | None]) -> list[Any]:
        """Decode a batch; undecodable items come back as :data:`MALFORMED`.

        Values written with the same schema are decoded in one fastavro call, as an
        Avro array whose items are their bodies laid end to end (the array encoding
        is a count, the items, then 0). fastavro's per-call set-up costs more than
        decoding a small record, so this is several times faster than one call per
        record; if the batch does not decode exactly, each item is decoded alone.
        """
        out: list[Any] = [MALFORMED] * len(datas)
        groups: dict[int, list[int]] = {}
        for i, data in enumerate(datas):
            if data is None:
                out[i] = None
            else:
                try:
                    groups.setdefault(wire.schema_id(data), []).append(i)
                except wire.NotFramed:
                    with contextlib.suppress(DecodeError):
                        out[i] = decode_json(data)
        for schema_id, indexes in groups.items():
            values = self._decode_group(schema_id, [datas[i] for i in indexes])  # type: ignore[misc]
            for i, value in zip(indexes, values, strict=True):
                out[i] = value
        return out

    def _decode_group(self, schema_id: int, datas: list[bytes]) -> list[Any]:
        try:
            schema = self.array_schema(schema_id)
            body = _zigzag(len(datas)) + b"".join(d[wire.HEADER_SIZE :] for d in datas) + b"\x00"
            stream = io.BytesIO(body)
            values = fastavro.schemaless_reader(stream, schema, None)
            if isinstance(values, list) and len(values) == len(datas) and stream.tell() == len(body):
                return values
        except Exception:
            pass
        out = []
        for data in datas:
            try:
                out.append(self.decode(data))
            except DecodeError:
                out.append(MALFORMED)
        return out

    def decode(self, data: bytes) -> Any:
        try:
            schema_id, body = wire.split(data)
        except wire.NotFramed:
            raise DecodeError("not Confluent-framed Avro (magic byte)") from None
        schema = self.schema(schema_id)
        try:
            return fastavro.schemaless_reader(io.BytesIO(body), schema, None)
        except Exception as exc:
            raise DecodeError(f"bad Avro body for schema {schema_id}: {exc}") from exc


def _without_logical_types(schema: Any) -> Any:
    """The schema with ``logicalType`` dropped: timestamps stay epoch-millisecond ints
    (what the state model wants) and decoding skips the datetime conversion."""
    if isinstance(schema, dict):
        return {k: _without_logical_types(v) for k, v in schema.items() if k != "logicalType"}
    if isinstance(schema, list):
        return [_without_logical_types(v) for v in schema]
    return schema


def decode_json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError(f"not JSON: {exc}") from exc


def decode_value(data: bytes | None, avro: AvroDecoder | None) -> Any:
    """A value: None (tombstone), framed Avro when a decoder is given and the magic
    byte says so, else JSON."""
    if data is None:
        return None
    if avro is not None and data[:1] == b"\x00":
        return avro.decode(data)
    return decode_json(data)


def decode_key(data: bytes | None, avro: AvroDecoder | None) -> Any:
    """A key, tolerantly: Avro, JSON, a 4/8-byte big-endian integer (ksqlDB's KAFKA
    format), else a UTF-8 string. Keys never make a record malformed."""
    if data is None:
        return None
    if avro is not None and len(data) >= 5 and data[0] == 0:
        try:
            return avro.decode(data)
        except DecodeError:
            pass
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        pass
    if len(data) == 4:
        return struct.unpack(">i", data)[0]
    if len(data) == 8:
        return struct.unpack(">q", data)[0]
    return data.decode("utf-8", "replace")
