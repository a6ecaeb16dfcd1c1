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
from pathlib import Path

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


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _once(stack: Settings) -> dict:
    from cta_tui.cli import main

    result = CliRunner().invoke(
        main,
        ["--once", "--json", "--once-timeout", "30", "--replay-minutes", "2"],
        env={
            "CTA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
            "CTA_SCHEMA_REGISTRY_URL": stack.schema_registry_url,
        },
    )
    assert result.exit_code == 0, result.output
    data: dict = json.loads(result.stdout)
    return data


def test_once_json_after_simulator_run(stack: Settings, tmp_path: Path) -> None:
    """The pipeline as `make demo` runs it: `cta-jobs setup`, the Faust worker, then
    the simulator at 600x for 20 s; `cta-tui --once --json` must then show it all."""
    env = {**os.environ, "CTA_BOOTSTRAP_SERVERS": stack.bootstrap_servers}
    setup = subprocess.run(
        [sys.executable, "-m", "stream_jobs", "setup"], env=env, capture_output=True, text=True, timeout=300
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    faust_log = (tmp_path / "faust.log").open("w")
    faust = subprocess.Popen(
        [sys.executable, "-m", "stream_jobs", "faust", "--data-dir", str(tmp_path / "faust")],
        env=env,
        stdout=faust_log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sim: subprocess.Popen[str] | None = None
    try:
        deadline = time.monotonic() + 90
        while not _topic_has_data(stack, topics.STATIONS_TABLE):
            assert faust.poll() is None, (tmp_path / "faust.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the stations table stayed empty for 90 s"
            time.sleep(1)
        sim = subprocess.Popen(
            [sys.executable, "-m", "producers_sim", "--speed", "600", "--seed", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert sim.poll() is None, f"cta-sim exited early: {sim.stderr.read() if sim.stderr else ''}"
            time.sleep(0.5)  # the simulator runs for a fixed wall time, by design of the test
        _stop(sim)
        # The summary trails the simulator by Faust's commit interval: poll for it.
        deadline = time.monotonic() + 90
        data = _once(stack)
        while not data["counts"] and time.monotonic() < deadline:
            time.sleep(2)
            data = _once(stack)
    finally:
        if sim is not None:
            _stop(sim)
        _stop(faust)
        faust_log.close()

    with_trains = {name for name, line in data["lines"].items() if line["trains"]}
    assert with_trains >= LINES, f"lines without trains: {sorted(LINES - with_trains)}"
    assert data["weather"] is not None and isinstance(data["weather"]["temperature_f"], float)
    assert data["counts"] and all(v >= 0 for v in data["counts"].values())
    assert data["topics"][topics.ARRIVALS]["malformed"] == 0
