"""Avro in the Confluent wire format (magic byte 0, 4-byte big-endian schema id, body).

Arrival records are written with fastavro's ``schemaless_writer``. Turnstile records
differ only in ``sim_time`` per station, so their bytes are fastavro's encoding of the
station's fixed part followed by the union branch and zig-zag varint of ``sim_time``
(the encoders are checked against fastavro in the unit tests).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Hashable
from typing import Any

import fastavro

from cta_core import wire
from cta_core.avro import zigzag_long
from cta_core.records.arrival import FIELDS, Arrival
from cta_core.schemas import schema_dict
from producers_sim.events import TurnstileEvent

wire_header = wire.header


# Two 7-bit groups per table entry: _MID[x] has the continuation bit on both bytes,
# _TOP[x] (x >= 128) only on the first. Epoch milliseconds zig-zag to 42 bits, which
# these tables encode with three lookups instead of a loop of six.
_MID = [bytes(((x & 0x7F) | 0x80, (x >> 7) | 0x80)) for x in range(1 << 14)]
_TOP = [bytes(((x & 0x7F) | 0x80, x >> 7)) if x >= 128 else b"" for x in range(1 << 14)]


# Epoch milliseconds split as ms = 8192 * q + r: the zig-zag varint of ms is then
# _LOW[r] (its two low 7-bit groups) followed by millis_suffix(q) (the other four), and q
# changes only every 8.192 s, so callers can cache the suffix. divmod(t * 1000.0, 8192.0)
# gives q and r without big-int arithmetic, exactly (8192 is a power of two).
_LOW = [_MID[2 * r] for r in range(8192)]


def millis_suffix(q: int) -> bytes | None:
    """The last four bytes of the varint of ``8192 * q + r`` ms, the same for every
    ``0 <= r < 8192``; None outside the 35-42 bit range the tables cover."""
    if 1 << 21 <= q < 1 << 28:
        return _MID[q & 0x3FFF] + _TOP[q >> 14]
    return None


def long_bytes(n: int) -> bytes:
    """:func:`zigzag_long`, fast for values of 35 to 42 bits (timestamps in ms)."""
    v = (n << 1) ^ (n >> 63)
    if 1 << 35 <= v < 1 << 42:
        return _MID[v & 0x3FFF] + _MID[(v >> 14) & 0x3FFF] + _TOP[v >> 28]
    return zigzag_long(n)


class AvroWriter:
    """fastavro's schemaless writer behind a prebuilt wire-format header."""

    def __init__(self, schema: dict[str, Any], schema_id: int):
        self.parsed = fastavro.parse_schema(schema)
        self.header = wire_header(schema_id)
        self._cache: dict[Hashable, bytes] = {}

    def encode(self, record: dict[str, Any]) -> bytes:
        buf = io.BytesIO()
        buf.write(self.header)
        fastavro.schemaless_writer(buf, self.parsed, record)
        return buf.getvalue()

    def cached(self, key: Hashable, record: Callable[[], dict[str, Any]]) -> bytes:
        """``encode(record())``, computed once per ``key`` (keys of trains, stations)."""
        data = self._cache.get(key)
        if data is None:
            data = self._cache[key] = self.encode(record())
        return data


class ArrivalEncoder:
    """Arrival keys via fastavro (cached per train); values written directly (fastavro's
    per-call overhead is ~10 us, the direct writer's ~2 us), falling back to fastavro
    if the schema's fields ever differ from :data:`cta_core.records.arrival.FIELDS`."""

    def __init__(self, key_id: int, value_id: int):
        self.key_writer = AvroWriter(schema_dict("arrival_key"), key_id)
        schema = schema_dict("arrival_value")
        self.value_writer = AvroWriter(schema, value_id)
        self._direct = tuple(f["name"] for f in schema["fields"]) == FIELDS
        self._strings: dict[str, bytes] = {}
        self._ints: dict[int, bytes] = {}

    def _s(self, s: str) -> bytes:
        b = self._strings.get(s)
        if b is None:
            raw = s.encode()
            b = self._strings[s] = zigzag_long(len(raw)) + raw
        return b

    def _i(self, n: int) -> bytes:
        b = self._ints.get(n)
        if b is None:
            b = zigzag_long(n)
            if len(self._ints) < 100_000:  # station ids, delays, sequence numbers: few
                self._ints[n] = b
        return b

    def key(self, event: Arrival) -> bytes:
        return self.key_writer.cached(event.train_id, event.key)

    def value(self, event: Arrival) -> bytes:
        if not self._direct:
            return self.value_writer.encode(event.value())
        # the encodings of strings and small ints come from per-encoder caches (a hit is one
        # dict lookup; an encoding is never empty, so ``or`` falls back only on a miss)
        ss, s = self._strings.get, self._s
        ii, i = self._ints.get, self._i
        prev, prev_dir, branch = event.prev_station_id, event.prev_direction, event.branch
        ms, delay, seq = event.sim_time, event.delay_s, event.seq
        return b"".join(
            (
                self.value_writer.header,
                ii(event.station_id) or i(event.station_id),
                ss(event.train_id) or s(event.train_id),
                ss(event.direction) or s(event.direction),
                ss(event.line) or s(event.line),
                ss(event.train_status) or s(event.train_status),
                b"\x00" if prev is None else b"\x02" + (ii(prev) or i(prev)),
                b"\x00" if prev_dir is None else b"\x02" + (ss(prev_dir) or s(prev_dir)),
                b"\x00" if ms is None else b"\x02" + long_bytes(ms),
                b"\x00" if branch is None else b"\x02" + (ss(branch) or s(branch)),
                b"\x00" if delay is None else b"\x02" + (ii(delay) or i(delay)),
                b"\x00" if seq is None else b"\x02" + (ii(seq) or i(seq)),
            )
        )


class TurnstileEncoder:
    def __init__(self, key_id: int, value_id: int):
        self.key_writer = AvroWriter(schema_dict("turnstile_key"), key_id)
        self.value_writer = AvroWriter(schema_dict("turnstile_value"), value_id)
        self._prefixes: dict[int, bytes] = {}

    def key(self, event: TurnstileEvent) -> bytes:
        return self.key_writer.cached(event.station_id, event.key)

    def prefix(self, event: TurnstileEvent) -> bytes:
        """The value up to sim_time's varint: the same for every entry at a station (its name
        and line never change within a run), so cached by station id."""
        prefix = self._prefixes.get(event.station_id)
        if prefix is None:
            fixed = {**event.value(), "sim_time": None}
            # the last byte is the null branch (0) of sim_time; cut it off
            prefix = self._prefixes[event.station_id] = self.value_writer.encode(fixed)[:-1] + b"\x02"
        return prefix

    def value(self, event: TurnstileEvent) -> bytes:
        return self.prefix(event) + long_bytes(int(event.t * 1000))
