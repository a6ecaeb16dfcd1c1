"""The tail screen's ring (pure): the last N decoded records, filtered on their text."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cta_tui.state.tail import TailRecord


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
