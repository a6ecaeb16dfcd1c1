"""``cta-tui tail -o``: kcat's offset forms, parsed and resolved (pure, no Kafka).

``beginning``, ``end``, ``<offset>`` (absolute), ``-<N>`` (N before the end of each
partition) and ``s@<epoch ms>`` (the first record at or after that time). Resolving
takes a partition's watermarks (and, for ``s@``, the offset the broker gave for the
time) and returns the offset to start reading at, always within the watermarks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BEGINNING, END, ABSOLUTE, FROM_END, TIMESTAMP = "beginning", "end", "absolute", "from_end", "timestamp"
_FORMS = "beginning, end, <offset>, -<N> or s@<epoch ms>"


@dataclass(frozen=True)
class OffsetSpec:
    """Where to start in each partition."""

    kind: str
    value: int = 0

    @property
    def needs_time_lookup(self) -> bool:
        return self.kind == TIMESTAMP


def parse_offset(text: str) -> OffsetSpec:
    """kcat's ``-o`` value; ValueError naming the forms when it is none of them."""
    s = text.strip().lower()
    if s in (BEGINNING, END):
        return OffsetSpec(s)
    if re.fullmatch(r"\d+", s):
        return OffsetSpec(ABSOLUTE, int(s))
    if re.fullmatch(r"-\d+", s):
        return OffsetSpec(FROM_END, int(s[1:]))
    if re.fullmatch(r"s@\d+", s):
        return OffsetSpec(TIMESTAMP, int(s[2:]))
    raise ValueError(f"{text!r} is not an offset: use {_FORMS}")


def resolve(spec: OffsetSpec, low: int, high: int, at_time: int | None = None) -> int:
    """The offset to start at in a partition holding ``low`` .. ``high - 1``.

    ``at_time`` is the broker's answer for ``s@``: the first offset at or after the
    time, or a negative number when no record is that recent (then: the end)."""
    if spec.kind == BEGINNING:
        return low
    if spec.kind == END:
        return high
    if spec.kind == ABSOLUTE:
        return min(max(spec.value, low), high)
    if spec.kind == FROM_END:
        return max(low, high - spec.value)
    if at_time is None or at_time < 0:
        return high
    return min(max(at_time, low), high)


def caught_up(positions: dict[int, int], ends: dict[int, int]) -> bool:
    """``-e``: every partition read up to the end it had when reading began."""
    return all(positions.get(p, -1) >= end for p, end in ends.items())
