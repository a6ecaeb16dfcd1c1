"""The Faust turnstile summary (cta-jobs faust, one worker): events/s beside a bare
consumer, keeping up with the simulator, catching up a backlog; on a scratch stack.

N pre-made Avro turnstile events (Confluent framing, schema registered in the
local registry) are produced to a bench-only topic before the worker starts;
the clock runs from the worker's "Worker ready" log line until TURNSTILE_SUMMARY
(a bench-only topic too) accounts for all N. Side by side, in the same run: a bare
confluent-kafka consumer doing the same decode-and-count with no Faust, no
changelog and no output (the ceiling for one Python process).

Then the keep-up runs (BENCH_JOBS_KEEPUP: simulator arguments, ';'-separated, empty to
skip), the catch-up of a BENCH_JOBS_BACKLOG (1,000,000; 0 to skip) event backlog and one
worker against two behind BENCH_JOBS_TWO_WORKERS (300,000; 0 to skip) events, from
bench/jobs_keepup.py. Targets: bench/targets.py (jobs). Medians of BENCH_REPEATS (3)
interleaved runs of BENCH_JOBS_EVENTS (300,000) events.
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

from bench.jobs_keepup import CatchUp, KeepUp, catch_up, keep_up, one_and_two
from bench.targets import Check, Section, check, cores
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
from cta_core.topics import TopicSpec
from cta_stack.scratch import ScratchStack

N = int(os.environ.get("BENCH_JOBS_EVENTS", "300000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
BACKLOG = int(os.environ.get("BENCH_JOBS_BACKLOG", "1000000"))
TWO_WORKERS = int(os.environ.get("BENCH_JOBS_TWO_WORKERS", "300000"))
#: the simulator runs of the keep-up part (the first is held to the lag target); empty: none
KEEPUP_RUNS = [
    a.strip()
    for a in os.environ.get(
        "BENCH_JOBS_KEEPUP",
        "--speed 1200 --start 07:00 --duration 3h --seed 1;--speed max --start 07:00 --count 300000 --seed 1",
    ).split(";")
    if a.strip()
]
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


def _faust_run(
    settings: Settings, env: dict[str, str], n: int, names: tuple[str, str, str] | None = None
) -> tuple[float, int]:
    """(events/s, how many times the worker re-read records Faust fetched but did not deliver).
    ``names``: (turnstiles topic, summary topic, app id) instead of bench-only ones (a secured
    stack's worker may only use names its ACLs cover)."""
    tag = uuid.uuid4().hex[:8]
    topic, summary, app_id = names or (
        f"bench.turnstiles.{tag}",
        f"bench.summary.{tag}",
        f"bench-summary-{tag}",
    )
    admin = make_admin(settings)
    ensure_topics(admin, [TopicSpec(topic, partitions=3)])
    _produce(settings, topic, n)
    tmp = Path(tempfile.mkdtemp(prefix="bench-faust-"))
    log = tmp / "worker.log"
    args = ["--group-id", app_id, "--no-stations", "--turnstiles-topic", topic, "--summary-topic", summary]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "stream_jobs", "faust", *args, "--data-dir", str(tmp)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
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


def _throughput(settings: Settings, env: dict[str, str]) -> tuple[str, list[Check], float]:
    faust_rates: list[float] = []
    rereads: list[int] = []
    bare_rates: list[float] = []
    load_before = os.getloadavg()[0]
    for _ in range(REPEATS):  # interleaved, so a neighbour's load hits both paths alike
        rate, reread = _faust_run(settings, env, N)
        faust_rates.append(rate)
        rereads.append(reread)
        bare_rates.append(_bare_run(settings, N))
    load_after = os.getloadavg()[0]
    f, b = statistics.median(faust_rates), statistics.median(bare_rates)
    checks = [check("jobs", "faust_eps", f), check("jobs", "faust_vs_bare", f / b)]
    text = (
        f"{N:,} pre-made Avro turnstile events on a 3-partition topic, one `cta-jobs faust` worker, "
        'timed from the worker\'s "Worker ready" (group joined, changelog recovered) '
        "until TURNSTILE_SUMMARY accounts for every event (so one commit interval, 1 s, is in it). "
        f"Medians of {REPEATS} interleaved rounds (Faust, bare, Faust, ...); 1-min load average "
        f"{load_before:.2f} before, {load_after:.2f} after ({cores()} cores, shared machine). The worker "
        "takes whole fetches of the turnstile topic past Faust's per-record streams and writes one "
        "changelog record per partition and fetch (`stream_jobs/faust_fastpath.py`, docs/jobs.md).\n\n"
        "| path | events/s (median) | runs |\n|---|---:|---|\n"
        f"| cta-jobs faust (decode, count, changelog, summary out) | {f:,.0f} | "
        f"{', '.join(f'{r:,.0f}' for r in faust_rates)} |\n"
        f"| bare confluent-kafka consumer, same decode + count (ceiling) | {b:,.0f} | "
        f"{', '.join(f'{r:,.0f}' for r in bare_rates)} |\n\n"
        f"Faust / bare: {f / b:.2f}. Re-reads per timed run: {', '.join(map(str, rereads))}.\n"
    )
    return text, checks, b


def _keepup_text(runs: list[KeepUp]) -> tuple[str, list[Check]]:
    text = ""
    for run in runs:
        step = max(1, len(run.samples) // 12)
        rows = "".join(
            f"| {t:.0f} | {p:,} | {lag:,} | {lag_s:.1f} |\n" for t, p, lag, lag_s in run.samples[::step]
        )
        exact = "never (300 s)" if run.exact_after_s is None else f"{run.exact_after_s:.1f} s"
        text += (
            f"\n`cta-sim {' '.join(run.sim_args)}` with one worker counting: {run.produced:,} turnstile "
            f"events in {run.sim_s:.0f} s; the summary's lag (events produced and not yet in "
            f"TURNSTILE_SUMMARY, and in seconds: how long ago the topic held as many events as "
            f"were counted), every {step} s; largest while the simulator ran {run.max_lag_s:.1f} s. Every station exact {exact} after the "
            f"simulator stopped; re-reads: {run.rereads}.\n\n"
            "| wall s | produced | lag | lag s |\n|---:|---:|---:|---:|\n" + rows
        )
    checks = [check("jobs", "keepup_lag_s", runs[0].max_lag_s)] if runs else []
    return text, checks


def _catchup_text(c: CatchUp, bare: float) -> tuple[str, list[Check]]:
    slower = min(c.new_eps, c.restart_eps)
    text = (
        f"\nCatch-up: a worker with a new app id started behind {c.events:,} events "
        f"({c.new_eps:,.0f} events/s, {c.new_rereads} re-reads), stopped, {c.events:,} more produced, "
        f"restarted ({c.restart_eps:,.0f} events/s, {c.restart_rereads} re-reads); timed from "
        f'"Worker ready" to the summary accounting for the backlog. Slower of the two / bare: '
        f"{slower / bare:.2f}.\n"
    )
    rereads = max(c.new_rereads, c.restart_rereads)
    return text, [check("jobs", "catchup_vs_bare", slower / bare), check("jobs", "catchup_rereads", rereads)]


def run() -> Section:
    with ScratchStack.running() as stack:
        settings, env = stack.settings, stack.env
        text, checks, bare = _throughput(settings, env)
        tmp = Path(tempfile.mkdtemp(prefix="bench-keepup-"))
        runs = [keep_up(settings, env, args.split(), tmp) for args in KEEPUP_RUNS]
        more, extra = _keepup_text(runs)
        text, checks = text + more, checks + extra
        if BACKLOG > 0:
            c = catch_up(settings, env, BACKLOG, lambda topic, n: _produce(settings, topic, n), tmp)
            more, extra = _catchup_text(c, bare)
            text, checks = text + more, checks + extra
        if TWO_WORKERS > 0:
            one, two = one_and_two(
                settings, env, TWO_WORKERS, lambda topic, n: _produce(settings, topic, n), tmp
            )
            text += (
                f"\nTwo workers on one app id behind {TWO_WORKERS:,} events: {two:,.0f} events/s, one worker "
                f"{one:,.0f}: {two / one:.2f}x on {cores()} cores shared with the broker and the registry.\n"
            )
    return Section("## Jobs: Faust turnstile summary\n\n" + text, checks)


if __name__ == "__main__":
    print(run().markdown)
