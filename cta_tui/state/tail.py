"""A topic's tail records (pure): one decoded record, its text and its JSON line.

Records are decoded in the tail's worker (:mod:`cta_tui.feeds.tail_source`); the tail
screen keeps the last N in :class:`cta_tui.tail.view.TailRing`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
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
    #: the record's headers, (name, value) pairs in order (values as text, else hex)
    headers: tuple[tuple[str, str], ...] = ()

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
            "timestamp_ms": self.timestamp_ms,
            "key": self.key,
            "value": self.value,
            "format": self.value_format,
            "key_format": self.key_format,
            "headers": dict(self.headers),
        }


def render(value: Any, fmt: str) -> str:
    if value is None:
        return "null"
    if fmt in (TEXT, BYTES) and isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
