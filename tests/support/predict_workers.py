"""Several `cta-jobs predict` workers in one group, fed by `cta-sim`, one of them killed:
what the scale-out test and the predictions bench share.

:class:`Watch` reads the arrivals (which partition each train is in) and the predictions
(which train and line, and when they were written, wall clock) of one topic suffix.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from cta_core import topics
from cta_core.avro import AvroDecoder, RegistryLookup
from cta_core.kafka_clients import make_consumer
from cta_core.settings import Settings
from tests.support.jobs import unique

BIN = Path(sys.executable).parent
ALL_LINES = frozenset({"red", "blue", "green", "brown", "purple", "yellow", "pink", "orange"})
_OWNED = re.compile(r"partitions owned: \[([0-9, ]*)\]")


def _env(settings: Settings) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "CTA_BOOTSTRAP_SERVERS": settings.bootstrap_servers}
    return {**env, "CTA_SCHEMA_REGISTRY_URL": settings.schema_registry_url}


def start_sim(
    settings: Settings, suffix: str, speed: int, duration: str, log: Path
) -> subprocess.Popen[bytes]:
    cmd = [str(BIN / "cta-sim"), "--seed", "7", "--speed", str(speed), "--start", "2026-12-01T06:00"]
    cmd += ["--duration", duration, "--topic-suffix", suffix, "--no-control", "--no-engine-process"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=_env(settings))


def start_worker(settings: Settings, suffix: str, group: str, log: Path) -> subprocess.Popen[bytes]:
    cmd = [str(BIN / "cta-jobs"), "-v", "predict", "--topic-suffix", suffix, "--group-id", group]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("ab"), env=_env(settings))


def owned(log: Path) -> set[int] | None:
    """The partitions a worker said it owns last (None: not assigned yet)."""
    found = _OWNED.findall(log.read_text(errors="replace")) if log.exists() else []
    if not found:
        return None
    return {int(p) for p in found[-1].replace(" ", "").split(",") if p}


@dataclass
class Watch:
    """Arrivals and predictions of one suffix, read as they come."""

    settings: Settings
    suffix: str
    partition_of: dict[str, int] = field(default_factory=dict)
    line_of: dict[str, str] = field(default_factory=dict)
    #: (wall ms written, train, line)
    predictions: list[tuple[int, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._consumer = make_consumer(self.settings, unique("test.watch"))
        self._decoder = AvroDecoder(RegistryLookup(self.settings))
        self._arrivals = topics.ARRIVALS + self.suffix
        self._predictions = topics.PREDICTIONS + self.suffix
        self._assigned = False

    def _assign(self) -> bool:
        meta = self._consumer.list_topics(timeout=10).topics
        if self._arrivals not in meta or self._predictions not in meta:
            return False
        self._consumer.assign(
            [
                TopicPartition(t, p, OFFSET_BEGINNING)
                for t in (self._arrivals, self._predictions)
                for p in meta[t].partitions
            ]
        )
        return True

    def read(self, seconds: float = 0.5) -> None:
        if not self._assigned:
            self._assigned = self._assign()
            if not self._assigned:
                time.sleep(seconds)
                return
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for msg in self._consumer.consume(5000, timeout=0.2):
                if msg.error():
                    continue
                value = self._decoder.decode(msg.value())
                if msg.topic() == self._arrivals:
                    self.partition_of[value["train_id"]] = msg.partition() or 0
                    self.line_of[value["train_id"]] = value["line"]
                else:
                    self.predictions.append((msg.timestamp()[1], value["train_id"], value["line"]))

    def lines_of(self, partitions: set[int], since_ms: int = 0) -> set[str]:
        """Lines with predictions written since ``since_ms`` for trains of ``partitions``."""
        part = self.partition_of
        return {
            line for ts, tid, line in self.predictions if ts >= since_ms and part.get(tid, -1) in partitions
        }

    def running_lines(self, partitions: set[int]) -> set[str]:
        """Lines that have trains in ``partitions`` (a partition may hold no train of a
        short line: Yellow runs two to four)."""
        return {self.line_of[t] for t, p in self.partition_of.items() if p in partitions}

    def first_covering(
        self, partitions: set[int], since_ms: int, lines: frozenset[str] | set[str] = ALL_LINES
    ) -> int | None:
        """Wall ms when predictions for those partitions' trains first covered ``lines``."""
        seen: set[str] = set()
        part = self.partition_of
        for ts, tid, line in sorted(self.predictions):
            if ts >= since_ms and part.get(tid, -1) in partitions:
                seen.add(line)
                if seen >= lines:
                    return ts
        return None

    def drop_before(self, ms: int) -> None:
        """Forget the predictions written before ``ms`` (long runs)."""
        self.predictions = [p for p in self.predictions if p[0] >= ms]

    def close(self) -> None:
        self._consumer.close()


def wait_until(what: str, predicate, watch: Watch, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        watch.read()
        if predicate():
            return
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
