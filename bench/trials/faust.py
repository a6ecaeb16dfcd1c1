"""Faust workers for the trials: ``cta-jobs faust`` (summary only) in a subprocess,
synthetic turnstile entries at a steady rate, and topics and an app id of a trial's own
on a shared stack (deleted afterwards)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from bench.trials.harness import delete_topics
from cta_core import topics
from cta_core.settings import Settings

STATIONS = list(range(40000, 40150))  # about the size of the 'L'


def unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


def start_worker(
    env: dict[str, str],
    app_id: str,
    log: Path,
    *,
    turnstiles: str = topics.TURNSTILES,
    summary: str = topics.TURNSTILE_SUMMARY,
    data_dir: Path | None = None,
    cwd: str | None = None,
) -> subprocess.Popen[bytes]:
    """``cta-jobs faust`` (summary only) as ``python -m stream_jobs``, so that ``cwd`` may
    be another checkout; its output appended to ``log``."""
    args = [sys.executable, "-m", "stream_jobs", "faust", "--no-stations", "--group-id", app_id]
    args += ["--turnstiles-topic", turnstiles, "--summary-topic", summary]
    if data_dir is not None:
        args += ["--data-dir", str(data_dir)]
    with log.open("ab") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)


def wait_ready(log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while "Worker ready" not in log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise SystemExit(f"worker not ready: {log}")
        time.sleep(0.3)


def per_station(sids: list[int]) -> dict[int, int]:
    """Entries per station id."""
    return dict(Counter(sids))


def produce_turnstiles(settings: Settings, topic: str, sids: list[int], rate: float | None = None) -> None:
    """One Avro turnstile entry per station id in ``sids``, at ``rate`` per second (None:
    as fast as possible)."""
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    from cta_core.kafka_clients import make_producer, make_registry_client
    from cta_core.schemas import schema_text

    ser = AvroSerializer(make_registry_client(settings), schema_text("turnstile_value"))
    ctx = SerializationContext(topic, MessageField.VALUE)
    values = {
        sid: ser({"station_id": sid, "station_name": f"s{sid}", "line": "red", "sim_time": None}, ctx)
        for sid in set(sids)
    }
    producer = make_producer(settings)
    t0 = time.monotonic()
    for i, sid in enumerate(sids):
        while True:
            try:
                producer.produce(topic, key=struct.pack(">i", sid), value=values[sid])
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
        if rate is not None and i % 200 == 0:
            ahead = t0 + i / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    producer.flush(60)


class OwnTopics:
    """A turnstiles and a summary topic of their own, a Faust app id, and a temporary
    directory for the workers' logs and data; :meth:`close` deletes them all."""

    def __init__(self, settings: Settings, kind: str):
        from cta_core.kafka_clients import ensure_topics, make_admin
        from cta_core.topics import TopicSpec

        self.settings = settings
        self.turnstiles, self.summary = unique("trial.turnstiles"), unique("trial.summary")
        self.app_id = unique(f"trial-{kind}")
        self.dir = Path(tempfile.mkdtemp(prefix="trial-faust-"))
        self.env = {**os.environ, "CTA_BOOTSTRAP_SERVERS": settings.bootstrap_servers}
        specs = [TopicSpec(self.turnstiles, partitions=3), TopicSpec(self.summary, compacted=True)]
        ensure_topics(make_admin(settings), specs)

    def worker(self, log: Path, cwd: str | None = None) -> subprocess.Popen[bytes]:
        return start_worker(
            self.env,
            self.app_id,
            log,
            turnstiles=self.turnstiles,
            summary=self.summary,
            data_dir=self.dir,
            cwd=cwd,
        )

    def close(self) -> None:
        from cta_core.kafka_clients import make_admin

        internal = [
            t for t in make_admin(self.settings).list_topics(timeout=10).topics if t.startswith(self.app_id)
        ]
        delete_topics(self.settings, [self.turnstiles, self.summary, *internal])
        shutil.rmtree(self.dir, ignore_errors=True)
