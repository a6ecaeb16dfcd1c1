"""cta-sim at --speed max into the local broker, side by side with two baselines.

1. the simulator itself (``cta-sim --speed max --max-events N`` in a subprocess; its own
   summary gives events / (run loop + final flush), so start-up is excluded), and its
   peak resident memory (VmHWM from /proc, sampled every 50 ms);
2. a bare confluent-kafka Producer sending the same events pre-serialized (same sizes,
   same producer settings, no callbacks): the ceiling for one Python producer;
3. the straightforward path: the same engine with confluent-kafka's SerializingProducer
   and AvroSerializer, one produce per event.

Targets (issue 4): >= 100,000 events/s; >= 50% of (2); >= 2x (3); RSS <= 200 MB.
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

from confluent_kafka import SerializingProducer
from confluent_kafka.schema_registry.avro import AvroSerializer

from cta_core import topics
from cta_core.kafka_clients import RELIABLE_PRODUCER, make_admin, make_producer, make_registry_client
from cta_core.schemas import schema_text
from cta_core.settings import Settings
from producers_sim.clock import CHICAGO
from producers_sim.encoding import ArrivalEncoder, TurnstileEncoder
from producers_sim.engine import Engine
from producers_sim.events import ArrivalEvent, TurnstileEvent, WeatherEvent
from producers_sim.network import load_network
from producers_sim.publishers.kafka_publisher import THROUGHPUT, register_schemas

RUNS = 3
SIM_EVENTS = 800_000
BARE_EVENTS = 800_000
SERIALIZING_EVENTS = 150_000
START = datetime(2026, 12, 1, 7, 0, tzinfo=CHICAGO)  # a weekday morning peak
SEED = 1


def _sim_once(settings: Settings, suffix: str) -> tuple[float, float]:
    """(events/s, peak RSS in MB) of one cta-sim run."""
    cmd = [
        sys.executable, "-m", "producers_sim", "--speed", "max", "--max-events", str(SIM_EVENTS),
        "--start", START.isoformat(), "--seed", str(SEED), "--topic-suffix", suffix, "--no-control",
        "--bootstrap-servers", settings.bootstrap_servers,
        "--schema-registry-url", settings.schema_registry_url,
        "--rest-proxy-url", settings.rest_proxy_url,
    ]  # fmt: skip
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        peak_kb = 0
        while proc.poll() is None:
            peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
            time.sleep(0.05)
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


def _events(n: int) -> list[ArrivalEvent | TurnstileEvent]:
    engine = Engine(load_network(), START.timestamp(), SEED)
    out: list[ArrivalEvent | TurnstileEvent] = []
    for ev in engine.events():
        if isinstance(ev, WeatherEvent):
            continue
        out.append(ev)
        if len(out) >= n:
            return out
    return out


def _bare_once(settings: Settings, messages: list[tuple[str, bytes, bytes]]) -> float:
    producer = make_producer(settings, **THROUGHPUT)
    started = time.perf_counter()
    produce, poll = producer.produce, producer.poll
    for topic, key, value in messages:
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


def run() -> str:
    settings = Settings.from_env().with_overrides(kafka_config={"log_level": "0"})
    suffix = f".bench-{uuid.uuid4().hex[:8]}"
    registry = make_registry_client(settings)
    admin = make_admin(settings)
    sim_rates: list[float] = []
    rss: list[float] = []
    bare_rates: list[float] = []
    ser_rates: list[float] = []
    try:
        # the first sim run creates the topics and registers the schemas for the suffix
        ids = None
        events = _events(BARE_EVENTS)
        for _ in range(RUNS):
            rate, mem = _sim_once(settings, suffix)
            sim_rates.append(rate)
            rss.append(mem)
            if ids is None:
                ids = register_schemas(registry, settings.schema_registry_url, suffix)
                arrivals, turnstiles = (
                    ArrivalEncoder(*ids[topics.ARRIVALS]),
                    TurnstileEncoder(*ids[topics.TURNSTILES]),
                )
                messages = [
                    (ev.topic + suffix, arrivals.key(ev), arrivals.value(ev))
                    if isinstance(ev, ArrivalEvent)
                    else (ev.topic + suffix, turnstiles.key(ev), turnstiles.value(ev))
                    for ev in events
                ]
                del events
            bare_rates.append(_bare_once(settings, messages))
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
    sim, bare, ser, mem = (statistics.median(x) for x in (sim_rates, bare_rates, ser_rates, rss))
    # each round runs the three paths back to back; the ratio within a round is what
    # load from other processes on this shared machine disturbs least
    vs_bare = statistics.median(s / b for s, b in zip(sim_rates, bare_rates, strict=True))
    vs_ser = statistics.median(s / x for s, x in zip(sim_rates, ser_rates, strict=True))
    avg_size = statistics.mean(len(k) + len(v) for _, k, v in messages)
    ok = lambda cond: "yes" if cond else "**NO**"  # noqa: E731
    return "\n".join(
        [
            "## Simulator (cta-sim --speed max)",
            "",
            f"{SIM_EVENTS:,} events per simulator run (weekday 07:00, all lines, about 93% turnstile "
            f"entries, {avg_size:.0f} bytes key+value on average), {RUNS} runs, medians; producer: "
            "idempotent, acks=all, lz4, batched; bench-only topics on the local broker.",
            "",
            "Ratios: median over the rounds of sim / baseline within the same round.",
            "",
            "| path | events/s (median) | runs | target | met |",
            "|---|---|---|---|---|",
            f"| cta-sim --speed max | {sim:,.0f} | {', '.join(f'{r:,.0f}' for r in sim_rates)} | >= 100,000 | {ok(sim >= 100_000)} |",
            f"| bare Producer, pre-serialized | {bare:,.0f} | {', '.join(f'{r:,.0f}' for r in bare_rates)} | sim >= 50% | {ok(vs_bare >= 0.5)} ({vs_bare:.0%}) |",
            f"| SerializingProducer + AvroSerializer | {ser:,.0f} | {', '.join(f'{r:,.0f}' for r in ser_rates)} | sim >= 2x | {ok(vs_ser >= 2)} ({vs_ser:.1f}x) |",
            "",
            f"Peak resident memory of cta-sim: {mem:.0f} MB (median; runs {', '.join(f'{m:.0f}' for m in rss)}; "
            f"target <= 200 MB: {ok(mem <= 200)}).",
        ]
    )
