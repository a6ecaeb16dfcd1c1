"""Confluent's wire format for Schema Registry serialized records: magic byte 0, the
schema id as 4 bytes big-endian, then the serialized body. Written by the simulator and
the REST Proxy, read by the Faust worker and the dashboard."""

from __future__ import annotations

import struct

MAGIC = 0
HEADER_SIZE = 5
_HEADER = struct.Struct(">BI")


class NotFramed(ValueError):
    """The bytes do not start with a Confluent wire-format header."""


def header(schema_id: int) -> bytes:
    return _HEADER.pack(MAGIC, schema_id)


def frame(schema_id: int, body: bytes) -> bytes:
    return _HEADER.pack(MAGIC, schema_id) + body


def schema_id(data: bytes | None) -> int:
    """The schema id of a framed record; :class:`NotFramed` when it has no header."""
    if data is None or len(data) < HEADER_SIZE:
        raise NotFramed(f"shorter than the {HEADER_SIZE}-byte Confluent header")
    magic, sid = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise NotFramed(f"magic byte {magic} is not {MAGIC}")
    return int(sid)


def split(data: bytes | None) -> tuple[int, bytes]:
    """(schema id, body) of a framed record; :class:`NotFramed` when it has no header."""
    sid = schema_id(data)
    assert data is not None  # schema_id() rejected None
    return sid, data[HEADER_SIZE:]
