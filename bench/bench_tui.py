"""Dashboard benchmarks: feed+state throughput against raw consume, and resident memory.

1. Throughput: N Avro arrival events (Confluent framing, schema registered in the
   Schema Registry) are produced once to a fresh topic; then, alternating, (a) a raw
   confluent-kafka consume of all of them and (b) the dashboard's real KafkaSource
   (consume + Avro decode with the registry's schema + Record) feeding the pure state
   model's reducer. Medians of repeated runs; the ratio is measured side by side.
2. Memory: the dashboard (Textual, headless) reading the live topics of the local stack
   for a few seconds in a subprocess; peak RSS from getrusage.
3. CPU per view (network, line, map), with the simulator paused, and per SSH session,
   while `cta-sim --speed 60` runs (bench/tui_cpu.py).

Needs the local stack (`cta-stack up`).
"""

from __future__ import annotations

import io
import json
import statistics
import struct
import subprocess
import sys
import time
import uuid

import fastavro

from bench import tui_cpu
from bench.targets import Section, check
from cta_core import schemas
from cta_core.kafka_clients import make_admin, make_consumer, make_producer, make_registry_client
from cta_core.settings import Settings
from cta_core.topics import TopicSpec

N_EVENTS = 200_000
ROUNDS = 3
STATIONS = 150


def _produce(settings: Settings, topic: str) -> None:
    from confluent_kafka.schema_registry import Schema

    from cta_core.kafka_clients import ensure_topics

    ensure_topics(make_admin(settings), [TopicSpec(topic, partitions=3, config={"retention.ms": "3600000"})])
    registry = make_registry_client(settings)
    schema_id = registry.register_schema(
        f"{topic}-value", Schema(schemas.schema_text(schemas.ARRIVAL_VALUE), "AVRO")
    )
    parsed = fastavro.parse_schema(schemas.schema_dict(schemas.ARRIVAL_VALUE))
    header = b"\x00" + struct.pack(">I", schema_id)
    producer = make_producer(settings)
    for i in range(N_EVENTS):
        train = f"T{i % 400}"
        value = {
            "station_id": 40000 + (i % STATIONS),
            "train_id": train,
            "direction": "a" if i % 2 else "b",
            "line": "red",
            "train_status": "in_service",
            "prev_station_id": 40000 + ((i - 1) % STATIONS),
            "prev_direction": "a",
            "sim_time": 1_795_950_000_000 + i * 1000,
            "branch": None,
            "delay_s": 0,
            "seq": i,
        }
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, parsed, value)
        producer.produce(topic, key=train.encode(), value=header + buf.getvalue())
        if i % 10_000 == 0:
            producer.poll(0)
    producer.flush(60)


def _raw_consume(settings: Settings, topic: str) -> float:
    from confluent_kafka import OFFSET_BEGINNING, TopicPartition

    consumer = make_consumer(settings, f"bench-raw-{uuid.uuid4().hex[:8]}")
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(3)])
    seen = 0
    start = time.perf_counter()
    while seen < N_EVENTS:
        for msg in consumer.consume(10_000, 1.0):
            if msg.error() is None:
                seen += 1
    elapsed = time.perf_counter() - start
    consumer.close()
    return elapsed


def _dashboard_path(settings: Settings, topic: str) -> tuple[float, int]:
    from cta_tui.feeds.kafka_source import KafkaSource
    from cta_tui.state.model import DashboardState, Line, LineStation
    from cta_tui.state.reducers import apply_arrivals

    state = DashboardState()
    line = state.lines["red"] = Line("red")
    for i in range(STATIONS):
        line.stations[40000 + i] = LineStation(40000 + i, f"S{i}", i)
        state.station_names[40000 + i] = f"S{i}"
    source = KafkaSource(settings, topics_to_read=[topic], lag_interval=3600)
    seen = 0
    start = time.perf_counter()
    while seen < N_EVENTS:
        batch = source.poll(10_000, 1.0)
        for records in batch.records.values():
            seen += len(records)
            apply_arrivals(state, records, time.time())
    elapsed = time.perf_counter() - start
    source.close()
    assert len(state.trains) == 400, len(state.trains)
    return elapsed, len(state.trains)


RSS_SCRIPT = r"""
import asyncio, sys, time
from cta_core.settings import Settings
from cta_tui.app import make_app
from cta_tui.control import MemoryControlPublisher
from cta_tui.feeds.kafka_source import KafkaSource

async def main(seconds):
    settings = Settings.from_env()
    app = make_app(settings, KafkaSource(settings), control=MemoryControlPublisher())
    async with app.run_test(size=(120, 40)) as pilot:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await pilot.pause(0.2)
        trains = sum(1 for t in app.state.trains.values() if t.in_service)
        redraws = app.redraws
    # VmHWM (peak RSS of this process image): ru_maxrss would carry the parent's peak across exec
    hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]
    print(int(hwm) / 1024, trains, redraws, seconds)

asyncio.run(main(float(sys.argv[1])))
"""


def _rss(seconds: float = 8.0) -> tuple[float, int, int]:
    out = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, str(seconds)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[1]), int(out[2])


IN_APP_SCRIPT = r"""
import asyncio, json, sys, time
from cta_core import topics
from cta_core.settings import Settings
from cta_tui.app import make_app
from cta_tui.control import MemoryControlPublisher
from cta_tui.feeds.kafka_source import KafkaSource
from cta_tui.state.records import Record
from cta_tui.state.reducers import apply_records

TOPIC, N, STATIONS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

async def main():
    settings = Settings.from_env()
    source = KafkaSource(settings, topics_to_read=(), aliases={TOPIC: topics.ARRIVALS}, replay_minutes=600)
    app = make_app(settings, source, control=MemoryControlPublisher())
    async with app.run_test(size=(120, 40)) as pilot:
        stations = [Record(topics.STATIONS_TABLE, None, {"station_id": 40000 + k, "station_name": f"S{k}",
                    "order": k, "line": "red"}) for k in range(STATIONS)]
        apply_records(app.state, topics.STATIONS_TABLE, stations, time.time())
        start, redraws = time.perf_counter(), app.redraws
        stats = app.state.topic(topics.ARRIVALS)
        while stats.messages < N:
            await pilot.pause(0.02)
            if time.perf_counter() - start > 120:
                break
        elapsed = time.perf_counter() - start
        print(json.dumps({"seconds": elapsed, "events": stats.messages, "redraws": app.redraws - redraws}))

asyncio.run(main())
"""


def _script_figures(script: str, *args: str) -> dict[str, float]:
    """Run ``script`` in a fresh interpreter; its figures are its last line (JSON)."""
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def _in_app(topic: str) -> dict[str, float]:
    return _script_figures(IN_APP_SCRIPT, topic, str(N_EVENTS), str(STATIONS))


LATENCY_SCRIPT = r"""
import asyncio, io, json, statistics, struct, sys, threading, time, uuid
import fastavro
from confluent_kafka.schema_registry import Schema
from cta_core import schemas, topics
from cta_core.kafka_clients import ensure_topics, make_admin, make_producer, make_registry_client
from cta_core.settings import Settings
from cta_core.topics import TopicSpec
from cta_tui.app import make_app
from cta_tui.control import MemoryControlPublisher
from cta_tui.feeds.kafka_source import KafkaSource
from cta_tui.state.records import Record
from cta_tui.state.reducers import apply_records

RATE, SECONDS, TRAINS, STATIONS = float(sys.argv[1]), float(sys.argv[2]), 200, 150

async def main():
    settings = Settings.from_env()
    topic = f"bench-tui-latency-{uuid.uuid4().hex[:8]}"
    admin = make_admin(settings)
    ensure_topics(admin, [TopicSpec(topic, partitions=3)])
    sid = make_registry_client(settings).register_schema(f"{topic}-value", Schema(schemas.schema_text(schemas.ARRIVAL_VALUE), "AVRO"))
    parsed = fastavro.parse_schema(schemas.schema_dict(schemas.ARRIVAL_VALUE))
    source = KafkaSource(settings, topics_to_read=(), aliases={topic: topics.ARRIVALS}, replay_minutes=0)
    app = make_app(settings, source, control=MemoryControlPublisher())
    sent, latencies = {}, []
    original = app.render_now
    def render_now():
        original()
        now = time.perf_counter()
        for train in app.state.trains.values():
            t0 = sent.pop((train.train_id, train.seq), None)
            if t0 is not None:
                latencies.append(now - t0)
    app.render_now = render_now
    def produce():
        producer = make_producer(settings, **{"linger.ms": 5})
        header = b"\x00" + struct.pack(">I", sid)
        seqs = {}
        start = time.perf_counter()
        i = 0
        while time.perf_counter() - start < SECONDS:
            target = start + i / RATE
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            train = f"L{i % TRAINS}"
            seq = seqs[train] = seqs.get(train, 0) + 1
            v = {"station_id": 40000 + (seq % STATIONS), "train_id": train, "direction": "a", "line": "red",
                 "train_status": "in_service", "prev_station_id": 40000 + ((seq - 1) % STATIONS),
                 "prev_direction": "a", "sim_time": int(time.time() * 1000), "seq": seq}
            buf = io.BytesIO(); fastavro.schemaless_writer(buf, parsed, v)
            if time.perf_counter() - start >= 1.0:  # the first second warms the fetch path up
                sent[(train, seq)] = time.perf_counter()
            producer.produce(topic, key=train.encode(), value=header + buf.getvalue())
            producer.poll(0)
            i += 1
        producer.flush(10)
    async with app.run_test(size=(120, 40)) as pilot:
        stations = [Record(topics.STATIONS_TABLE, None, {"station_id": 40000 + k, "station_name": f"S{k}", "order": k, "line": "red"}) for k in range(STATIONS)]
        apply_records(app.state, topics.STATIONS_TABLE, stations, time.time())
        while not source.assigned_topics():
            await pilot.pause(0.1)
        thread = threading.Thread(target=produce)
        thread.start()
        while thread.is_alive():
            await pilot.pause(0.1)
        end = time.monotonic() + 3
        while time.monotonic() < end:
            await pilot.pause(0.1)
    admin.delete_topics([topic])
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(json.dumps({"n": len(latencies), "p50": p(0.5), "p99": p(0.99), "max": latencies[-1] * 1000}))

asyncio.run(main())
"""


def _latency(rate: float = 100.0, seconds: float = 10.0) -> dict[str, float]:
    return _script_figures(LATENCY_SCRIPT, str(rate), str(seconds))


def _kib(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def run() -> Section:
    settings = Settings.from_env()
    topic = f"bench-tui-arrivals-{uuid.uuid4().hex[:8]}"
    _produce(settings, topic)
    raw, dash = [], []
    try:
        for _ in range(ROUNDS):
            raw.append(_raw_consume(settings, topic))
            dash.append(_dashboard_path(settings, topic)[0])
        in_app_runs = sorted((_in_app(topic) for _ in range(ROUNDS)), key=lambda r: r["seconds"])
        in_app = in_app_runs[len(in_app_runs) // 2]
    finally:
        make_admin(settings).delete_topics([topic])
    raw_eps = N_EVENTS / statistics.median(raw)
    dash_eps = N_EVENTS / statistics.median(dash)
    rss_mb, trains, redraws = _rss()
    lat = _latency()
    cpu = tui_cpu.measure(settings)
    cpu_checks = {
        view: check("tui", name, cpu[view])
        for view, name in (
            ("network", "cpu_network_pct"),
            ("line", "cpu_line_pct"),
            ("map", "cpu_map_pct"),
            ("ssh session", "cpu_ssh_pct"),
        )
    }
    verdicts = {view: c.verdict for view, c in cpu_checks.items()}
    eps, rss, p99 = (
        check("tui", "eps", dash_eps),
        check("tui", "rss_mb", rss_mb),
        check("tui", "p99_ms", lat["p99"]),
    )
    text = "\n".join(
        [
            "## cta-tui: feed and state path",
            "",
            f"{N_EVENTS:,} Avro arrival events (3 partitions) read from the local Kafka, {ROUNDS} alternating rounds, medians.",
            "",
            "| path | events/s | median s |",
            "|---|---:|---:|",
            f"| raw confluent-kafka consume | {raw_eps:,.0f} | {statistics.median(raw):.2f} |",
            f"| KafkaSource (consume + registry Avro decode) + state reducer | {dash_eps:,.0f} | {statistics.median(dash):.2f} |",
            "",
            f"Dashboard path / raw consume: {dash_eps / raw_eps:.2f}. Target {eps.describe()}: {eps.verdict}.",
            "",
            f"Inside the running app (headless Textual, feed worker thread, backpressure, redraw timer on): "
            f"{in_app['events']:,.0f} events applied in {in_app['seconds']:.2f} s = "
            f"{in_app['events'] / in_app['seconds']:,.0f} events/s with {in_app['redraws']:.0f} redraws "
            f"({in_app['redraws'] / in_app['seconds']:.1f}/s; median of {ROUNDS} runs).",
            "",
            f"Dashboard resident memory (headless Textual app reading the live stack 8 s, {trains} trains, "
            f"{redraws} redraws): peak RSS {rss_mb:.0f} MB (target {rss.describe()}: {rss.verdict}).",
            "",
            f"Event-to-screen latency (produce to the redraw that shows it, after 1 s warm-up; "
            f"{lat['n']:.0f} arrivals at 100/s, "
            f"about the arrival rate of --speed 60, Avro through the registry, real KafkaSource): "
            f"p50 {lat['p50']:.0f} ms, p99 {lat['p99']:.0f} ms, max {lat['max']:.0f} ms "
            f"(target {p99.describe()}: {p99.verdict}).",
            "",
            f"CPU of the dashboard (a real `cta-tui` process on a {tui_cpu.COLUMNS}x{tui_cpu.ROWS} pseudo-terminal, "
            f"live stack, `cta-sim --speed 60 --start 07:30`; user+system of the process over "
            f"{tui_cpu.WINDOW_S:.0f} s per view; the network view measured first and last, the mean shown), "
            f"and of one `cta-tui serve --ssh` session's dashboard process (120x40, shared feed):",
            "",
            "| view | CPU, % of one core | terminal output, KiB/s | target <= 10 % |",
            "|---|---:|---:|---|",
            *[
                f"| {view} | {cpu[view]:.1f} | {_kib(cpu.get(f'{view} KiB/s'))} | {verdicts.get(view, '—')} |"
                for view in ("network", "line", "map", "network, simulator paused", "ssh session")
            ],
        ]
    )
    return Section(text, [eps, rss, p99, *cpu_checks.values()])


if __name__ == "__main__":
    print(run().markdown)
