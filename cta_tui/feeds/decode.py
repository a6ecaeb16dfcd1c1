"""Decoding the dashboard's non-Avro bytes: JSON values and the keys ksqlDB writes.
Avro (Confluent-framed, schema by id) is :mod:`cta_core.avro`'s."""

from __future__ import annotations

import json
import struct
from typing import Any

from cta_core.avro import AvroDecoder, DecodeError, RegistryUnavailable


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
        except (DecodeError, RegistryUnavailable):
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
