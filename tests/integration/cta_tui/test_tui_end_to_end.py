"""End to end on the real local stack: the simulator runs at 600x for 20 s, then
`cta-tui --once --json` shows trains on every line, the weather, and turnstile counts
equal per station to what the simulator reported producing. The test runs on its own
copies of the topics (``--topic-suffix``) and its own Faust app id, so neither other
runs on the shared stack nor data from earlier runs can satisfy it.

Needs the stack (session fixture ``stack``), the simulator (producers_sim) and the jobs
that fill the stations table and TURNSTILE_SUMMARY (`cta-jobs setup` + the Faust worker).
Nothing is faked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from cta_core import topics
from cta_core.kafka_clients import make_admin
from cta_core.settings import Settings
from tests.support.jobs import stop_process
from tests.support.sim_run import simulate

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


def _once(stack: Settings, suffix: str) -> dict:
    from cta_tui.cli import main

    result = CliRunner().invoke(
        main,
        ["--once", "--json", "--once-timeout", "30", "--replay-minutes", "2", "--topic-suffix", suffix],
        env={
            "CTA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
            "CTA_SCHEMA_REGISTRY_URL": stack.schema_registry_url,
        },
    )
    assert result.exit_code == 0, result.output
    data: dict = json.loads(result.stdout)
    return data


def _wait_for_table(stack: Settings, faust: subprocess.Popen[str], table: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while not _topic_has_data(stack, table):
        assert faust.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the stations table stayed empty for 90 s"
        time.sleep(1)


def test_once_json_after_simulator_run(stack: Settings, tmp_path: Path) -> None:
    """The pipeline as `make demo` runs it, on this test's own copies of the topics and
    its own Faust app id: `cta-jobs setup`, the Faust worker, the simulator at 600x for
    20 s; `cta-tui --once --json` must then show trains on every line, the weather, and
    per station exactly the turnstile entries the simulator reported producing."""
    suffix = f".e2e{uuid.uuid4().hex[:8]}"
    app_id = f"cta-e2e-{suffix[4:]}"
    table, turnstiles, summary = (
        t + suffix for t in (topics.STATIONS_TABLE, topics.TURNSTILES, topics.TURNSTILE_SUMMARY)
    )
    env = {**os.environ, "CTA_BOOTSTRAP_SERVERS": stack.bootstrap_servers}
    setup = subprocess.run(
        [sys.executable, "-m", "stream_jobs", "setup"], env=env, capture_output=True, text=True, timeout=300
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    log = tmp_path / "faust.log"
    faust_log = log.open("w")
    faust = subprocess.Popen(
        [sys.executable, "-m", "stream_jobs", "faust", "--group-id", app_id, "--data-dir", str(tmp_path / "faust"),
         "--stations-table-topic", table, "--turnstiles-topic", turnstiles, "--summary-topic", summary],
        env=env,
        stdout=faust_log,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        _wait_for_table(stack, faust, table, log)
        report = simulate(env, tmp_path / "sim-report.json", 20, "--topic-suffix", suffix)
        assert not any(report["failed"].values()) and report["undelivered"] == 0, report
        expected = report["turnstile_entries_by_station"]
        assert sum(expected.values()) == report["produced"][topics.TURNSTILES] > 0
        # The summary trails the simulator by Faust's commit interval: poll for it.
        deadline = time.monotonic() + 90
        data = _once(stack, suffix)
        while data["counts"] != expected and time.monotonic() < deadline:
            assert faust.poll() is None, log.read_text()[-3000:]
            time.sleep(2)
            data = _once(stack, suffix)
    finally:
        stop_process(faust)
        faust_log.close()
        make_admin(stack).delete_topics(
            [t + suffix for t in (topics.ARRIVALS, topics.TURNSTILES, topics.WEATHER, topics.STATIONS_TABLE,
                                  topics.TURNSTILE_SUMMARY)]
            + [f"{app_id}-turnstile-counts-changelog", f"{app_id}-__assignor-__leader"]
        )  # fmt: skip

    missing = {k: v for k, v in expected.items() if data["counts"].get(k) != v}
    extra = set(data["counts"]) - set(expected)
    assert not missing and not extra, (
        f"summary differs from what cta-sim produced at {len(missing)} stations "
        f"(first: {sorted(missing.items())[:5]} vs {[(k, data['counts'].get(k)) for k in sorted(missing)[:5]]}); "
        f"stations never produced: {sorted(extra)[:5]}"
    )
    with_trains = {name for name, line in data["lines"].items() if line["trains"]}
    assert with_trains >= LINES, f"lines without trains: {sorted(LINES - with_trains)}"
    assert data["weather"] is not None and isinstance(data["weather"]["temperature_f"], float)
    assert data["topics"][topics.ARRIVALS]["malformed"] == 0
