"""cta-sim at --speed max into the local broker, side by side with two baselines.

1. the simulator itself (``cta-sim --speed max --count N`` in a subprocess; its own
   summary gives events / (run loop + final flush), so start-up is excluded), and its
   peak resident memory (VmHWM from /proc, sampled every 50 ms, summed over the simulator
   and its engine process); also, for reference, ``--no-engine-process`` (simulating,
   encoding and producing in one process);
2. a bare confluent-kafka Producer sending the same events pre-serialized (same sizes,
   same producer settings, no callbacks, and ``poll(0)`` once per ``CHUNK`` messages like
   the simulator's publisher): the ceiling for one Python producer, and the target's
   baseline; also, for reference, the same with ``poll(0)`` after every message (the usual
   idiom, and this benchmark's baseline before the publisher polled once per chunk);
3. the straightforward path: the same engine with confluent-kafka's SerializingProducer
   and AvroSerializer, one produce per event.

Targets: bench/targets.py (sim): events/s; a share of (2); a multiple of (3); RSS.
The three run in interleaved rounds (the order alternates from round to round), and the
ratios are medians of the per-round ratios, so load from other processes on this shared
machine touches both sides of a ratio alike.
Writes to bench-only topics (the contract's names + a random suffix), deleted afterwards.
"""

from __future__ import annotations

import contextlib
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from typing import Any

import psutil
from confluent_kafka import SerializingProducer
from confluent_kafka.schema_registry.avro import AvroSerializer

from bench.targets import Section, check, cores
from cta_core import topics
from cta_core.kafka_clients import RELIABLE_PRODUCER, make_admin, make_producer, make_registry_client
from cta_core.records.arrival import Arrival
from cta_core.schemas import schema_text
from cta_core.settings import Settings
from producers_sim.clock import CHICAGO
from producers_sim.encoding import ArrivalEncoder, TurnstileEncoder
from producers_sim.engine import Engine
from producers_sim.events import TurnstileEvent, WeatherEvent
from producers_sim.network import load_network
from producers_sim.publishers.kafka_publisher import THROUGHPUT, register_schemas
from producers_sim.runner import CHUNK

ROUNDS = 5
SIM_EVENTS = 800_000
BARE_EVENTS = 800_000
SERIALIZING_EVENTS = 150_000
START = datetime(2026, 12, 1, 7, 0, tzinfo=CHICAGO)  # a weekday morning peak
SEED = 1


def _sim_once(settings: Settings, suffix: str, *extra: str) -> tuple[float, float]:
    """(events/s, peak RSS in MB of the simulator's processes together) of one cta-sim run."""
    cmd = [
        sys.executable, "-m", "producers_sim", "--speed", "max", "--count", str(SIM_EVENTS),
        "--start", START.isoformat(), "--seed", str(SEED), "--topic-suffix", suffix, "--no-control",
        "--bootstrap-servers", settings.bootstrap_servers,
        "--schema-registry-url", settings.schema_registry_url,
        "--rest-proxy-url", settings.rest_proxy_url, *extra,
    ]  # fmt: skip
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        peaks: dict[int, int] = {}
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                for pid in (proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))):
                    peaks[pid] = max(peaks.get(pid, 0), _vm_hwm_kb(pid))
            time.sleep(0.05)
        peak_kb = sum(peaks.values())
        err.seek(0)
        text = err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"cta-sim failed ({proc.returncode}): {text[-2000:]}")
    m = re.search(r"(\d+) events in ([\d.]+)s", text)
    if not m:
        raise RuntimeError(f"no summary in cta-sim output: {text[-2000:]}")
    return int(m.group(1)) / float(m.group(2)), peak_kb / 1024


def _vm_hwm_kb(pid: int) -> int:
    """Peak resident set of the process's current image (VmHWM starts afresh at exec, unlike
    ru_maxrss, which would count the benchmark's own memory inherited through fork)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _events(n: int) -> list[Arrival | TurnstileEvent]:
    engine = Engine(load_network(), START.timestamp(), SEED)
    out: list[Arrival | TurnstileEvent] = []
    for ev in engine.events():
        if isinstance(ev, WeatherEvent):
            continue
        out.append(ev)
        if len(out) >= n:
            return out
    return out


def _bare_once(settings: Settings, messages: list[tuple[str, bytes, bytes]], poll_every: int) -> float:
    """Pre-serialized messages, ``poll(0)`` once per ``poll_every`` of them."""
    producer = make_producer(settings, **THROUGHPUT)
    started = time.perf_counter()
    produce, poll = producer.produce, producer.poll
    for start in range(0, len(messages), poll_every):
        for topic, key, value in messages[start : start + poll_every]:
            while True:
                try:
                    produce(topic, value, key)
                    break
                except BufferError:
                    poll(0.05)
        poll(0)
    left = producer.flush(60)
    elapsed = time.perf_counter() - started
    if left:
        raise RuntimeError(f"bare producer: {left} messages undelivered")
    return len(messages) / elapsed


def _serializing_once(settings: Settings, suffix: str) -> float:
    registry = make_registry_client(settings)
    conf: dict[str, Any] = settings.librdkafka(**{**RELIABLE_PRODUCER, **THROUGHPUT})
    serializers = {
        topics.ARRIVALS: (
            AvroSerializer(registry, schema_text("arrival_key")),
            AvroSerializer(registry, schema_text("arrival_value")),
        ),
        topics.TURNSTILES: (
            AvroSerializer(registry, schema_text("turnstile_key")),
            AvroSerializer(registry, schema_text("turnstile_value")),
        ),
    }
    producers = {
        t: SerializingProducer({**conf, "key.serializer": k, "value.serializer": v})
        for t, (k, v) in serializers.items()
    }
    failed = 0

    def on_delivery(err: Any, msg: Any) -> None:  # same settings as the simulator: errors only
        nonlocal failed
        if err is not None:
            failed += 1

    engine = Engine(load_network(), START.timestamp(), SEED)
    n = 0
    started = time.perf_counter()
    for ev in engine.events():
        if isinstance(ev, WeatherEvent):
            continue
        producer = producers[ev.topic]
        while True:
            try:
                producer.produce(ev.topic + suffix, key=ev.key(), value=ev.value(), on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
        n += 1
        if n >= SERIALIZING_EVENTS:
            break
    left = sum(p.flush(60) for p in producers.values())
    elapsed = time.perf_counter() - started
    if left or failed:
        raise RuntimeError(f"serializing producer: {left} undelivered, {failed} failed")
    return n / elapsed


def run() -> Section:
    settings = Settings.from_env().with_overrides(kafka_config={"log_level": "0"})
    suffix = f".bench-{uuid.uuid4().hex[:8]}"
    registry = make_registry_client(settings)
    admin = make_admin(settings)
    sim_rates: list[float] = []
    rss: list[float] = []
    inline_rates: list[float] = []
    bare_rates: list[float] = []
    each_rates: list[float] = []
    ser_rates: list[float] = []
    messages: list[tuple[str, bytes, bytes]] = []
    try:
        events = _events(BARE_EVENTS)
        for r in range(ROUNDS):
            # round 0 starts with the simulator, which creates the topics and registers the
            # schemas for the suffix; later rounds alternate the order
            order = ("sim", "bare", "inline", "each", "ser")
            if r % 2:
                order = order[::-1]
            for path in order:
                if path == "sim":
                    rate, mem = _sim_once(settings, suffix)
                    sim_rates.append(rate)
                    rss.append(mem)
                    if not messages:
                        messages = _encode(registry, settings, suffix, events)
                        del events
                elif path == "inline":
                    inline_rates.append(_sim_once(settings, suffix, "--no-engine-process")[0])
                elif path == "bare":
                    bare_rates.append(_bare_once(settings, messages, CHUNK))
                elif path == "each":
                    each_rates.append(_bare_once(settings, messages, 1))
                else:
                    ser_rates.append(_serializing_once(settings, suffix))
    finally:
        names = [t + suffix for t in (topics.ARRIVALS, topics.TURNSTILES, topics.WEATHER)]
        # best-effort cleanup of the bench-only topics and subjects
        for future in admin.delete_topics(names, request_timeout=30).values():
            with contextlib.suppress(Exception):
                future.result()
        for name in names:
            for kind in ("key", "value"):
                with contextlib.suppress(Exception):
                    registry.delete_subject(f"{name}-{kind}")
    sim, bare, each, ser, mem, inline = (
        statistics.median(x) for x in (sim_rates, bare_rates, each_rates, ser_rates, rss, inline_rates)
    )
    # the ratio within a round is what load from other processes disturbs least
    bare_ratios = [s / b for s, b in zip(sim_rates, bare_rates, strict=True)]
    each_ratios = [s / b for s, b in zip(sim_rates, each_rates, strict=True)]
    ser_ratios = [s / x for s, x in zip(sim_rates, ser_rates, strict=True)]
    inline_ratios = [i / b for i, b in zip(inline_rates, bare_rates, strict=True)]
    vs_bare, vs_each, vs_ser, inline_vs_bare = (
        statistics.median(x) for x in (bare_ratios, each_ratios, ser_ratios, inline_ratios)
    )
    avg_size = statistics.mean(len(k) + len(v) for _, k, v in messages)
    c_eps, c_bare, c_ser, c_rss = (
        check("sim", "eps", sim),
        check("sim", "vs_bare", vs_bare),
        check("sim", "vs_serializing", vs_ser),
        check("sim", "rss_mb", mem),
    )
    ok = lambda c: "yes" if c.met else "**NO**"  # noqa: E731
    columns = (
        sim_rates, bare_rates, bare_ratios, inline_rates, inline_ratios, each_rates, each_ratios,
        ser_rates, ser_ratios, rss,
    )  # fmt: skip
    rounds = [
        f"| {i + 1} | {s_:,.0f} | {b:,.0f} | {br:.0%} | {il:,.0f} | {ir:.0%} | {e:,.0f} | {er:.0%} "
        f"| {x:,.0f} | {xr:.1f}x | {m:.0f} |"
        for i, (s_, b, br, il, ir, e, er, x, xr, m) in enumerate(zip(*columns, strict=True))
    ]
    text = "\n".join(
        [
            "## Simulator (cta-sim --speed max)",
            "",
            f"{SIM_EVENTS:,} events per simulator run (weekday 07:00, all lines, about 93% turnstile "
            f"entries, {avg_size:.0f} bytes key+value on average); producer: idempotent, acks=all, "
            "lz4, batched, the same settings for every path; bench-only topics on the local broker. "
            f"{ROUNDS} interleaved rounds (the order alternates); the ratios are medians of the "
            "per-round ratios.",
            "",
            "| path | events/s (median) | target | met |",
            "|---|---|---|---|",
            f"| cta-sim --speed max (engine process: the default) | {sim:,.0f} | {c_eps.target.op} {c_eps.limit:,.0f} "
            f"| {ok(c_eps)} |",
            f"| bare Producer, pre-serialized, poll(0) per {CHUNK} (the sim's cadence) | {bare:,.0f} "
            f"| sim {c_bare.target.op} {c_bare.limit:.0%} | {ok(c_bare)} ({vs_bare:.0%}) |",
            f"| cta-sim --speed max --no-engine-process (one process, reference) | {inline:,.0f} "
            f"| - | {inline_vs_bare:.0%} of bare |",
            f"| bare Producer, pre-serialized, poll(0) per message (reference) | {each:,.0f} "
            f"| - | sim/this {vs_each:.0%} |",
            f"| SerializingProducer + AvroSerializer | {ser:,.0f} | sim {c_ser.target.op} {c_ser.limit:.1f}x | {ok(c_ser)} ({vs_ser:.1f}x) |",
            "",
            "| round | cta-sim | bare | sim/bare | one process | it/bare | bare, poll each | sim/that "
            "| serializing | sim/serializing | cta-sim RSS MB |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            *rounds,
            "",
            f"Peak resident memory of cta-sim, its two processes together: {mem:.0f} MB (median; "
            f"target {c_rss.describe()}: {ok(c_rss)}).",
            "",
            "By default cta-sim simulates and encodes in a second process and produces in the "
            "first (producers_sim/engine_pipe.py), so it uses two cores at --speed max; the bare producer "
            "uses one (plus librdkafka's threads, as the simulator does). On this machine "
            f"({cores()} cores) the broker shares the same cores with both.",
        ]
    )
    return Section(text, [c_eps, c_bare, c_ser, c_rss])


def _encode(
    registry: Any, settings: Settings, suffix: str, events: list[Arrival | TurnstileEvent]
) -> list[tuple[str, bytes, bytes]]:
    """The events as the simulator sends them (topic, key, value), encoded ahead of time."""
    ids = register_schemas(registry, settings.schema_registry_url, suffix)
    arrivals = ArrivalEncoder(*ids[topics.ARRIVALS])
    turnstiles = TurnstileEncoder(*ids[topics.TURNSTILES])
    return [
        (ev.topic + suffix, arrivals.key(ev), arrivals.value(ev))
        if isinstance(ev, Arrival)
        else (ev.topic + suffix, turnstiles.key(ev), turnstiles.value(ev))
        for ev in events
    ]
