"""Avro binary encoding of prediction values, by hand (pure).

The job writes ~15 predictions per arrival; fastavro's generic writer spends most of
its time walking the schema. This writes the fields of ``prediction_value.avsc`` in
order (ints and longs zigzag varints, strings length-prefixed UTF-8, booleans one
byte). A unit test checks the bytes decode with fastavro to the same record.
"""

from __future__ import annotations

from stream_jobs.predict.estimator import Prediction


def _varint(n: int) -> bytes:
    """Avro's int/long encoding: zigzag, then 7 bits per byte, low first."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


class ValueWriter:
    """Encodes :class:`Prediction` values; repeated strings and station ids are cached."""

    def __init__(self, header: bytes = b""):
        self.header = header
        self._strings: dict[str, bytes] = {}
        self._ints: dict[int, bytes] = {}

    def _str(self, s: str) -> bytes:
        b = self._strings.get(s)
        if b is None:
            raw = s.encode("utf-8")
            b = _varint(len(raw)) + raw
            if len(self._strings) < 100_000:
                self._strings[s] = b
        return b

    def _int(self, n: int) -> bytes:
        b = self._ints.get(n)
        if b is None:
            b = self._ints[n] = _varint(n)
        return b

    def encode(self, p: Prediction) -> bytes:
        s = self._str
        return b"".join(
            (
                self.header,
                self._int(p.station_id),
                s(p.line),
                s(p.direction),
                s(p.train_id),
                s(p.destination),
                _varint(int(p.predicted_t * 1000)),
                _varint(int(p.generated_t * 1000)),
                b"\x01" if p.approaching else b"\x00",
                b"\x01" if p.delayed else b"\x00",
                b"\x01" if p.fault else b"\x00",
                b"\x01" if p.scheduled else b"\x00",
            )
        )
