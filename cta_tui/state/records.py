"""Decoded Kafka records as the state model receives them (no Kafka types here)."""

from __future__ import annotations

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
