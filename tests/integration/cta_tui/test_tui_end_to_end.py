"""End to end on the real local stack: the simulator runs at 600x for 20 s, then
`cta-tui --once --json` shows trains on every line, the weather and turnstile counts.

Needs the stack (session fixture ``stack``), the simulator (producers_sim) and the jobs
that fill the stations table and TURNSTILE_SUMMARY (`cta-jobs setup` + the Faust worker).
Nothing is faked.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from cta_core import topics
from cta_core.kafka_clients import make_admin
from cta_core.settings import Settings

pytestmark = pytest.mark.integration

LINES = {"red", "blue", "green", "brown", "purple", "yellow", "pink", "orange"}


def _topic_has_data(settings: Settings, topic: str) -> bool:
    from confluent_kafka import TopicPartition

    from cta_core.kafka_clients import make_consumer

    md = make_admin(settings).list_topics(timeout=10)
    if topic not in md.topics:
        return False
    consumer = make_consumer(settings, "cta-tui-test-probe")
    try:
        return any(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] > 0
            for p in md.topics[topic].partitions
        )
    finally:
        consumer.close()


def test_once_json_after_simulator_run(stack: Settings) -> None:
    pytest.importorskip("producers_sim.cli", reason="the simulator (producers_sim) is not installed yet")
    if not _topic_has_data(stack, topics.STATIONS_TABLE):
        pytest.skip("the stations table is empty: run `cta-jobs setup` (stream jobs) first")
    env = {**os.environ, "CTA_BOOTSTRAP_SERVERS": stack.bootstrap_servers}
    sim = subprocess.Popen(
        [sys.executable, "-m", "producers_sim", "--speed", "600", "--seed", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert sim.poll() is None, f"cta-sim exited early: {sim.stderr.read() if sim.stderr else ''}"
            time.sleep(0.5)  # the simulator runs for a fixed wall time, by design of the test
    finally:
        sim.send_signal(signal.SIGINT)
        try:
            sim.wait(timeout=20)
        except subprocess.TimeoutExpired:
            sim.kill()
            sim.wait()

    from cta_tui.cli import main

    result = CliRunner().invoke(
        main,
        [
            "--once",
            "--json",
            "--once-timeout",
            "60",
            "--replay-minutes",
            "2",
            "--bootstrap-servers",
            stack.bootstrap_servers,
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    with_trains = {name for name, line in data["lines"].items() if line["trains"]}
    assert with_trains >= LINES, f"lines without trains: {sorted(LINES - with_trains)}"
    assert data["weather"] is not None and isinstance(data["weather"]["temperature_f"], float)
    assert data["counts"] and all(v >= 0 for v in data["counts"].values())
    assert data["topics"][topics.ARRIVALS]["malformed"] == 0
