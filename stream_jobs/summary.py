"""Pure turnstile counting, in the format ksqlDB writes TURNSTILE_SUMMARY.

State is one entry per source partition, ``{"offset": last counted offset,
"counts": {str(station_id): n}}``, replaced as a whole once per batch: a restart
restores it from the changelog and :func:`apply_batch` skips every offset at or
below ``offset``, so replayed messages are never counted twice.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Mapping
from typing import Any

PartitionState = dict[str, Any]


def empty_state() -> PartitionState:
    return {"offset": -1, "counts": {}}


def apply_batch(
    state: Mapping[str, Any] | None, events: Iterable[tuple[int, int | None]]
) -> tuple[PartitionState, set[int]]:
    """Count ``(offset, station_id)`` events newer than the state's offset.

    ``station_id`` None marks a message that was skipped (malformed): its offset
    still advances so it is not looked at again. Returns the new state and the
    stations whose count changed.
    """
    last = int(state["offset"]) if state else -1
    counts = dict(state["counts"]) if state else {}
    changed: set[int] = set()
    for offset, station_id in events:
        if offset <= last:
            continue
        last = offset
        if station_id is None:
            continue
        key = str(station_id)
        counts[key] = counts.get(key, 0) + 1
        changed.add(station_id)
    return {"offset": last, "counts": counts}, changed


def next_offset(state: Mapping[str, Any] | None, earliest: int) -> int:
    """The next offset to count: after the state's, or the partition's earliest if nothing
    was counted yet."""
    return int(state["offset"]) + 1 if state and int(state["offset"]) >= 0 else earliest


def first_gap(expected: int, offsets: Iterable[int]) -> int | None:
    """The first offset from ``expected`` on that is missing from the offsets delivered (in
    order), or None. The turnstile topics have no legitimate gaps (no compaction, no
    transactions), so a gap means records were not delivered (faust-streaming 0.15 can
    drop records it has fetched when a rebalance suspends the flow, at start-up too)."""
    for offset in offsets:
        if offset < expected:
            continue
        if offset > expected:
            return expected
        expected = offset + 1
    return None


def total(states: Iterable[Mapping[str, Any]], station_id: int) -> int:
    key = str(station_id)
    return sum(int(s["counts"].get(key, 0)) for s in states)


def totals(states: Iterable[Mapping[str, Any]]) -> dict[int, int]:
    """Count per station over every partition's state."""
    out: dict[int, int] = {}
    for st in states:
        for key, n in st["counts"].items():
            sid = int(key)
            out[sid] = out.get(sid, 0) + int(n)
    return out


class Coalescer:
    """What to write to TURNSTILE_SUMMARY at a flush: the stations whose count differs
    from the last one written (ksqlDB's record cache: the latest value per key once per
    commit interval, not one record per event).

    Nothing is remembered across a restart, so the first flush of a worker writes every
    station it knows: counts that a killed worker had not flushed yet are written then.
    With two workers each flushes its own view (its partitions plus standby copies of
    the others'); both views end at the same exact counts, so the last record per
    station is exact whichever worker wrote it.
    """

    def __init__(self) -> None:
        self.written: dict[int, int] = {}
        self.records = 0

    def due(self, current: Mapping[int, int]) -> list[tuple[int, int]]:
        """(station, count) pairs to write now, in station order."""
        return sorted((sid, n) for sid, n in current.items() if self.written.get(sid) != n)

    def sent(self, pairs: Iterable[tuple[int, int]]) -> None:
        for sid, n in pairs:
            self.written[sid] = n
            self.records += 1


def encode_key(station_id: int) -> bytes:
    """ksqlDB KEY_FORMAT='KAFKA' for an INT column: Kafka's IntegerSerializer, 4 bytes big-endian."""
    return struct.pack(">i", station_id)


def decode_key(key: bytes) -> int:
    return int(struct.unpack(">i", key)[0])


def encode_value(station_id: int, count: int) -> bytes:
    """ksqlDB VALUE_FORMAT='JSON' as the statements of :mod:`stream_jobs.ksql_statements`
    write it: the station id copied into the value (``AS_VALUE``) beside the count,
    ``{"STATION_ID": id, "COUNT": n}``, as the course project's consumers read it."""
    return json.dumps({"STATION_ID": station_id, "COUNT": count}, separators=(",", ":")).encode()
