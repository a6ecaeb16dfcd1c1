"""The summary agent's steps, driven by a scripted consumer (no Kafka, no Faust worker).

The scripted consumer serves a turnstile partition as Faust's fetch loop would and can
be told to lose records the way faust-streaming does around a rebalance (a batch whose
tail never reaches the stream); the tests check the re-read that brings them back and
that the final counts are exact.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import struct
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import fastavro
import pytest
from faust.types import TP

from cta_core.avro import AvroDecoder
from cta_core.schemas import schema_text
from stream_jobs.faust_summary import BUSY_CHECKS, SummaryIO, TurnstileSummary
from stream_jobs.summary import decode_key

TOPIC = "turnstiles"
SCHEMA_ID = 7
_PARSED = fastavro.parse_schema(json.loads(schema_text("turnstile_value")))


def avro(station_id: int) -> bytes:
    buf = io.BytesIO()
    record = {"station_id": station_id, "station_name": "s", "line": "red", "sim_time": None}
    fastavro.schemaless_writer(buf, _PARSED, record)
    return b"\x00" + struct.pack(">I", SCHEMA_ID) + buf.getvalue()


def event(partition: int, offset: int, value: bytes | None) -> tuple[int, int, bytes | None]:
    return (partition, offset, value)


@dataclass
class ScriptedConsumer:
    """One partition's log, served in batches from a read position that seeks move.
    ``drop`` is a range of offsets the next batch fetched across it loses (once)."""

    log: list[bytes | None]
    partition: int = 0
    batch: int = 10
    drop: range | None = None
    position: int = 0
    calls: list[Any] = field(default_factory=list)
    committed: dict[int, int] = field(default_factory=dict)

    def assignment(self) -> Iterable[TP]:
        return [TP(TOPIC, self.partition)]

    async def seek_fetch(self, partition: TP, offset: int) -> None:
        self.calls.append(("seek", partition.partition, offset))
        self.position = offset

    async def commit_offsets(self, offsets: dict[TP, int]) -> bool:
        self.committed.update({tp.partition: o for tp, o in offsets.items()})
        return True

    async def earliest_offsets(self, *partitions: TP) -> dict[TP, int]:
        return dict.fromkeys(partitions, 0)

    async def highwaters(self, *partitions: TP) -> dict[TP, int]:
        return dict.fromkeys(partitions, len(self.log))

    def next_batch(self) -> list[Any]:
        offsets = list(range(self.position, min(self.position + self.batch, len(self.log))))
        if self.drop is not None and any(o in self.drop for o in offsets):
            offsets = [
                o
                for o in range(self.position, self.position + self.batch + len(self.drop))
                if o not in self.drop
            ]
            offsets = [o for o in offsets if o < len(self.log)]
            self.drop = None
        if offsets:
            self.position = offsets[-1] + 1
        return [event(self.partition, o, self.log[o]) for o in offsets]

    async def batches(self) -> AsyncIterator[list[Any]]:
        while self.position < len(self.log):
            yield self.next_batch()


@dataclass
class Harness:
    consumer: ScriptedConsumer
    state: dict[str, Any] = field(default_factory=dict)
    changelog: list[tuple[str, dict[str, Any], int]] = field(default_factory=list)
    sent: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    now: float = 0.0

    def summary(self) -> TurnstileSummary:
        async def write_changelog(key: str, value: dict[str, Any], partition: int) -> Any:
            self.changelog.append((key, value, partition))
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done

        async def send(key: bytes, value: bytes) -> None:
            self.sent.append((decode_key(key), json.loads(value)))

        async def no_sleep(_s: float) -> None:
            return None

        io_ = SummaryIO(self.state, write_changelog, send, lambda: self.consumer, no_sleep, lambda: self.now)
        return TurnstileSummary(TOPIC, AvroDecoder(lambda _id: schema_text("turnstile_value")), io_)


def stations(n: int) -> list[int]:
    return [40900 + 10 * (i % 3) for i in range(n)]


def expected(sids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for s in sids:
        out[s] = out.get(s, 0) + 1
    return out


def test_a_dropped_batch_tail_is_re_read_and_counted_exactly_once() -> None:
    sids = stations(40)
    consumer = ScriptedConsumer([avro(s) for s in sids], batch=10, drop=range(10, 15))
    h = Harness(consumer)
    summary = h.summary()

    async def scenario() -> None:
        await summary.process(consumer.next_batch())  # 0..9
        lossy = consumer.next_batch()  # 15..24: 10..14 lost on the way
        assert lossy[0][1] == 15
        await summary.process(lossy)
        # only what precedes the gap is counted, and the partition is re-read from it
        assert h.state["0"]["offset"] == 9
        assert consumer.calls == [("seek", 0, 10)]
        assert consumer.position == 10
        await summary.run(consumer.batches())  # the recovery: 10..39
        await summary.flush()

    asyncio.run(scenario())
    assert h.state["0"]["offset"] == 39
    assert {sid: v["COUNT"] for sid, v in h.sent} == expected(sids)
    assert all(v["STATION_ID"] == sid for sid, v in h.sent)
    assert summary.counters.counted == 40
    assert consumer.calls.count(("seek", 0, 10)) == 1  # recovered with one re-read


def test_a_replayed_batch_counts_nothing_and_writes_no_changelog_record() -> None:
    sids = stations(20)
    consumer = ScriptedConsumer([avro(s) for s in sids], batch=20)
    h = Harness(consumer)
    summary = h.summary()

    async def scenario() -> None:
        await summary.process(consumer.next_batch())
        consumer.position = 5  # the committed offset was behind: Faust re-delivers 5..19
        await summary.process(consumer.next_batch())

    asyncio.run(scenario())
    assert len(h.changelog) == 1 and h.state["0"]["offset"] == 19
    assert sum(h.state["0"]["counts"].values()) == 20


def test_the_same_gap_is_not_re_read_again_until_the_re_read_had_time(caplog: Any) -> None:
    consumer = ScriptedConsumer([avro(1)] * 30, batch=5)
    h = Harness(consumer)
    summary = h.summary()
    late = [event(0, o, avro(1)) for o in (20, 21)]

    async def scenario() -> None:
        await summary.process(late)  # 0..19 missing
        await summary.process(late)  # the re-read is on its way: no second seek
        h.now += 6.0
        await summary.process(late)  # still missing after RESEEK_S: seek again

    with caplog.at_level(logging.WARNING, logger="stream_jobs.faust"):
        asyncio.run(scenario())
    assert [c for c in consumer.calls if isinstance(c, tuple)] == [("seek", 0, 0), ("seek", 0, 0)]
    assert "0" not in h.state  # nothing counted past the gap


def test_counted_offsets_are_committed_once_durable_and_at_most_once_per_interval() -> None:
    consumer = ScriptedConsumer([avro(1)] * 30, batch=10)
    h = Harness(consumer)
    summary = h.summary()

    async def scenario() -> None:
        h.now = 100.0
        await summary.process(consumer.next_batch())  # 0..9: committed (next to read: 10)
        assert consumer.committed == {0: 10}
        await summary.process(consumer.next_batch())  # 10..19: within the interval
        assert consumer.committed == {0: 10}
        h.now += 3.0
        await summary.process(consumer.next_batch())  # 20..29
        assert consumer.committed == {0: 30}

    asyncio.run(scenario())
    assert [k for k, _v, _p in h.changelog] == ["0", "0", "0"]


def test_records_of_a_partition_no_longer_assigned_are_not_counted() -> None:
    consumer = ScriptedConsumer([avro(1)] * 5, batch=5)
    h = Harness(consumer)
    asyncio.run(h.summary().process([event(1, o, avro(1)) for o in range(5)]))
    assert h.state == {} and h.changelog == []


def test_a_partition_waiting_while_others_are_counted_gets_busy_checks_before_a_re_read() -> None:
    consumer = ScriptedConsumer([avro(1)] * 12, batch=4)
    h = Harness(consumer)
    summary = h.summary()

    async def scenario() -> None:
        await summary.process(consumer.next_batch())  # 0..3 counted; 4..11 not fetched yet
        for _ in range(BUSY_CHECKS):
            summary.counters.counted += 1  # other partitions are being counted meanwhile
            await summary.check_stalls()
        assert not [c for c in consumer.calls if isinstance(c, tuple)]
        summary.counters.counted += 1
        await summary.check_stalls()  # still nothing after BUSY_CHECKS: re-read
        assert consumer.calls[-1] == ("seek", 0, 4)

    asyncio.run(scenario())


def test_the_stall_check_leaves_a_partition_with_fetched_records_waiting_alone() -> None:
    consumer = ScriptedConsumer([avro(1)] * 12, batch=4)
    h = Harness(consumer)
    summary = h.summary()
    summary.io.pending = lambda: {0: 8}

    async def scenario() -> None:
        await summary.process(consumer.next_batch())
        for _ in range(3):
            await summary.check_stalls()

    asyncio.run(scenario())
    assert not [c for c in consumer.calls if isinstance(c, tuple)]


def test_a_stalled_partition_is_re_read_after_two_checks_without_progress() -> None:
    sids = stations(12)
    consumer = ScriptedConsumer([avro(s) for s in sids], batch=4)
    h = Harness(consumer)
    summary = h.summary()

    async def scenario() -> None:
        await summary.process(consumer.next_batch())  # 0..3 counted
        consumer.position = 12  # Faust marked 4..11 read without delivering them
        await summary.check_stalls()  # first sight: remembered
        assert not [c for c in consumer.calls if isinstance(c, tuple)]
        await summary.check_stalls()  # no progress since: re-read from 4
        assert consumer.calls[-1] == ("seek", 0, 4)
        await summary.run(consumer.batches())
        await summary.check_stalls()  # caught up: nothing to do
        await summary.flush()

    asyncio.run(scenario())
    assert [c for c in consumer.calls if isinstance(c, tuple)] == [("seek", 0, 4)]
    assert {sid: v["COUNT"] for sid, v in h.sent} == expected(sids)


def test_malformed_messages_are_counted_skipped_and_advance_the_offset() -> None:
    consumer = ScriptedConsumer([avro(5), b"junk", None, avro(5)], batch=4)
    h = Harness(consumer)
    summary = h.summary()
    asyncio.run(summary.run(consumer.batches()))
    assert h.state["0"] == {"offset": 3, "counts": {"5": 2}}
    assert summary.counters.malformed == 2 and summary.counters.counted == 2


def test_flush_writes_only_stations_that_changed_since_the_last_flush() -> None:
    sids = [1, 2, 1, 1]
    consumer = ScriptedConsumer([avro(s) for s in sids], batch=2)
    h = Harness(consumer)
    summary = h.summary()

    async def scenario() -> list[int]:
        written = []
        for _ in range(2):
            await summary.process(consumer.next_batch())
            written.append(await summary.flush())
        written.append(await summary.flush())
        return written

    assert asyncio.run(scenario()) == [2, 1, 0]  # {1,2}, then only 1 changed, then nothing
    assert h.sent == [
        (1, {"STATION_ID": 1, "COUNT": 1}),
        (2, {"STATION_ID": 2, "COUNT": 1}),
        (1, {"STATION_ID": 1, "COUNT": 3}),
    ]


@pytest.mark.parametrize("events", [10_000])
def test_records_written_are_bounded_by_stations_times_flushes_not_events(events: int) -> None:
    """Coalescing: N events over F flushes write at most stations x F records."""
    sids = [40000 + (i * 7919) % 50 for i in range(events)]
    consumer = ScriptedConsumer([avro(s) for s in sids], batch=500)
    h = Harness(consumer)
    summary = h.summary()
    flushes = 4

    async def scenario() -> None:
        per_flush = events // flushes
        while consumer.position < len(consumer.log):
            start = consumer.position
            while consumer.position < min(start + per_flush, len(consumer.log)):
                await summary.process(consumer.next_batch())
            await summary.flush()

    asyncio.run(scenario())
    latest = {sid: v["COUNT"] for sid, v in h.sent}
    assert latest == expected(sids)  # exact
    assert len(h.sent) <= 50 * flushes < events
