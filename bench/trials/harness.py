"""What every fault trial runs on: a scratch stack (:class:`cta_stack.scratch.ScratchStack`), the simulator and other
processes started and stopped, topics with a suffix, a high-watermark gauge for timing,
and the result type whose fields a trial prints as one JSON line."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cta_core import topics
from cta_core.settings import Settings

EVENT_TOPICS = (topics.ARRIVALS, topics.TURNSTILES)
SEED = 20261201
BIN = Path(sys.executable).parent


@dataclass
class TrialResult:
    """The figures of one trial; printed as one JSON line."""

    def json(self) -> str:
        return json.dumps(asdict(self))


def suffix(kind: str) -> str:
    """A topic suffix no earlier run used, e.g. ``.fault123456789``."""
    return f".{kind}{time.time_ns() % 10**9}"


def sim_args(
    events: int,
    *,
    speed: str = "max",
    seed: int | None = SEED,
    topic_suffix: str = "",
    control: bool = False,
) -> list[str]:
    """``cta-sim`` producing ``events`` events of run ``seed`` (None: the simulator's own
    default), without its control consumer unless ``control``."""
    args = [str(BIN / "cta-sim"), "--speed", speed, "--count", str(events)]
    if seed is not None:
        args += ["--seed", str(seed)]
    if topic_suffix:
        args += ["--topic-suffix", topic_suffix]
    return args if control else [*args, "--no-control"]


def start_sim(env: dict[str, str], events: int, **options: Any) -> subprocess.Popen[str]:
    """The simulator of :func:`sim_args` in the background, its output kept for
    :func:`sim_failed` and :func:`topic_lines`."""
    return subprocess.Popen(
        sim_args(events, **options),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(proc: subprocess.Popen[Any] | None, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Send ``sig`` to a process still running, wait, and kill it when it does not end."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def sim_failed(text: str) -> int:
    """Failed deliveries in the simulator's summary lines."""
    failed = 0
    for line in text.splitlines():
        if "failed" in line and "delivered" in line:
            with contextlib.suppress(ValueError):
                failed += int(line.rsplit("failed", 1)[1].strip().split()[0].replace(",", ""))
    return failed


def topic_lines(text: str) -> dict[str, tuple[int, int, int]]:
    """The simulator's summary lines: topic -> (produced, delivered, failed)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if ": produced " in line and " delivered " in line:
            name, _, rest = line.partition(": produced ")
            nums = [
                int(x.strip(",").replace(",", ""))
                for x in rest.replace("delivered", "").replace("failed", "").split()
            ]
            out[name] = (nums[0], nums[1], nums[2])
    return out


def leader_of(settings: Settings, topic: str, partition: int = 0) -> int:
    from cta_core.kafka_clients import make_admin

    meta = make_admin(settings).list_topics(topic, timeout=10)
    return int(meta.topics[topic].partitions[partition].leader)


def all_in_sync(settings: Settings, replicas: int) -> bool:
    from cta_core.kafka_clients import make_admin

    meta = make_admin(settings, **{"log_level": 0}).list_topics(timeout=5)
    return all(
        len(p.isrs) >= min(replicas, len(p.replicas))
        for name, t in meta.topics.items()
        if not name.startswith("__")
        for p in t.partitions.values()
    )


def longest_stall(samples: list[tuple[float, int]], since: float, until: float) -> float:
    """Longest time in [since, until] during which the sampled total did not grow."""
    longest, last_growth, last_total = 0.0, since, None
    for t, total in samples:
        if t < since or t > until:
            continue
        if last_total is None or total > last_total:
            longest = max(longest, t - last_growth)
            last_growth, last_total = t, total
    return max(longest, until - last_growth)


class WatermarkGauge:
    """Samples the sum of the topics' high watermarks every ``interval`` seconds."""

    def __init__(self, settings: Settings, names: list[str], interval: float = 0.1):
        from cta_core.kafka_clients import make_consumer

        self.names = names
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._high: dict[tuple[str, int], int] = {}
        self._consumer = make_consumer(settings, "cta-faults-gauge", **{"log_level": 0})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _total(self) -> int | None:
        """Sum of the high watermarks; a partition whose leader does not answer keeps its
        last value (so a dead broker's partitions do not hide the others' growth)."""
        from confluent_kafka import KafkaException, TopicPartition

        try:
            meta = self._consumer.list_topics(timeout=1)
        except KafkaException:
            return None
        for name in self.names:
            info = meta.topics.get(name)
            for p in info.partitions if info is not None else ():
                with contextlib.suppress(KafkaException):
                    _low, high = self._consumer.get_watermark_offsets(
                        TopicPartition(name, p), timeout=0.5, cached=False
                    )
                    self._high[(name, p)] = high
        return sum(self._high.values())

    def _run(self) -> None:
        while not self._stop.is_set():
            total = self._total()
            if total is not None:
                self.samples.append((time.monotonic(), total))
            self._stop.wait(self.interval)

    def start(self) -> WatermarkGauge:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._consumer.close()

    def last(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    def wait_for(self, total: float, proc: subprocess.Popen[Any]) -> None:
        """Until the sampled total reaches ``total`` or ``proc`` (the producer) ended."""
        while self.last() < total and proc.poll() is None:
            time.sleep(0.05)

    def longest_stall(self, since: float, until: float) -> float:
        return longest_stall(self.samples, since, until)


def delete_topics(settings: Settings, names: list[str]) -> None:
    """Delete a trial's own topics (those that exist), waiting for the broker's answer."""
    from cta_core.kafka_clients import make_admin

    admin = make_admin(settings, **{"log_level": 0})
    existing = set(admin.list_topics(timeout=10).topics)
    gone = [n for n in names if n in existing]
    for future in admin.delete_topics(gone).values() if gone else ():
        with contextlib.suppress(Exception):
            future.result(30)
