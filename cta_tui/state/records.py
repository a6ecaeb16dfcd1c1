"""Decoded Kafka records as the state model receives them (no Kafka types here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Record:
    """One decoded record: ``key``/``value`` are dicts, ints, strings or None (tombstone).

    Not frozen: a frozen dataclass's __init__ is measurably slower on the hot path.
    """

    topic: str
    key: Any
    value: Any
    #: the record's Kafka timestamp in epoch milliseconds, when known
    timestamp_ms: int | None = None


@dataclass(slots=True)
class Deferred:
    """A value left undecoded until a screen shows it: its bytes, and the function that
    decodes many such values at once (the same one for a topic's records; it returns a
    marker, never raises, for a value it cannot decode)."""

    data: bytes | None
    decode_many: Callable[[list[bytes | None]], list[Any]]
    #: the record's key, undecoded (a screen may pick the records it shows by it)
    key: bytes | None = None


def settle_values(records: list[Record]) -> list[Any]:
    """The records' values, :class:`Deferred` ones decoded, in bulk per decoder."""
    values = [r.value for r in records]
    groups: dict[Any, list[int]] = {}
    for i, value in enumerate(values):
        if isinstance(value, Deferred):
            groups.setdefault(value.decode_many, []).append(i)
    for decode_many, indexes in groups.items():
        decoded = decode_many([values[i].data for i in indexes])
        for i, value in zip(indexes, decoded, strict=True):
            values[i] = value
    return values


def settle_batch(batch: Batch) -> None:
    """Decode the batch's deferred values in place (before it leaves the process: a
    :class:`Deferred` holds its source's decoder, which cannot be pickled)."""
    for records in batch.records.values():
        if any(isinstance(r.value, Deferred) for r in records):
            for record, value in zip(records, settle_values(records), strict=True):
                record.value = value


@dataclass
class Batch:
    """What one poll of a record source returns."""

    records: dict[str, list[Record]] = field(default_factory=dict)
    #: records that could not be decoded, per topic (counted, skipped)
    malformed: dict[str, int] = field(default_factory=dict)
    #: this dashboard's lag per topic (messages behind the end), when measured in this poll
    lag: dict[str, int] = field(default_factory=dict)

    def add(self, record: Record) -> None:
        self.records.setdefault(record.topic, []).append(record)

    def count(self) -> int:
        return sum(len(v) for v in self.records.values())

    def __bool__(self) -> bool:
        return bool(self.records or self.malformed or self.lag)
