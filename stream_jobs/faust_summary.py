"""The turnstile summary's agent: count exactly per partition, write coalesced totals.

:class:`TurnstileSummary` holds the steps the Faust agent runs, each a method that the
unit tests drive with plain dicts and a scripted consumer (tests/unit/stream_jobs/
test_faust_summary.py). The pure rules (what a batch adds, where a gap is, what a flush
writes) live in :mod:`stream_jobs.summary`; this module only sequences them and talks
to Kafka through the small :class:`SummaryConsumer` surface of Faust's consumer.

Per batch (a whole fetch, :class:`~stream_jobs.faust_fastpath.BatchSink`): decode, cut each partition's events at the first missing offset, count
what is left into the partition's state, write that state to the changelog and wait for
it, then commit the offsets counted (never before their counts are durable) and re-read
the partitions found short.
Every ``commit_interval`` seconds :meth:`TurnstileSummary.flush` writes the stations
whose total changed (ksqlDB's record cache).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from faust.types import TP

from cta_core.avro import AvroDecoder, NotAvro, RegistryUnavailable, station_id_of
from stream_jobs.summary import (
    Coalescer,
    PartitionState,
    apply_batch,
    encode_key,
    encode_value,
    first_gap,
    next_offset,
    totals,
)

log = logging.getLogger("stream_jobs.faust")

#: seconds before missing records that a re-read did not bring are re-read again
RESEEK_S = 5.0
#: stall checks a partition may go without progress while others are being counted
BUSY_CHECKS = 20
#: seconds between commits of the counted offsets (Faust's own commit interval)
COMMIT_S = 2.8

#: (partition, offset) pairs as the batch delivered them; station id None: malformed
PartitionEvents = dict[int, list[tuple[int, int | None]]]
#: (partition, first missing offset, why)
Reread = tuple[int, int, str]
#: (partition, offset, value) as fetched
Record = tuple[int, int, bytes | None]


class SummaryConsumer(Protocol):
    """What the summary needs of Faust's consumer (:class:`~stream_jobs.faust_fastpath.EagerConsumer`)."""

    def assignment(self) -> Iterable[TP]: ...

    async def seek_fetch(self, partition: TP, offset: int) -> Any: ...

    async def commit_offsets(self, offsets: Mapping[TP, int]) -> bool: ...

    async def earliest_offsets(self, *partitions: TP) -> Mapping[TP, int]: ...

    async def highwaters(self, *partitions: TP) -> Mapping[TP, int]: ...


@dataclass
class SummaryCounters:
    malformed: int = 0
    counted: int = 0


@dataclass
class SummaryIO:
    """Where the summary reads and writes: the table's data (one state per partition),
    the changelog write (returns a future to await), the TURNSTILE_SUMMARY send and the
    consumer (a callable: Faust's consumer exists only once the app runs)."""

    state: MutableMapping[str, PartitionState]
    write_changelog: Callable[[str, PartitionState, int], Awaitable[Awaitable[Any]]]
    send: Callable[[bytes, bytes], Awaitable[Any]]
    consumer: Callable[[], SummaryConsumer]
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    #: partitions with records fetched and not yet handed to the summary (never stalled)
    pending: Callable[[], Mapping[int, int]] = dict


@dataclass
class TurnstileSummary:
    topic: str
    decoder: AvroDecoder
    io: SummaryIO
    counters: SummaryCounters = field(default_factory=SummaryCounters)
    coalescer: Coalescer = field(default_factory=Coalescer)
    #: partition -> (missing offset, when it was re-read): records already on their way
    #: after a seek do not trigger another one until RESEEK_S have passed
    sought: dict[int, tuple[int, float]] = field(default_factory=dict)
    #: partition -> (counted offset, checks since without progress), while records beyond it exist
    stalled: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: events counted at the last stall check
    counted_seen: int = 0
    #: partition -> next offset to read, durable in the changelog and not yet committed
    uncommitted: dict[int, int] = field(default_factory=dict)
    committed_at: float = 0.0
    rereads: int = 0

    # ------------------------------------------------------------------ the agent

    async def run(self, batches: AsyncIterator[list[Record]]) -> None:
        """The agent body: ``batches`` are whole fetches (:class:`~stream_jobs.faust_fastpath.BatchSink`)."""
        async for records in batches:
            await self.process(records)

    async def process(self, records: Iterable[Record]) -> None:
        by_partition = await self.decode_batch(records)
        rereads: list[Reread] = []
        written = []
        assigned = {tp.partition for tp in self.io.consumer().assignment() if tp.topic == self.topic}
        for partition, batch in by_partition.items():
            if partition not in assigned:
                continue  # fetched before a rebalance moved it: its new owner counts it
            kept = await self.cut_at_gap(partition, batch, rereads)
            pending = await self.count(partition, kept)
            if pending is not None:
                written.append(pending)
        # The changelog record must be durable before these offsets are committed: after
        # a crash in between, the restart would otherwise skip the events and lose them.
        await asyncio.gather(*written)
        await self.reread(rereads)
        await self.commit()

    # ------------------------------------------------------------------ steps

    async def decode_batch(self, records: Iterable[Record]) -> PartitionEvents:
        """(offset, station id) per partition; malformed messages counted, logged, kept as None
        (their offsets still advance)."""
        out: PartitionEvents = defaultdict(list)
        for partition, offset, value in records:
            try:
                sid = await self.decode(value)
            except NotAvro as exc:
                sid = None
                self.counters.malformed += 1
                log.warning(
                    "skipped malformed turnstile message (%s[%d]@%d): %s; malformed turnstile messages so far: %d",
                    self.topic,
                    partition,
                    offset,
                    exc,
                    self.counters.malformed,
                )
            out[partition].append((offset, sid))
        return out

    async def decode(self, value: bytes | None) -> int | None:
        """The station id of one message; waits out an unreachable Schema Registry."""
        while True:
            try:
                return station_id_of(self.decoder.decode(value))
            except RegistryUnavailable as exc:
                log.warning("Schema Registry unavailable (%s); retrying in 1s", exc)
                await self.io.sleep(1.0)

    async def cut_at_gap(
        self, partition: int, batch: list[tuple[int, int | None]], rereads: list[Reread]
    ) -> list[tuple[int, int | None]]:
        """The batch up to its first missing offset; the partition is queued for a
        re-read from there (unless it was just re-read from the same offset)."""
        gap = first_gap(await self.expected_offset(partition), (offset for offset, _ in batch))
        if gap is None:
            self.sought.pop(partition, None)
            return batch
        if await self.gone(partition, gap):
            log.warning(
                "turnstile summary: partition %d offsets from %d are gone (retention); counting on",
                partition,
                gap,
            )
            return batch
        last = self.sought.get(partition)
        now = self.io.clock()
        if last is None or last[0] != gap or now - last[1] > RESEEK_S:
            self.sought[partition] = (gap, now)
            rereads.append((partition, gap, "records before this batch were not delivered"))
        return [e for e in batch if e[0] < gap]  # count up to the gap; the rest comes again

    async def count(self, partition: int, batch: list[tuple[int, int | None]]) -> Awaitable[Any] | None:
        """Apply the batch to the partition's state and write the new state to the
        changelog (one record per partition and batch: counts and offset move together).
        Returns the write to wait for, or None when the batch added nothing new."""
        if not batch:
            return None
        key = str(partition)
        old = self.io.state.get(key)
        new, _changed = apply_batch(old, batch)
        if old is not None and new["offset"] == old["offset"]:
            return None  # a replay of offsets already counted
        self.counters.counted += sum(1 for _, sid in batch if sid is not None)
        self.io.state[key] = new
        self.uncommitted[partition] = new["offset"] + 1
        return await self.io.write_changelog(key, new, partition)

    async def commit(self, force: bool = False) -> None:
        """Commit the offsets counted and durable, at most once per COMMIT_S."""
        now = self.io.clock()
        if not self.uncommitted or (not force and now - self.committed_at < COMMIT_S):
            return
        offsets = {TP(self.topic, p): o for p, o in self.uncommitted.items()}
        self.uncommitted = {}
        self.committed_at = now
        await self.io.consumer().commit_offsets(offsets)

    async def flush(self) -> int:
        """Write the latest count of every station whose total changed since the last
        flush (the timer calls this once per commit interval); returns records written."""
        due = self.coalescer.due(totals(self.io.state.values()))
        for sid, n in due:
            await self.io.send(encode_key(sid), encode_value(sid, n))
        self.coalescer.sent(due)
        return len(due)

    async def reread(self, reasons: list[Reread]) -> None:
        """Read each partition in ``reasons`` again from its first missing offset. Records
        of it already fetched past the gap are cut off again (and re-read no sooner than
        RESEEK_S later); those fetched again before it are replays, counted once."""
        consumer = self.io.consumer()
        for partition, offset, why in reasons:
            self.rereads += 1
            log.warning(
                "turnstile summary: partition %d: %s; re-reading from offset %d", partition, why, offset
            )
            await consumer.seek_fetch(TP(self.topic, partition), offset)

    async def watch_stalls(self, interval: float) -> None:
        """:meth:`check_stalls` every ``interval`` seconds after the last one ended (a
        loop, not a timer: a slow check delays the next one and never overlaps it)."""
        while True:
            await self.io.sleep(interval)
            try:
                await self.check_stalls()
            except Exception:  # a failed check (broker away) is retried at the next one
                log.warning("turnstile summary: stall check failed", exc_info=True)

    async def check_stalls(self) -> None:
        """A partition with records beyond the counted offset, none of them fetched and
        waiting, and no progress since the last check is re-read from that offset (a seek
        that a rebalance undid, or a fetch lost on the way, would otherwise stop it
        there). While the summary counts other partitions it is given BUSY_CHECKS checks:
        behind a backlog one partition may wait for the others' fetched records."""
        consumer = self.io.consumer()
        tps = [tp for tp in consumer.assignment() if tp.topic == self.topic]
        busy, self.counted_seen = self.counters.counted != self.counted_seen, self.counters.counted
        if not tps:
            return
        ends = await consumer.highwaters(*tps)
        waiting = self.io.pending()
        rereads: list[Reread] = []
        for tp in sorted(tps):
            done = await self.expected_offset(tp.partition) - 1
            end = ends.get(tp)
            if end is None or end - 1 <= done or waiting.get(tp.partition):
                self.stalled.pop(tp.partition, None)
                continue
            last = self.stalled.get(tp.partition)
            checks = last[1] + 1 if last is not None and last[0] == done else 0
            if checks >= (BUSY_CHECKS if busy else 1):
                self.stalled.pop(tp.partition)
                rereads.append(
                    (tp.partition, done + 1, f"no progress at offset {done} with {end - 1 - done} newer")
                )
            else:
                self.stalled[tp.partition] = (done, checks)
        await self.reread(rereads)

    # ------------------------------------------------------------------ offsets

    async def earliest(self, partition: int) -> int:
        """The partition's first offset on the broker (its low watermark)."""
        tp = TP(self.topic, partition)
        return (await self.io.consumer().earliest_offsets(tp)).get(tp) or 0

    async def expected_offset(self, partition: int) -> int:
        """The next offset to count in ``partition`` (the broker is asked only while the
        table holds nothing for it)."""
        st = self.io.state.get(str(partition))
        return next_offset(st, await self.earliest(partition) if st is None else 0)

    async def gone(self, partition: int, offset: int) -> bool:
        """Whether the broker no longer has ``offset`` (deleted by retention)."""
        return await self.earliest(partition) > offset
