"""The shared feed of `cta-tui serve --ssh`: snapshot for late joiners (pure), and the
hub streaming an in-memory source's batches over a real Unix socket to SocketSource."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from cta_core import topics
from cta_core.errors import ServiceUnavailable
from cta_tui.feeds.memory_source import MemorySource
from cta_tui.ssh.hub import RecordHub, Snapshot, SocketSource
from cta_tui.state.records import Batch, Record

NOW = 1_800_000_000.0


def rec(topic: str, key: object, value: object, age_s: float = 0.0) -> Record:
    return Record(topic, key, value, int((NOW - age_s) * 1000))


def test_snapshot_keeps_what_a_fresh_consumer_would_read() -> None:
    snap = Snapshot(replay_seconds=300, clock=lambda: NOW)
    batch = Batch()
    for r in [
        rec(topics.STATIONS_TABLE, {"station_id": 1}, {"name": "a"}),
        rec(topics.STATIONS_TABLE, {"station_id": 2}, {"name": "b"}),
        rec(topics.STATIONS_TABLE, {"station_id": 1}, {"name": "a2"}),
        rec(topics.TURNSTILE_SUMMARY, 7, {"COUNT": 1}),
        # keyless rows are told apart by their id fields
        rec(topics.TURNSTILE_SUMMARY, None, {"STATION_ID": 40380, "COUNT": 3}),
        rec(topics.TURNSTILE_SUMMARY, None, {"STATION_ID": 40380, "COUNT": 4}),
        rec(topics.TURNSTILE_SUMMARY, None, {"STATION_ID": 40390, "COUNT": 1}),
        rec(topics.TURNSTILE_SUMMARY, 7, None),  # tombstone
        *[rec(topics.WEATHER, None, {"t": i}) for i in range(5)],
        *[rec(topics.SIM_STATUS, "run", {"n": i}) for i in range(3)],
        rec(topics.ARRIVALS, None, {"old": True}, age_s=600),
        rec(topics.ARRIVALS, None, {"new": True}, age_s=10),
    ]:
        batch.add(r)
    snap.apply(batch)
    out = snap.batch().records
    assert [r.value["name"] for r in out[topics.STATIONS_TABLE]] == ["a2", "b"]
    assert [r.value for r in out[topics.TURNSTILE_SUMMARY]] == [
        {"STATION_ID": 40380, "COUNT": 4},
        {"STATION_ID": 40390, "COUNT": 1},
    ]
    assert [r.value["t"] for r in out[topics.WEATHER]] == [2, 3, 4]
    assert [r.value["n"] for r in out[topics.SIM_STATUS]] == [2]
    assert [r.value for r in out[topics.ARRIVALS]] == [{"new": True}]


async def _poll_until(source: SocketSource, predicate, timeout: float = 20.0) -> Batch:
    seen = Batch()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = await asyncio.to_thread(source.poll, 1000, 0.2)
        for topic, records in batch.records.items():
            seen.records.setdefault(topic, []).extend(records)
        if predicate(seen):
            return seen
    raise AssertionError(f"never saw the expected records; saw {seen.records}")


async def test_hub_streams_to_sessions_and_late_joiners_get_the_snapshot(tmp_path: Path) -> None:
    memory = MemorySource([rec(topics.STATIONS_TABLE, {"station_id": 1}, {"name": "Clark/Lake"})])
    hub = RecordHub(memory, Snapshot(clock=time.time))
    path = str(tmp_path / "feed.sock")
    await hub.start(path)
    first = SocketSource(path)
    late = SocketSource(path)
    try:
        got = await _poll_until(first, lambda b: topics.STATIONS_TABLE in b.records)
        assert got.records[topics.STATIONS_TABLE][0].value == {"name": "Clark/Lake"}

        memory.push(Record(topics.ARRIVALS, None, {"train_id": "R1"}, int(time.time() * 1000)))
        got = await _poll_until(first, lambda b: topics.ARRIVALS in b.records)
        assert got.records[topics.ARRIVALS][0].value == {"train_id": "R1"}

        # A dashboard that connects now gets the table and the recent arrival at once.
        joined = await _poll_until(late, lambda b: {topics.STATIONS_TABLE, topics.ARRIVALS} <= set(b.records))
        assert joined.records[topics.STATIONS_TABLE][0].value == {"name": "Clark/Lake"}
        assert len(hub.clients) == 2

        # Kafka trouble reaches every session as ServiceUnavailable, and recovery too.
        memory.fail_next(ServiceUnavailable("Kafka", "127.0.0.1:1", cause="all brokers down"))
        with pytest.raises(ServiceUnavailable, match="all brokers down"):
            await _poll_until(first, lambda b: False, timeout=10)
        memory.push(Record(topics.SIM_STATUS, "run", {"paused": False}, int(time.time() * 1000)))
        got = await _poll_until(first, lambda b: topics.SIM_STATUS in b.records)
        assert got.records[topics.SIM_STATUS][-1].value == {"paused": False}
    finally:
        first.close()
        late.close()
        await hub.close()
    assert memory.closed


def test_socket_source_without_server_is_service_unavailable(tmp_path: Path) -> None:
    source = SocketSource(str(tmp_path / "missing.sock"))
    with pytest.raises(ServiceUnavailable, match=r"missing\.sock"):
        source.poll(10, 0.1)
