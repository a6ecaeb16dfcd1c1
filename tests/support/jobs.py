"""Helpers for the stream_jobs integration tests: Avro turnstile events, topic
readers, and the Faust worker run as a subprocess with its own app id and topics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, KafkaException, TopicPartition
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from cta_core.kafka_clients import make_consumer, make_producer, make_registry_client
from cta_core.schemas import schema_text
from cta_core.settings import Settings


def unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


def turnstile_values(settings: Settings, topic: str, station_ids: Iterable[int]) -> list[bytes]:
    """Confluent-framed Avro turnstile values, registered under ``<topic>-value``."""
    ser = AvroSerializer(make_registry_client(settings), schema_text("turnstile_value"))
    ctx = SerializationContext(topic, MessageField.VALUE)
    out = []
    for sid in station_ids:
        out.append(
            ser({"station_id": sid, "station_name": f"station {sid}", "line": "red", "sim_time": None}, ctx)
        )
    return out


def produce(settings: Settings, topic: str, messages: Iterable[tuple[bytes | None, bytes | None]]) -> int:
    producer = make_producer(settings)
    delivered = [0]
    errors: list[Any] = []

    def report(err: Any, _msg: Any) -> None:
        if err is not None:
            errors.append(err)
        else:
            delivered[0] += 1

    for key, value in messages:
        while True:
            try:
                producer.produce(topic, key=key, value=value, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(30)
    assert not errors, errors[:3]
    return delivered[0]


def read_latest(
    settings: Settings,
    topic: str,
    done: Callable[[dict[bytes, bytes]], bool],
    timeout: float,
) -> dict[bytes, bytes]:
    """Latest value per key on ``topic``, read from the start until ``done`` or ``timeout``."""
    consumer = make_consumer(settings, unique("test.reader"))
    latest: dict[bytes, bytes] = {}
    try:
        # assign, not subscribe: no group join (the broker delays the first one by up to 3 s)
        meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        partitions = sorted(meta.partitions) if meta is not None and meta.partitions else [0]
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for msg in consumer.consume(1000, 0.5):
                if msg.error():
                    continue
                key, value = msg.key() or b"", msg.value()
                if value is None:
                    latest.pop(key, None)
                else:
                    latest[key] = value
            if done(latest):
                break
    finally:
        consumer.close()
    return latest


def committed_lag(settings: Settings, group: str, topic: str, partitions: int) -> int:
    consumer = make_consumer(settings, group)
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        committed = consumer.committed(tps, timeout=10)
        lag = 0
        for tp in committed:
            _low, high = consumer.get_watermark_offsets(tp, timeout=10)
            lag += high - max(tp.offset, 0)
        return lag
    except KafkaException:
        return -1
    finally:
        consumer.close()


def stop_process(proc: subprocess.Popen[Any], sig: int = signal.SIGINT, timeout: float = 30.0) -> None:
    """Stop a child process as ctrl+c would (killed when it does not exit in ``timeout``)."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class FaustWorker:
    """``cta-jobs faust`` in a subprocess; its log goes to a file the test can read."""

    def __init__(self, settings: Settings, log_dir: Path, *args: str):
        self.settings = settings
        self.args = list(args)
        self.log_path = log_dir / f"faust-{uuid.uuid4().hex[:6]}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> FaustWorker:
        env = {**os.environ, "CTA_BOOTSTRAP_SERVERS": self.settings.bootstrap_servers}
        env["CTA_SCHEMA_REGISTRY_URL"] = self.settings.schema_registry_url
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "stream_jobs", "faust", *self.args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return True
            assert self.running(), f"worker exited:\n{self.log()[-3000:]}"
            time.sleep(0.2)
        return False

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30.0, sig: int = signal.SIGTERM) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode

    def __enter__(self) -> FaustWorker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
