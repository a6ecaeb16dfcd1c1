"""A topic's tail (pure): decoded records in a bounded ring, filtered on their text.

Records are decoded in the tail's worker (:mod:`cta_tui.feeds.tail_source`); this
module only keeps the last N, formats them and answers the filter.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

#: How records were decoded.
AVRO = "avro"
JSON = "json"
TEXT = "text"
BYTES = "bytes"
NULL = "null"


@dataclass(frozen=True, slots=True)
class TailRecord:
    topic: str
    partition: int
    offset: int
    #: Kafka timestamp, epoch milliseconds (None when the broker has none)
    timestamp_ms: int | None
    key: Any
    value: Any
    #: :data:`AVRO`, :data:`JSON`, :data:`TEXT`, :data:`BYTES` or :data:`NULL`
    value_format: str
    key_format: str = TEXT

    @property
    def value_text(self) -> str:
        return render(self.value, self.value_format)

    @property
    def key_text(self) -> str:
        return render(self.key, self.key_format)

    def time_text(self) -> str:
        if self.timestamp_ms is None:
            return "—"
        seconds = self.timestamp_ms / 1000
        return time.strftime("%H:%M:%S", time.localtime(seconds)) + f".{self.timestamp_ms % 1000:03d}"

    def matches(self, needle: str) -> bool:
        """Case-insensitive match of ``needle`` in the decoded key or value."""
        if not needle:
            return True
        needle = needle.lower()
        return needle in self.value_text.lower() or needle in self.key_text.lower()

    def to_json(self) -> dict[str, Any]:
        """One JSON line of ``cta-tui tail --json``."""
        iso = None
        if self.timestamp_ms is not None:
            iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.timestamp_ms / 1000))
            iso += f".{self.timestamp_ms % 1000:03d}Z"
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp": iso,
            "key": self.key,
            "value": self.value,
            "format": self.value_format,
        }


def render(value: Any, fmt: str) -> str:
    if value is None:
        return "null"
    if fmt in (TEXT, BYTES) and isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass
class TailRing:
    """The last ``size`` records, oldest first; ``dropped`` counts what fell out."""

    size: int = 500
    records: deque[TailRecord] = field(default_factory=deque)
    dropped: int = 0
    received: int = 0

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError("the ring keeps at least one record")
        self.records = deque(self.records, maxlen=self.size)

    def extend(self, records: Iterable[TailRecord]) -> list[TailRecord]:
        """Add records; return those that fell out (the oldest)."""
        out: list[TailRecord] = []
        for record in records:
            if len(self.records) == self.size:
                out.append(self.records[0])
            self.records.append(record)
            self.received += 1
        self.dropped += len(out)
        return out

    def clear(self) -> None:
        self.records.clear()
        self.dropped = self.received = 0

    def matching(self, needle: str) -> Iterator[TailRecord]:
        return (r for r in self.records if r.matches(needle))

    def __len__(self) -> int:
        return len(self.records)
