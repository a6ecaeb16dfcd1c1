"""`cta-jobs predict` on the shared local stack, fed by `cta-sim --speed 600`.

Each test uses its own topic suffix (``cta-sim --topic-suffix``, ``cta-jobs predict
--topic-suffix``) and consumer group, so nothing is shared with other runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from cta_core import topics
from cta_core.avro import AvroDecoder, RegistryLookup
from cta_core.kafka_clients import make_admin, make_consumer
from cta_core.settings import Settings
from tests.support.jobs import unique

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
ALL_LINES = {"red", "blue", "green", "brown", "purple", "yellow", "pink", "orange"}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _sim(suffix: str, duration: str, log: Path) -> subprocess.Popen[bytes]:
    cmd = [str(BIN / "cta-sim"), "--seed", "7", "--speed", "600", "--start", "2026-12-01T06:00"]
    cmd += ["--duration", duration, "--topic-suffix", suffix, "--no-control", "--no-engine-process"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=_env())


def _job(suffix: str, group: str, log: Path) -> subprocess.Popen[bytes]:
    cmd = [str(BIN / "cta-jobs"), "-v", "predict", "--topic-suffix", suffix, "--group-id", group]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("ab"), env=_env())


def _read(
    settings: Settings, topic: str, start: dict[int, int] | None = None, timeout: float = 20.0
) -> list[dict]:
    """Every prediction on ``topic`` (from ``start`` offsets), decoded."""
    consumer = make_consumer(settings, unique("test.predictions"))
    decoder = AvroDecoder(RegistryLookup(settings))
    out: list[dict] = []
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        ends = {}
        for p in meta.partitions:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            ends[p] = high
        begin = start or {}
        consumer.assign([TopicPartition(topic, p, begin.get(p, OFFSET_BEGINNING)) for p in meta.partitions])
        pending = {p for p, high in ends.items() if high > begin.get(p, 0)}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for msg in consumer.consume(2000, timeout=0.5):
                if msg.error():
                    continue
                out.append(decoder.decode(msg.value()))
                if msg.offset() + 1 >= ends[msg.partition()]:
                    pending.discard(msg.partition())
    finally:
        consumer.close()
    return out


def _ends(settings: Settings, topic: str) -> dict[int, int]:
    consumer = make_consumer(settings, unique("test.ends"))
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in meta.partitions
        }
    finally:
        consumer.close()


def _wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_predictions_fill_for_all_lines_and_survive_kill_9(stack: Settings, tmp_path: Path) -> None:
    suffix = unique("-t")[1:]
    suffix = "-" + suffix
    group = unique("test.predict")
    predictions = topics.PREDICTIONS + suffix
    sim = _sim(suffix, "2h", tmp_path / "sim.log")
    job = _job(suffix, group, tmp_path / "job.log")
    try:
        assert sim.wait(timeout=120) == 0, (tmp_path / "sim.log").read_text()[-2000:]
        _wait_for(lambda: sum(_ends(stack, predictions).values()) > 20000, 60, "predictions")
        time.sleep(2)
        first = _read(stack, predictions)
        assert {p["line"] for p in first} == ALL_LINES
        assert any(not p["scheduled"] for p in first)
        job.send_signal(signal.SIGKILL)
        job.wait(timeout=10)
        mark = _ends(stack, predictions)
        # the simulator continues the day: a second run from where the first stopped
        sim = subprocess.Popen(
            [str(BIN / "cta-sim"), "--seed", "8", "--speed", "600", "--start", "2026-12-01T08:00",
             "--duration", "20m", "--topic-suffix", suffix, "--no-control", "--no-engine-process"],
            stdout=subprocess.DEVNULL, stderr=(tmp_path / "sim2.log").open("wb"), env=_env(),
        )  # fmt: skip
        assert sim.wait(timeout=120) == 0, (tmp_path / "sim2.log").read_text()[-2000:]
        job = _job(suffix, group, tmp_path / "job.log")
        _wait_for(
            lambda: sum(_ends(stack, predictions).values()) > sum(mark.values()) + 500, 60, "new predictions"
        )
        after = _read(stack, predictions, start=mark)
        first_gen = min(p["generated_at"] for p in after)
        earliest = [p for p in after if p["generated_at"] == first_gen]
        assert earliest and not any(p["scheduled"] for p in earliest), earliest[:3]
        log = (tmp_path / "job.log").read_text()
        assert "restored" in log
    finally:
        for proc in (sim, job):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        _delete_topics(stack, suffix)


def _delete_topics(settings: Settings, suffix: str) -> None:
    admin = make_admin(settings)
    names = [t for t in admin.list_topics(timeout=10).topics if t.endswith(suffix)]
    for future in admin.delete_topics(names, operation_timeout=30).values() if names else ():
        with contextlib.suppress(Exception):
            future.result()
