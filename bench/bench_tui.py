"""Dashboard benchmarks, on a stack of their own (a scratch stack: every service).

1. Throughput: N Avro arrival events (Confluent framing, schema registered in the
   Schema Registry) are produced once to a fresh topic; then, alternating, (a) a raw
   confluent-kafka consume of all of them and (b) the dashboard's real KafkaSource
   (consume + Avro decode with the registry's schema + Record) feeding the pure state
   model's reducer. Medians of repeated runs; the ratio is measured side by side.
2. Every screen with the whole pipeline running (bench/tui_cpu.py): the job set of
   `cta-tui up` at --speed 60 for a simulated day, then at --speed 600; CPU per screen,
   paused, per SSH session; the dashboard's memory over the day.
3. Event-to-screen latency, measured during 2 with every job running.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import fastavro

from bench import tui_cpu
from bench.targets import TUI_SCREENS, Check, Section, check
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

RATE, SECONDS, WARM_UP, TRAINS, STATIONS = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), 200, 150

async def main():
    settings = Settings.from_env()
    topic = f"bench-tui-latency-{uuid.uuid4().hex[:8]}"
    admin = make_admin(settings)
    ensure_topics(admin, [TopicSpec(topic, partitions=3)])
    sid = make_registry_client(settings).register_schema(f"{topic}-value", Schema(schemas.schema_text(schemas.ARRIVAL_VALUE), "AVRO"))
    parsed = fastavro.parse_schema(schemas.schema_dict(schemas.ARRIVAL_VALUE))
    # the dashboard's own topics too: the whole pipeline's records come in beside these
    source = KafkaSource(settings, aliases={topic: topics.ARRIVALS}, replay_minutes=0)
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
            # the first seconds are the dashboard's start (it catches up with every topic,
            # which delayed the first arrivals by up to 1.4 s): not event-to-screen
            if time.perf_counter() - start >= WARM_UP:
                sent[(train, seq)] = time.perf_counter()
            producer.produce(topic, key=train.encode(), value=header + buf.getvalue())
            producer.poll(0)
            i += 1
        producer.flush(10)
    async with app.run_test(size=(120, 40)) as pilot:
        stations = [Record(topics.STATIONS_TABLE, None, {"station_id": 40000 + k, "station_name": f"S{k}", "order": k, "line": "red"}) for k in range(STATIONS)]
        apply_records(app.state, topics.STATIONS_TABLE, stations, time.time())
        # the latency topic is new: wait until the dashboard has assigned it (not only its
        # other topics), or the first arrivals wait for its next topic discovery
        while topic not in source.assigned_topics():
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


#: seconds of arrivals sent before the timed ones (the second dashboard's start)
LATENCY_WARM_UP = 4.0
#: seconds of timed arrivals after the warm-up
LATENCY_SECONDS = 20.0


def _latency(rate: float = 50.0, seconds: float = LATENCY_SECONDS) -> dict[str, float]:
    return _script_figures(LATENCY_SCRIPT, str(rate), str(LATENCY_WARM_UP + seconds), str(LATENCY_WARM_UP))


def _kib(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _throughput(settings: Settings) -> tuple[list[float], list[float], dict[str, float]]:
    """Raw consume and the dashboard's path, alternating; the in-app run's median."""
    topic = f"bench-tui-arrivals-{uuid.uuid4().hex[:8]}"
    _produce(settings, topic)
    raw, dash = [], []
    try:
        for _ in range(ROUNDS):
            raw.append(_raw_consume(settings, topic))
            dash.append(_dashboard_path(settings, topic)[0])
        in_app_runs = sorted((_in_app(topic) for _ in range(ROUNDS)), key=lambda r: r["seconds"])
    finally:
        make_admin(settings).delete_topics([topic])
    return raw, dash, in_app_runs[len(in_app_runs) // 2]


def _cpu_checks(fig: tui_cpu.Figures) -> list[Check]:
    out = []
    for screen, name in TUI_SCREENS.items():
        out.append(check("tui", f"cpu_{name}_pct", fig.median(60, screen)))
        out.append(check("tui", f"cpu_{name}_600_pct", fig.median(600, screen)))
    out.append(check("tui", "cpu_paused_pct", fig.median(60, "network, simulator paused")))
    out.append(check("tui", "cpu_ssh_network_pct", fig.median(60, "ssh session: network")))
    out.append(check("tui", "cpu_ssh_board_pct", fig.median(60, "ssh session: board")))
    return out


def _cpu_rows(fig: tui_cpu.Figures) -> list[str]:
    rows = [
        "| screen | --speed 60: CPU, % of one core | windows | --speed 600: CPU, % of one core | windows |",
        "|---|---:|---:|---:|---:|",
    ]
    for screen in (*TUI_SCREENS, "network, simulator paused", "ssh session: network", "ssh session: board"):
        fast = f"{fig.median(600, screen):.1f}" if fig.windows(600, screen) else "—"
        rows.append(
            f"| {screen} | {fig.median(60, screen):.1f} | {fig.windows(60, screen)} | {fast} | {fig.windows(600, screen)} |"
        )
    return rows


def _memory(fig: tui_cpu.Figures) -> tuple[float, float, list[str]]:
    """RSS at the end of the day, its growth over the second half, and the curve's table
    (one row per simulated hour or so)."""
    curve = fig.rss
    half = curve[len(curve) // 2 :]
    growth = max(r for _, _, r in half) - half[0][2]
    step = max(1, len(curve) // 24)
    rows = ["| wall min | simulated | RSS MB |", "|---:|---|---:|"]
    rows += [f"| {t / 60:.1f} | {sim} | {rss:.1f} |" for t, sim, rss in curve[::step]]
    return curve[-1][2], growth, rows


def run() -> Section:
    from cta_stack.scratch import ScratchStack

    with ScratchStack.running(only=()) as stack, _environ(stack.env):
        settings = stack.settings
        raw, dash, in_app = _throughput(settings)
        try:
            fig = tui_cpu.measure(settings, during=_latency)
        finally:
            tui_cpu.stop_jobs(settings)
    return _section(raw, dash, in_app, fig)


@contextlib.contextmanager
def _environ(env: dict[str, str]) -> Iterator[None]:
    """This process's environment is ``env`` (the jobs, dashboards and SSH sessions it
    starts get it) until the block ends."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _section(raw: list[float], dash: list[float], in_app: dict[str, float], fig: tui_cpu.Figures) -> Section:
    raw_eps = N_EVENTS / statistics.median(raw)
    dash_eps = N_EVENTS / statistics.median(dash)
    lat = fig.during
    rss_end, growth, curve = _memory(fig)
    eps, rss, grow, p99 = (
        check("tui", "eps", dash_eps),
        check("tui", "rss_mb", max(r for _, _, r in fig.rss)),
        check("tui", "rss_growth_mb", growth),
        check("tui", "p99_ms", lat["p99"]),
    )
    cpu_checks = _cpu_checks(fig)
    text = "\n".join(
        [
            "## cta-tui: feed and state path",
            "",
            f"{N_EVENTS:,} Avro arrival events (3 partitions) read from Kafka, {ROUNDS} alternating rounds, medians.",
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
            "### Every screen with the whole pipeline running",
            "",
            f"A stack of its own (`cta-stack up`, every service) and the job set of `cta-tui up`: "
            f"{', '.join(fig.jobs)} (ksqlDB is not part of the local stack: Faust writes the summary); "
            f"the simulator from 07:30 at --speed 60 for {tui_cpu.DAY_MINUTES:g} minutes "
            f"({tui_cpu.DAY_MINUTES:g} simulated hours; 24 is a whole day), then at --speed 600. "
            f"The dashboard is a real `cta-tui` process on a "
            f"{tui_cpu.COLUMNS}x{tui_cpu.ROWS} pseudo-terminal, driven by keys; every screen in turn, one window "
            f"of {tui_cpu.WINDOW_S:g} s each (user + system CPU of the process), over and over for the whole day, "
            f"then {tui_cpu.FAST_ROUNDS} rounds at --speed 600; medians of the windows. The board is Howard's "
            f"(red, purple and yellow trains, with predictions). An SSH session is one `cta-tui serve --ssh` "
            f"session's dashboard process ({tui_cpu.COLUMNS}x{tui_cpu.ROWS}, the server's shared feed).",
            "",
            *_cpu_rows(fig),
            "",
            f"Event-to-screen latency with every job and the dashboard above running (--speed 60): "
            f"{lat['n']:.0f} extra arrivals at 50/s on a topic of their own, read by a second dashboard (headless, "
            f"real KafkaSource, every dashboard topic too) from produce to the redraw that shows them, timed after "
            f"{LATENCY_WARM_UP:.0f} s of arrivals that cover that dashboard's start (it catches up with every topic): "
            f"p50 {lat['p50']:.0f} ms, p99 {lat['p99']:.0f} ms, max {lat['max']:.0f} ms "
            f"(target {p99.describe()}: {p99.verdict}).",
            "",
            f"Resident memory of the dashboard over the simulated day, sampled at every window: "
            f"{rss_end:.0f} MB at the end; growth over the second half {growth:.1f} MB "
            f"(targets {rss.describe()}: {rss.verdict}; {grow.describe()}: {grow.verdict}).",
            "",
            *curve,
        ]
    )
    return Section(text, [eps, rss, grow, p99, *cpu_checks])


if __name__ == "__main__":
    print(run().markdown)
