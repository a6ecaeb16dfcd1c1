"""Faust summary trials (not part of ``make bench``): coalescing and worker kills.

    python -m bench.trial_faust coalesce [--events 100000] [--rate N] [--cwd DIR]
    python -m bench.trial_faust kill --workers 1|2 [--events 60000]

``coalesce``: N turnstile events (Avro, 3 partitions) counted by one ``cta-jobs faust``
(run from ``--cwd``, e.g. an older checkout); prints the TURNSTILE_SUMMARY records
written per 100,000 events and whether the final counts are exact.

``kill``: events produced at a steady rate while ``--workers`` workers count them;
kill -9 of one worker a third of the way in (with one worker, a new one is started in
its place, as a supervisor would); prints events produced, counted (read back from
TURNSTILE_SUMMARY), lost, duplicated, the seconds from the kill until everything
produced before it was counted (the time to recover), and until the summary was exact.

Unique topics and app ids; against the stack of ``CTA_STACK_DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, TopicPartition
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from cta_core.kafka_clients import (
    ensure_topics,
    make_admin,
    make_consumer,
    make_producer,
    make_registry_client,
)
from cta_core.schemas import schema_text
from cta_core.settings import Settings
from cta_core.topics import TopicSpec

STATIONS = list(range(40000, 40150))  # about the size of the 'L'


def _unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


def _values(settings: Settings, topic: str, sids: list[int]) -> list[bytes]:
    ser = AvroSerializer(make_registry_client(settings), schema_text("turnstile_value"))
    ctx = SerializationContext(topic, MessageField.VALUE)
    cache: dict[int, bytes] = {}
    out = []
    for sid in sids:
        if sid not in cache:
            cache[sid] = ser(
                {"station_id": sid, "station_name": f"s{sid}", "line": "red", "sim_time": None}, ctx
            )
        out.append(cache[sid])
    return out


def _produce(settings: Settings, topic: str, sids: list[int], rate: float | None = None) -> None:
    producer = make_producer(settings)
    values = _values(settings, topic, sids)
    t0 = time.monotonic()
    for i, (sid, value) in enumerate(zip(sids, values, strict=True)):
        while True:
            try:
                producer.produce(topic, key=struct.pack(">i", sid), value=value)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
        if rate is not None and i % 200 == 0:
            ahead = t0 + i / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    producer.flush(60)


def _read_summary(settings: Settings, topic: str) -> tuple[dict[int, int], int]:
    """Latest COUNT per station (the value's STATION_ID) and the number of records read."""
    consumer = make_consumer(settings, _unique("trial.reader"))
    latest: dict[int, int] = {}
    n = 0
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        _low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        pos = 0
        while pos < high:
            for msg in consumer.consume(5000, 1.0):
                if msg.error():
                    continue
                pos = (msg.offset() or 0) + 1
                n += 1
                v = json.loads(msg.value() or b"{}")
                if "STATION_ID" not in v:  # older workers: the station id in the key only
                    v["STATION_ID"] = struct.unpack(">i", msg.key() or b"\0\0\0\0")[0]
                sid = v["STATION_ID"]
                latest[int(sid)] = int(v["COUNT"])
    finally:
        consumer.close()
    return latest, n


def _worker(
    settings: Settings, app_id: str, turnstiles: str, summary: str, log: Path, cwd: str | None
) -> Any:
    env = {**os.environ, "CTA_BOOTSTRAP_SERVERS": settings.bootstrap_servers}
    return subprocess.Popen(
        [sys.executable, "-m", "stream_jobs", "faust", "--no-stations", "--app-id", app_id,
         "--turnstiles-topic", turnstiles, "--summary-topic", summary, "--data-dir", str(log.parent)],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env, cwd=cwd,
    )  # fmt: skip


def _wait_ready(log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while "Worker ready" not in log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise SystemExit(f"worker not ready: {log}")
        time.sleep(0.3)


def _expected(sids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for s in sids:
        out[s] = out.get(s, 0) + 1
    return out


def coalesce(settings: Settings, events: int, cwd: str | None, rate: float | None) -> None:
    turnstiles, summary, app_id = _unique("trial.turnstiles"), _unique("trial.summary"), _unique("trial-co")
    ensure_topics(
        make_admin(settings), [TopicSpec(turnstiles, partitions=3), TopicSpec(summary, compacted=True)]
    )
    rng = random.Random(1)
    sids = [rng.choice(STATIONS) for _ in range(events)]
    expected = _expected(sids)
    tmp = Path(tempfile.mkdtemp(prefix="trial-faust-"))
    log = tmp / "worker.log"
    proc = _worker(settings, app_id, turnstiles, summary, log, cwd)
    try:
        _wait_ready(log)
        t0 = time.monotonic()
        _produce(settings, turnstiles, sids, rate)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            latest, n = _read_summary(settings, summary)
            if latest == expected:
                break
            time.sleep(2)
        wall = time.monotonic() - t0
        latest, n = _read_summary(settings, summary)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    print(
        f"events {events}, stations {len(expected)}, summary records {n} "
        f"({n * 100_000 / events:,.0f} per 100,000 events), exact {latest == expected}, {wall:.1f}s"
    )


def kill(settings: Settings, workers: int, events: int, rate: float) -> None:
    turnstiles, summary, app_id = _unique("trial.turnstiles"), _unique("trial.summary"), _unique("trial-kill")
    ensure_topics(
        make_admin(settings), [TopicSpec(turnstiles, partitions=3), TopicSpec(summary, compacted=True)]
    )
    rng = random.Random(2)
    sids = [rng.choice(STATIONS) for _ in range(events)]
    tmp = Path(tempfile.mkdtemp(prefix="trial-faust-"))
    logs = [tmp / f"w{i}.log" for i in range(workers)]
    procs = [_worker(settings, app_id, turnstiles, summary, log, None) for log in logs]
    spare = None
    try:
        for log in logs:
            _wait_ready(log)
        third = events // 3
        _produce(settings, turnstiles, sids[:third], rate)
        producer = threading.Thread(target=_produce, args=(settings, turnstiles, sids[third:], rate))
        producer.start()  # the stream goes on while a worker dies
        procs[0].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        procs[0].wait(10)
        if workers == 1:  # a supervisor restarts it
            spare = _worker(settings, app_id, turnstiles, summary, tmp / "restart.log", None)
        before = _expected(sids[:third])
        recovered_at = None
        while recovered_at is None and time.monotonic() - killed_at < 300:
            got, _n = _read_summary(settings, summary)
            if all(got.get(s, 0) >= n for s, n in before.items()):
                recovered_at = time.monotonic()
            else:
                time.sleep(0.5)
        producer.join()
        produced_at = time.monotonic()
        expected = _expected(sids)
        deadline = time.monotonic() + 300
        latest: dict[int, int] = {}
        while time.monotonic() < deadline:
            latest, _n = _read_summary(settings, summary)
            if latest == expected:
                break
            time.sleep(0.5)
        exact_at = time.monotonic()
    finally:
        for p in [*procs, spare]:
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(30)
    counted = sum(latest.values())
    lost = sum(max(0, n - latest.get(s, 0)) for s, n in expected.items())
    dup = sum(max(0, latest.get(s, 0) - n) for s, n in expected.items())
    print(
        f"workers {workers}: produced {events}, counted {counted}, lost {lost}, duplicated {dup}; "
        f"everything produced before the kill counted {(recovered_at or float('nan')) - killed_at:.1f}s after it; "
        f"exact {exact_at - killed_at:.1f}s after the kill ({exact_at - produced_at:.1f}s after the last "
        f"event was produced; producing took {produced_at - killed_at:.1f}s at {rate:,.0f}/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="trial", required=True)
    c = sub.add_parser("coalesce")
    c.add_argument("--events", type=int, default=100_000)
    c.add_argument("--cwd", default=None, help="run the worker from this checkout")
    c.add_argument(
        "--rate", type=float, default=None, help="events per second (default: as fast as possible)"
    )
    k = sub.add_parser("kill")
    k.add_argument("--workers", type=int, choices=(1, 2), default=2)
    k.add_argument("--events", type=int, default=60_000)
    k.add_argument("--rate", type=float, default=2000.0)
    args = parser.parse_args()
    settings = Settings.from_env()
    if args.trial == "coalesce":
        coalesce(settings, args.events, args.cwd, args.rate)
    else:
        kill(settings, args.workers, args.events, args.rate)


if __name__ == "__main__":
    main()
