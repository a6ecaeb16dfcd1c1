"""Rewind: the time to show any moment of a simulated day.

What a user runs, on a scratch stack: the stations table, `cta-jobs faust` (the turnstile
summary) and `cta-jobs predict` (predictions), and `cta-sim --speed 600` for a simulated
service day (05:00 to 01:00: about 100k arrivals and 1.3M turnstile events). Then, as the
dashboard does when a key is pressed (one rewinder kept open), random moments of that
day are read (the status topic, offsets found with offsets-for-times, the windows read,
the state folded) and timed: median and max. Target: <= 2 s.
``BENCH_REWIND_DURATION`` (default 20h) shortens the day for a quick run.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.targets import Section, check
from cta_core import topics
from cta_stack.scratch import ScratchStack
from cta_tui.feeds.topic_names import TopicNames
from cta_tui.rewind.engine import Rewinder
from cta_tui.rewind.timeline import format_sim
from tests.support.jobs import stop_process
from tests.support.stations_table import ensure_stations_table

MOMENTS = 12
DURATION = os.environ.get("BENCH_REWIND_DURATION", "20h")
#: fast enough for a benchmark, slow enough that the Faust worker and the predictions
#: job keep up as they do at --speed 60 (at --speed max they trail the day's end, so a
#: moment of it would show no counts: they were written later)
SPEED = os.environ.get("BENCH_REWIND_SPEED", "600")
GROUP = "cta-bench-rewind"


def _job(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "stream_jobs", *args], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def _summary_settled(settings: Any, quiet_s: float = 10.0, limit_s: float = 600.0) -> None:
    """Wait until the turnstile summary stops growing for ``quiet_s`` (Faust caught up),
    at most ``limit_s``: measured as it is then (the summary trails the day's end)."""
    from confluent_kafka import TopicPartition

    from cta_core.kafka_clients import make_consumer

    consumer = make_consumer(settings, f"bench-rewind-probe-{uuid.uuid4().hex[:6]}")
    try:
        deadline = time.monotonic() + limit_s
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            high = consumer.get_watermark_offsets(TopicPartition(topics.TURNSTILE_SUMMARY, 0), timeout=10)[1]
            if high != last:
                last, since = high, time.monotonic()
            elif high > 0 and time.monotonic() - since >= quiet_s:
                return
            time.sleep(1)
    finally:
        consumer.close()


def _simulate(stack: ScratchStack, tmp: Path) -> tuple[str, dict[str, Any], float]:
    """The day into the scratch stack's topics, the summary caught up: run id, the
    simulator's report, and how long the simulator took (s)."""
    settings = stack.settings
    ensure_stations_table(settings)
    run_id = f"bench-{uuid.uuid4().hex[:6]}"
    jobs = [
        _job(stack.env, tmp / "faust.log", "faust", "--group-id", GROUP, "--data-dir", str(tmp / "faust")),
        _job(stack.env, tmp / "predict.log", "predict"),
    ]
    try:
        started = time.monotonic()
        sim = subprocess.run(
            [sys.executable, "-m", "producers_sim", "--speed", SPEED, "--duration", DURATION, "--seed", "11",
             "--run-id", run_id, "--no-control", "--report", str(tmp / "report.json")],
            env=stack.env, capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
        took = time.monotonic() - started
        if sim.returncode != 0:
            raise SystemExit(f"cta-sim failed: {sim.stderr[-2000:]}")
        _summary_settled(settings)
    finally:
        for job in jobs:
            stop_process(job, timeout=60)
    report: dict[str, Any] = json.loads((tmp / "report.json").read_text())
    return run_id, report, took


def _measure(stack: ScratchStack, run_id: str) -> list[dict[str, Any]]:
    rewinder = Rewinder(stack.settings, TopicNames(), replay_minutes=5)
    try:
        run = rewinder.run(run_id)
        first, last = run.sim_span
        rng = random.Random(7)
        rows = []
        for sim_ms in sorted(rng.randint(first, last) for _ in range(MOMENTS)):
            started = time.perf_counter()
            rewound = rewinder.state_at(rewinder.run(run_id), sim_ms)
            rewound.state.predictions.settle()
            seconds = time.perf_counter() - started
            state = rewound.state
            rows.append(
                {
                    "at": format_sim(sim_ms),
                    "s": seconds,
                    "records": rewound.records,
                    "trains": sum(1 for t in state.trains.values() if t.in_service),
                    "counted": len(state.turnstile_counts),
                    "boards": len(state.predictions.by_station),
                }
            )
        return rows
    finally:
        rewinder.reader.close()


def run() -> Section:
    with tempfile.TemporaryDirectory(prefix="bench-rewind-") as tmp, ScratchStack.running() as stack:
        run_id, report, took = _simulate(stack, Path(tmp))
        rows = _measure(stack, run_id)
    times = [r["s"] for r in rows]
    median = check("rewind", "moment_s", statistics.median(times))
    worst = check("rewind", "moment_max_s", max(times))
    produced = report.get("produced", {})
    table = "\n".join(
        f"| {r['at']} | {r['s']:.2f} | {r['records']:,} | {r['trains']} | {r['counted']} | {r['boards']} |"
        for r in rows
    )
    markdown = f"""## Rewind: any moment of a simulated day

A simulated day ({DURATION} from 05:00, `cta-sim --speed {SPEED}`, {took:.0f} s) on a scratch
stack with `cta-jobs faust` and `cta-jobs predict`: {produced.get("org.chicago.cta.station.arrivals.v1", 0):,}
arrivals, {produced.get("org.chicago.cta.turnstiles.v1", 0):,} turnstile events. Then {MOMENTS} random
moments of it shown as the dashboard's rewind keys do (one rewinder kept open; the
status topic, offsets-for-times, the windows read and folded into the state): median
**{median.figure:.2f} s**, max {worst.figure:.2f} s.

| moment | seconds | records read | trains | stations counted | boards with predictions |
|---|---|---|---|---|---|
{table}
"""
    return Section(markdown, [median, worst])
