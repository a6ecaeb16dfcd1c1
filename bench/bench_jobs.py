"""The Faust turnstile summary (cta-jobs faust, one worker), events/s.

N pre-made Avro turnstile events (Confluent framing, schema registered in the
local registry) are produced to a bench-only topic before the worker starts;
the clock runs from the worker's "Worker ready" log line until TURNSTILE_SUMMARY
(a bench-only topic too) accounts for all N. Side by side, in the same run: a bare
confluent-kafka consumer doing the same decode-and-count with no Faust, no
changelog and no output (the ceiling for one Python process).

Target: bench/targets.py (jobs). Medians of BENCH_REPEATS (3) interleaved runs of
BENCH_JOBS_EVENTS (100,000) events; BENCH_JOBS_KEEPUP_S (30) seconds of keeping up with
the simulator, 0 to skip (short runs for `python -m bench --check jobs`).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, TopicPartition
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from bench.targets import Section, check, cores
from cta_core.avro import AvroDecoder, RegistryLookup, station_id_of
from cta_core.kafka_clients import (
    ensure_topics,
    make_admin,
    make_consumer,
    make_producer,
    make_registry_client,
)
from cta_core.schemas import schema_text
from cta_core.settings import Settings
from cta_core.topics import TURNSTILES, TopicSpec

N = int(os.environ.get("BENCH_JOBS_EVENTS", "100000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
KEEPUP_S = float(os.environ.get("BENCH_JOBS_KEEPUP_S", "30"))
STATIONS = list(range(40010, 40010 + 143 * 10, 10))


def _produce(settings: Settings, topic: str, n: int) -> None:
    ser = AvroSerializer(make_registry_client(settings), schema_text("turnstile_value"))
    ctx = SerializationContext(topic, MessageField.VALUE)
    made = {
        sid: (struct.pack(">i", sid), ser({"station_id": sid, "station_name": f"s{sid}", "line": "red"}, ctx))
        for sid in STATIONS
    }
    producer = make_producer(settings)
    for i in range(n):
        key, value = made[STATIONS[i % len(STATIONS)]]
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(60)


def _summary_total(settings: Settings, topic: str, n: int, timeout: float) -> bool:
    consumer = make_consumer(settings, f"bench.reader.{uuid.uuid4().hex[:8]}")
    latest: dict[bytes, int] = {}
    deadline = time.monotonic() + timeout
    try:
        # assign, not subscribe: no group join (the broker delays the first one by up to 3 s)
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        while time.monotonic() < deadline:
            for msg in consumer.consume(5000, 0.1):
                value = msg.value()
                if not msg.error() and value is not None:
                    latest[msg.key() or b""] = json.loads(value)["COUNT"]
            if sum(latest.values()) >= n:
                return True
    finally:
        consumer.close()
    return False


def _faust_run(settings: Settings, n: int) -> tuple[float, int]:
    """(events/s, how many times the worker re-read records Faust fetched but did not deliver)."""
    topic, summary = f"bench.turnstiles.{uuid.uuid4().hex[:8]}", f"bench.summary.{uuid.uuid4().hex[:8]}"
    admin = make_admin(settings)
    ensure_topics(admin, [TopicSpec(topic, partitions=3)])
    _produce(settings, topic, n)
    tmp = Path(tempfile.mkdtemp(prefix="bench-faust-"))
    log = tmp / "worker.log"
    app_id = f"bench-summary-{uuid.uuid4().hex[:8]}"
    args = ["--group-id", app_id, "--no-stations", "--turnstiles-topic", topic, "--summary-topic", summary]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "stream_jobs", "faust", *args, "--data-dir", str(tmp)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "CTA_BOOTSTRAP_SERVERS": settings.bootstrap_servers},
        )
    try:
        deadline = time.monotonic() + 60
        while "Worker ready" not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"worker did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.05)
        started = time.monotonic()
        if not _summary_total(settings, summary, n, timeout=300):
            raise RuntimeError(f"summary incomplete:\n{log.read_text()[-2000:]}")
        rate = n / (time.monotonic() - started)
        return rate, log.read_text(errors="replace").count("re-reading from offset")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        admin.delete_topics(
            [topic, summary, f"{app_id}-turnstile-counts-changelog", f"{app_id}-__assignor-__leader"]
        )


def _bare_run(settings: Settings, n: int) -> float:
    topic = f"bench.turnstiles.{uuid.uuid4().hex[:8]}"
    admin = make_admin(settings)
    ensure_topics(admin, [TopicSpec(topic, partitions=3)])
    _produce(settings, topic, n)
    decoder = AvroDecoder(RegistryLookup(settings))
    consumer = make_consumer(settings, f"bench.bare.{uuid.uuid4().hex[:8]}")
    counts: dict[int, int] = {}
    seen = 0
    try:
        consumer.subscribe([topic])
        started = time.monotonic()
        while seen < n:
            for msg in consumer.consume(5000, 0.5):
                if msg.error():
                    continue
                sid = station_id_of(decoder.decode(msg.value()))
                counts[sid] = counts.get(sid, 0) + 1
                seen += 1
        return n / (time.monotonic() - started)
    finally:
        consumer.close()
        admin.delete_topics([topic])


def _keep_up(settings: Settings, seconds: float = 30.0) -> list[tuple[float, int, int]]:
    """cta-sim --speed 600 into bench topics with the worker counting: (t, produced, lag) samples."""
    suffix = f".bench{uuid.uuid4().hex[:6]}"
    topic, summary = f"{TURNSTILES}{suffix}", f"bench.summary.{uuid.uuid4().hex[:8]}"
    admin = make_admin(settings)
    ensure_topics(admin, [TopicSpec(topic, partitions=3)])
    tmp = Path(tempfile.mkdtemp(prefix="bench-keepup-"))
    app_id = f"bench-keepup-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "CTA_BOOTSTRAP_SERVERS": settings.bootstrap_servers}
    log = (tmp / "worker.log").open("wb")
    args = ["--group-id", app_id, "--no-stations", "--turnstiles-topic", topic, "--summary-topic", summary]
    worker = subprocess.Popen(
        [sys.executable, "-m", "stream_jobs", "faust", *args, "--data-dir", str(tmp)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    sim = None
    samples: list[tuple[float, int, int]] = []
    consumer = make_consumer(settings, f"bench.reader.{uuid.uuid4().hex[:8]}")
    try:
        deadline = time.monotonic() + 60
        while "Worker ready" not in (tmp / "worker.log").read_text(errors="replace"):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError("worker did not start")
            time.sleep(0.1)
        sim = subprocess.Popen(
            [sys.executable, "-m", "producers_sim", "--speed", "600", "--start", "07:00", "--topic-suffix", suffix,
             "--no-control", "--seed", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )  # fmt: skip
        consumer.assign([TopicPartition(summary, 0, OFFSET_BEGINNING)])
        latest: dict[bytes, int] = {}
        started = time.monotonic()
        next_sample = started + 5
        while time.monotonic() - started < seconds:
            for msg in consumer.consume(5000, 0.2):
                value = msg.value()
                if not msg.error() and value is not None:
                    latest[msg.key() or b""] = json.loads(value)["COUNT"]
            if time.monotonic() >= next_sample:
                next_sample += 5
                meta = consumer.list_topics(topic, timeout=5).topics[topic]
                produced = sum(
                    consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1]
                    for p in meta.partitions
                )
                samples.append((time.monotonic() - started, produced, produced - sum(latest.values())))
    finally:
        consumer.close()
        for proc in (sim, worker):
            if proc is not None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        log.close()
        admin.delete_topics(
            [topic, summary, f"{app_id}-turnstile-counts-changelog", f"{app_id}-__assignor-__leader"]
        )
    return samples


def run() -> Section:
    settings = Settings.from_env()
    faust_rates: list[float] = []
    rereads: list[int] = []
    bare_rates: list[float] = []
    load_before = os.getloadavg()[0]
    for _ in range(REPEATS):  # interleaved, so a neighbour's load hits both paths alike
        rate, reread = _faust_run(settings, N)
        faust_rates.append(rate)
        rereads.append(reread)
        bare_rates.append(_bare_run(settings, N))
    load_after = os.getloadavg()[0]
    f, b = statistics.median(faust_rates), statistics.median(bare_rates)
    target = check("jobs", "faust_eps", f)
    text = (
        "## Jobs: Faust turnstile summary\n\n"
        f"{N:,} pre-made Avro turnstile events on a 3-partition topic, one `cta-jobs faust` worker, "
        'timed from the worker\'s "Worker ready" (group joined, changelog recovered) '
        "until TURNSTILE_SUMMARY accounts for every event. "
        f"Medians of {REPEATS} interleaved rounds (Faust, bare, Faust, ...); 1-min load average "
        f"{load_before:.2f} before, {load_after:.2f} after ({cores()} cores, shared machine). The worker "
        "runs Faust with the eager hand-off, RawSchema, QuietMonitor and larger polls/buffers "
        "of `stream_jobs/faust_fastpath.py` (see docs/jobs.md).\n\n"
        "| path | events/s (median) | runs |\n|---|---:|---|\n"
        f"| cta-jobs faust (decode, count, changelog, summary out) | {f:,.0f} | "
        f"{', '.join(f'{r:,.0f}' for r in faust_rates)} |\n"
        f"| bare confluent-kafka consumer, same decode + count (ceiling) | {b:,.0f} | "
        f"{', '.join(f'{r:,.0f}' for r in bare_rates)} |\n\n"
        f"Faust / bare: {f / b:.2f}. Faust {target.describe()}: {target.verdict}. Re-reads of records "
        f"Faust fetched but did not deliver (docs/jobs.md), per timed run: "
        f"{', '.join(map(str, rereads))}.\n"
    )
    if KEEPUP_S > 0:
        rows = "".join(f"| {t:.0f} | {p:,} | {lag:,} |\n" for t, p, lag in _keep_up(settings, KEEPUP_S))
        text += (
            "\nKeeping up with `cta-sim --speed 600` (from 07:00 simulated, all lines): turnstile events "
            "produced so far and the summary's lag behind them (events not yet counted), every 5 s.\n\n"
            "| wall s | produced | lag |\n|---:|---:|---:|\n" + rows
        )
    return Section(text, [target])


if __name__ == "__main__":
    print(run().markdown)
