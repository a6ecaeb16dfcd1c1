"""The Faust turnstile summary against the real local stack (Kafka + Schema Registry).

Each test runs ``cta-jobs faust`` as a subprocess with a unique app id and unique
topics, so it never collides with a demo worker or another test.
"""

from __future__ import annotations

import json
import random
import re
import signal
import struct
import time
from pathlib import Path

import pytest

from cta_core.kafka_clients import ensure_topics, make_admin
from cta_core.settings import Settings
from cta_core.topics import TopicSpec
from stream_jobs.summary import decode_key
from tests.support.jobs import FaustWorker, produce, read_latest, turnstile_values, unique

pytestmark = pytest.mark.integration

STATIONS = [40900, 41190, 40100, 41300, 40760, 40880, 40450]


def _events(
    settings: Settings, topic: str, n: int, seed: int
) -> tuple[list[tuple[bytes, bytes]], dict[int, int]]:
    rng = random.Random(seed)
    sids = [rng.choice(STATIONS) for _ in range(n)]
    values = turnstile_values(settings, topic, sids)
    expected: dict[int, int] = {}
    for sid in sids:
        expected[sid] = expected.get(sid, 0) + 1
    return [(struct.pack(">i", sid), v) for sid, v in zip(sids, values, strict=True)], expected


def _counts(latest: dict[bytes, bytes]) -> dict[int, int]:
    return {decode_key(k): json.loads(v)["COUNT"] for k, v in latest.items()}


def _worker(
    settings: Settings, tmp: Path, app_id: str, turnstiles: str, summary: str, *extra: str
) -> FaustWorker:
    return FaustWorker(
        settings,
        tmp,
        "--group-id",
        app_id,
        "--turnstiles-topic",
        turnstiles,
        "--summary-topic",
        summary,
        "--data-dir",
        str(tmp),
        *extra,
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "killed"])
def test_summary_counts_sum_to_n_across_a_restart(stack: Settings, tmp_path: Path, stop_signal: int) -> None:
    """SIGKILL leaves changelog writes and offset commits wherever they were: the
    per-partition offset stored with the counts makes the replay count nothing twice."""
    turnstiles, summary, app_id = unique("test.turnstiles"), unique("test.summary"), unique("test-summary")
    ensure_topics(make_admin(stack), [TopicSpec(turnstiles, partitions=3)])
    first, exp1 = _events(stack, turnstiles, 6000, seed=1)
    second, exp2 = _events(stack, turnstiles, 6000, seed=2)
    expected = {s: exp1.get(s, 0) + exp2.get(s, 0) for s in set(exp1) | set(exp2)}
    n = len(first) + len(second)

    worker = _worker(stack, tmp_path, app_id, turnstiles, summary, "--no-stations").start()
    try:
        assert worker.wait_for_log("Worker ready", 60), worker.log()[-2000:]
        produce(stack, turnstiles, first)
        partial = read_latest(stack, summary, lambda got: sum(_counts(got).values()) > 0, timeout=60)
        assert 0 < sum(_counts(partial).values()) <= len(first)
    finally:
        worker.stop(sig=stop_signal)  # in the middle: offsets not yet committed are replayed on restart
    produce(stack, turnstiles, second)
    restarted = _worker(stack, tmp_path, app_id, turnstiles, summary, "--no-stations").start()
    try:
        final = read_latest(stack, summary, lambda got: _counts(got) == expected, timeout=90)
        assert sum(_counts(final).values()) == n, restarted.log()[-2000:]
        assert _counts(final) == expected
        # nothing more arrives later (a double count would show up as a higher COUNT)
        # reading for longer than the worker's 2.8 s commit interval gives a late duplicate time to show
        assert _counts(read_latest(stack, summary, lambda got: False, timeout=6)) == expected
    finally:
        restarted.stop()


def test_malformed_messages_are_logged_counted_and_skipped(stack: Settings, tmp_path: Path) -> None:
    turnstiles, summary, app_id = unique("test.turnstiles"), unique("test.summary"), unique("test-malformed")
    st_raw, ls_raw, st_table = unique("test.st.raw"), unique("test.ls.raw"), unique("test.st.table")
    ensure_topics(
        make_admin(stack), [TopicSpec(turnstiles, partitions=3), TopicSpec(st_raw), TopicSpec(ls_raw)]
    )
    good, expected = _events(stack, turnstiles, 50, seed=3)
    worker = _worker(
        stack,
        tmp_path,
        app_id,
        turnstiles,
        summary,
        "--stations-topic",
        st_raw,
        "--line-stations-topic",
        ls_raw,
        "--stations-table-topic",
        st_table,
    ).start()
    try:
        assert worker.wait_for_log("Worker ready", 60), worker.log()[-2000:]
        bad_turnstiles = [
            (b"\x00\x00\x9f\xc4", b"not avro at all"),
            (None, b"\x00\x00\x00\x00"),
            (None, None),
        ]
        produce(stack, turnstiles, [*good[:25], *bad_turnstiles, *good[25:]])
        produce(
            stack,
            ls_raw,
            [
                (None, b"{broken json"),
                (None, json.dumps({"line": "mauve", "branch": "main", "position": 0}).encode()),
                (None, json.dumps(
                    {"line": "red", "branch": "main", "position": 0, "station_id": 40900, "station_name": "Howard"}
                ).encode()),
            ],
        )  # fmt: skip
        produce(stack, st_raw, [(None, b"[]")])
        latest = read_latest(stack, summary, lambda got: _counts(got) == expected, timeout=60)
        assert _counts(latest) == expected, worker.log()[-3000:]
        table = read_latest(stack, st_table, lambda got: b"red:40900" in got, timeout=30)
        assert json.loads(table[b"red:40900"])["station_name"] == "Howard"
        assert worker.wait_for_log("malformed turnstile messages so far: 3", 30), worker.log()[-3000:]
        assert worker.wait_for_log("malformed station rows so far: 3", 30), worker.log()[-3000:]
        assert len(re.findall(r"skipped malformed turnstile message", worker.log())) == 3
        assert worker.running()
        # and it still counts what comes next
        more, more_expected = _events(stack, turnstiles, 10, seed=4)
        produce(stack, turnstiles, more)
        both = {s: expected.get(s, 0) + more_expected.get(s, 0) for s in set(expected) | set(more_expected)}
        assert _counts(read_latest(stack, summary, lambda got: _counts(got) == both, timeout=60)) == both
    finally:
        worker.stop()


def _line_station_rows(n: int) -> list[tuple[bytes | None, bytes]]:
    return [
        (
            None,
            json.dumps(
                {
                    "line": "red",
                    "branch": "main",
                    "position": i,
                    "station_id": 40000 + i,
                    "station_name": f"S{i}",
                }
            ).encode(),
        )
        for i in range(n)
    ]


def _spread(
    events: list[tuple[bytes, bytes]], expected: dict[int, int], start: int = 0
) -> tuple[list[tuple[bytes, bytes]], dict[int, int]]:
    return [(struct.pack(">i", start + i), v) for i, (_k, v) in enumerate(events)], expected


def test_two_workers_share_partitions_and_one_killed_loses_nothing(stack: Settings, tmp_path: Path) -> None:
    """Two `cta-jobs faust` on one app id split the partitions; kill -9 of one mid-stream:
    the survivor takes its partitions over, the summary ends exact for every station
    (no loss, no double count) and the stations table has every record."""
    turnstiles, summary, app_id = unique("test.turnstiles"), unique("test.summary"), unique("test-two")
    st_raw, ls_raw, st_table = unique("test.st.raw"), unique("test.ls.raw"), unique("test.st.table")
    ensure_topics(
        make_admin(stack), [TopicSpec(turnstiles, partitions=3), TopicSpec(st_raw), TopicSpec(ls_raw)]
    )
    # keyed by event, not station: every station's entries spread over all partitions,
    # so each worker counts part of every station (the course project keyed events by time)
    first, exp1 = _spread(*_events(stack, turnstiles, 8000, seed=5))
    second, exp2 = _spread(*_events(stack, turnstiles, 8000, seed=6), start=8000)
    expected = {s: exp1.get(s, 0) + exp2.get(s, 0) for s in set(exp1) | set(exp2)}
    topics_args = (
        "--stations-topic",
        st_raw,
        "--line-stations-topic",
        ls_raw,
        "--stations-table-topic",
        st_table,
    )
    workers = [_worker(stack, tmp_path, app_id, turnstiles, summary, *topics_args).start() for _ in range(2)]
    try:
        for w in workers:
            assert w.wait_for_log("Worker ready", 90), w.log()[-2000:]
        produce(stack, ls_raw, _line_station_rows(20))
        produce(stack, turnstiles, first)
        # both running: each writes totals over every partition (its own and standby copies)
        both = read_latest(stack, summary, lambda got: _counts(got) == exp1, timeout=90)
        assert _counts(both) == exp1, workers[0].log()[-2000:] + workers[1].log()[-2000:]
        # and they did share: each was assigned turnstile partitions (Faust's assignment table)
        assigned = re.compile(rf"\| {re.escape(turnstiles)}\s+\| \{{")
        assert all(assigned.search(w.log()) for w in workers), [w.log()[-1500:] for w in workers]
        produce(stack, turnstiles, second[:4000])
        workers[0].stop(sig=signal.SIGKILL)  # mid-stream: its partitions move to the other
        survivor_log_at_kill = len(workers[1].log())
        produce(stack, turnstiles, second[4000:])
        produce(stack, ls_raw, _line_station_rows(40)[20:])
        final = read_latest(stack, summary, lambda got: _counts(got) == expected, timeout=120)
        assert _counts(final) == expected, workers[1].log()[-3000:]
        assert all(json.loads(v)["STATION_ID"] == decode_key(k) for k, v in final.items())
        # nothing later (a double count would show up as a higher COUNT)
        assert _counts(read_latest(stack, summary, lambda got: False, timeout=6)) == expected
        # the survivor took the stations partition over too (after the dead member's session expired)
        table = read_latest(stack, st_table, lambda got: len(got) == 40, timeout=120)
        want = sorted(f"red:{40000 + i}".encode() for i in range(40))
        assert sorted(table) == want, workers[1].log()[-3000:]
        # what Faust fetched while it resumed the taken-over partitions is read again
        assert f"read again from {ls_raw}[0]" in workers[1].log()[survivor_log_at_kill:]
    finally:
        for w in workers:
            w.stop()


#: a backlog a worker starts behind (scaled to CI: seconds to count)
BACKLOG = 150_000
#: the slowest catch-up accepted, events/s: a worker that re-reads in a loop or stalls
#: crawls at a few thousand; a sound one counts tens of thousands a second (bench jobs)
CATCH_UP_FLOOR = 8_000
#: re-reads of records accepted while catching up ("a handful")
MAX_REREADS = 3


def _backlog(
    settings: Settings, topic: str, n: int, seed: int
) -> tuple[list[tuple[bytes, bytes]], dict[int, int]]:
    """``n`` events, keys spread over the partitions, one serialized value per station."""
    value = dict(zip(STATIONS, turnstile_values(settings, topic, STATIONS), strict=True))
    rng = random.Random(seed)
    sids = [rng.choice(STATIONS) for _ in range(n)]
    expected: dict[int, int] = {}
    for sid in sids:
        expected[sid] = expected.get(sid, 0) + 1
    return [(struct.pack(">i", i), value[sid]) for i, sid in enumerate(sids)], expected


def _catch_up(worker: FaustWorker, stack: Settings, summary: str, expected: dict[int, int]) -> float:
    """Events/s from "Worker ready" until every station's count is exact."""
    assert worker.wait_for_log("Worker ready", 90), worker.log()[-2000:]
    started = time.monotonic()
    final = read_latest(stack, summary, lambda got: _counts(got) == expected, timeout=120)
    took = time.monotonic() - started
    assert _counts(final) == expected, worker.log()[-3000:]
    return BACKLOG / took


def test_a_worker_catches_up_a_backlog_fast_without_re_read_loops(stack: Settings, tmp_path: Path) -> None:
    """Behind a backlog, with a new app id and again restarted after a stop: every count
    exact, at no less than CATCH_UP_FLOOR events/s and with at most a handful of re-reads
    (a worker whose catch-up loops on re-reading crawls and logs dozens)."""
    turnstiles, summary, app_id = unique("test.turnstiles"), unique("test.summary"), unique("test-backlog")
    ensure_topics(make_admin(stack), [TopicSpec(turnstiles, partitions=3)])
    first, exp1 = _backlog(stack, turnstiles, BACKLOG, seed=7)
    second, exp2 = _backlog(stack, turnstiles, BACKLOG, seed=8)
    both = {s: exp1.get(s, 0) + exp2.get(s, 0) for s in STATIONS}
    produce(stack, turnstiles, first)
    rates, logs = [], []
    for backlog, expected in ((first, exp1), (second, both)):
        if backlog is second:
            produce(stack, turnstiles, second)  # while the worker is stopped
        worker = _worker(stack, tmp_path, app_id, turnstiles, summary, "--no-stations").start()
        try:
            rates.append(_catch_up(worker, stack, summary, expected))
        finally:
            worker.stop()
            logs.append(worker.log())
    rereads = [log.count("re-reading from offset") for log in logs]
    assert all(r <= MAX_REREADS for r in rereads), (rereads, logs[-1][-3000:])
    assert all(r >= CATCH_UP_FLOOR for r in rates), (rates, logs[-1][-2000:])
    assert "is overlapping" not in "".join(logs)
