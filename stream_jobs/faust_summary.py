"""The turnstile summary's agent: count exactly per partition, write coalesced totals.

:class:`TurnstileSummary` holds the steps the Faust agent runs, each a method that the
unit tests drive with plain dicts and a scripted consumer (tests/unit/stream_jobs/
test_faust_summary.py). The pure rules (what a batch adds, where a gap is, what a flush
writes) live in :mod:`stream_jobs.summary`; this module only sequences them and talks
to Kafka through the small :class:`SummaryConsumer` surface of Faust's consumer.

Per batch: decode, cut each partition's events at the first missing offset (records
Faust fetched but never delivered), count what is left into the partition's state,
write that state to the changelog and wait for it (so the events' offsets are never
committed before their counts are durable), then re-read the partitions found short.
Every ``commit_interval`` seconds :meth:`TurnstileSummary.flush` writes the stations
whose total changed (ksqlDB's record cache).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
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
#: longest wait for Faust's fetch loop to park once the flow is stopped (it parks
#: within one fetch, at most ~1 s; past this the seek goes ahead with a warning)
PARK_TIMEOUT_S = 5.0

#: (partition, offset) pairs as the batch delivered them; station id None: malformed
PartitionEvents = dict[int, list[tuple[int, int | None]]]
#: (partition, first missing offset, why)
Reread = tuple[int, int, str]


class SummaryConsumer(Protocol):
    """What the summary needs of Faust's consumer (:class:`~stream_jobs.faust_fastpath.EagerConsumer`)."""

    def assignment(self) -> Iterable[TP]: ...

    def stop_flow(self) -> None: ...

    def resume_flow(self) -> None: ...

    async def wait_flow_parked(self, timeout: float) -> bool: ...

    async def seek(self, partition: TP, offset: int) -> Any: ...

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
    #: partition -> counted offset at the last stall check, while records beyond it exist
    stalled: dict[int, int] = field(default_factory=dict)

    # ------------------------------------------------------------------ the agent

    async def run(self, batches: Any) -> None:
        """The agent body: ``batches`` is Faust's ``stream.take_events(...)``."""
        async for events in batches:
            await self.process(events)

    async def process(self, events: Iterable[Any]) -> None:
        by_partition = await self.decode_batch(events)
        rereads: list[Reread] = []
        written = []
        for partition, batch in by_partition.items():
            kept = await self.cut_at_gap(partition, batch, rereads)
            pending = await self.count(partition, kept)
            if pending is not None:
                written.append(pending)
        # The changelog record must be durable before these events are acked (and their
        # offsets committed): after a crash in between, the restart would otherwise skip
        # the events and lose their counts. Faust attaches a table's own writes to their
        # event for this; our per-batch records are not tied to one event, so wait here.
        await asyncio.gather(*written)
        await self.reread(rereads)

    # ------------------------------------------------------------------ steps

    async def decode_batch(self, events: Iterable[Any]) -> PartitionEvents:
        """(offset, station id) per partition; malformed messages counted, logged, kept as None
        (their offsets still advance)."""
        out: PartitionEvents = defaultdict(list)
        for event in events:
            msg = event.message
            try:
                sid = await self.decode(event.value)
            except NotAvro as exc:
                sid = None
                self.counters.malformed += 1
                log.warning(
                    "skipped malformed turnstile message (%s[%d]@%d): %s; malformed turnstile messages so far: %d",
                    msg.topic,
                    msg.partition,
                    msg.offset,
                    exc,
                    self.counters.malformed,
                )
            out[msg.partition].append((msg.offset, sid))
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
        return await self.io.write_changelog(key, new, partition)

    async def flush(self) -> int:
        """Write the latest count of every station whose total changed since the last
        flush (the timer calls this once per commit interval); returns records written."""
        due = self.coalescer.due(totals(self.io.state.values()))
        for sid, n in due:
            await self.io.send(encode_key(sid), encode_value(sid, n))
        self.coalescer.sent(due)
        return len(due)

    async def reread(self, reasons: list[Reread]) -> None:
        """Read each partition in ``reasons`` again from its first missing offset. Not
        from the committed offsets: Faust treats a jump in the offsets it reads as a gap
        it may commit past, so the committed offset can already be beyond the missing
        records. The flow is stopped and the seek waits until Faust's fetch loop has
        parked (it has let go of the record it was handing over and of any fetch in
        flight, see :meth:`~stream_jobs.faust_fastpath.EagerConsumer.wait_flow_parked`),
        so nothing fetched before the seek moves the read offset past the records about
        to be fetched again."""
        if not reasons:
            return
        consumer = self.io.consumer()
        consumer.stop_flow()
        try:
            if not await consumer.wait_flow_parked(PARK_TIMEOUT_S):
                log.warning(
                    "turnstile summary: fetch loop did not park in %.0fs; seeking anyway", PARK_TIMEOUT_S
                )
            for partition, offset, why in reasons:
                log.warning(
                    "turnstile summary: partition %d: %s; re-reading from offset %d", partition, why, offset
                )
                await consumer.seek(TP(self.topic, partition), offset)
        finally:
            consumer.resume_flow()

    async def check_stalls(self) -> None:
        """A partition with records beyond the counted offset and no progress over two
        checks is re-read from that offset. Faust can mark records read that never reach
        the stream around a rebalance (a restart with a backlog, after a crash); without
        this the summary would stop there, with nothing after them ever counted."""
        consumer = self.io.consumer()
        tps = [tp for tp in consumer.assignment() if tp.topic == self.topic]
        if not tps:
            return
        ends = await consumer.highwaters(*tps)
        rereads: list[Reread] = []
        for tp in sorted(tps):
            done = await self.expected_offset(tp.partition) - 1
            end = ends.get(tp)
            if end is None or end - 1 <= done:
                self.stalled.pop(tp.partition, None)
            elif self.stalled.get(tp.partition) == done:
                self.stalled.pop(tp.partition)
                rereads.append(
                    (tp.partition, done + 1, f"no progress at offset {done} with {end - 1 - done} newer")
                )
            else:
                self.stalled[tp.partition] = done
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
