"""Read-back checks of the fault trials: what the simulator was expected to produce,
what the topics hold (decoded), the two compared as multisets, and the turnstile
summary's counts against the entries produced per station."""

from __future__ import annotations

import contextlib
import io
import json
import struct
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bench.trials.harness import EVENT_TOPICS, SEED, sim_args
from cta_core import topics
from cta_core.avro import without_logical_types
from cta_core.settings import Settings


def canonical(topic: str, value: Mapping[str, Any]) -> str:
    """One event as a comparable string: its topic and its value's fields, sorted."""
    return topic + "|" + json.dumps(value, sort_keys=True)


def expected_events(env: Mapping[str, str], events: int, seed: int = SEED) -> Counter[str]:
    """The events the simulator produces with these options, from a --dry-run."""
    proc = subprocess.run(
        [*sim_args(events, seed=seed, control=True), "--dry-run"],
        env=dict(env),
        capture_output=True,
        text=True,
        check=True,
    )
    out: Counter[str] = Counter()
    for line in io.StringIO(proc.stdout):
        event = json.loads(line)
        if event["topic"] in EVENT_TOPICS:
            out[canonical(event["topic"], event["value"])] += 1
    return out


def turnstiles_per_station(expected: Counter[str]) -> dict[int, int]:
    """Turnstile entries per station among the expected events."""
    per_station: Counter[int] = Counter()
    for key, n in expected.items():
        topic, _, value = key.partition("|")
        if topic == topics.TURNSTILES:
            per_station[int(json.loads(value)["station_id"])] += n
    return dict(per_station)


def compare(expected: Counter[str], got: Counter[str]) -> tuple[int, int]:
    """(lost, duplicated) between two multisets of events."""
    lost = sum((expected - got).values())
    duplicated = sum((got - expected).values())
    return lost, duplicated


def read_back(settings: Settings, topic_suffix: str, timeout: float = 120.0) -> Counter[str]:
    """Every event in the suffixed event topics, decoded (stops at the end of each partition)."""
    import fastavro
    from confluent_kafka import TopicPartition

    from cta_core.kafka_clients import make_consumer
    from cta_core.schemas import schema_dict

    readers = {
        topics.ARRIVALS: fastavro.parse_schema(without_logical_types(schema_dict("arrival_value"))),
        topics.TURNSTILES: fastavro.parse_schema(without_logical_types(schema_dict("turnstile_value"))),
    }
    consumer = make_consumer(settings, f"cta-faults-read-{time.time_ns()}", **{"enable.partition.eof": True})
    try:
        meta = consumer.list_topics(timeout=10)
        assignment = [
            TopicPartition(t + topic_suffix, p, 0)
            for t in EVENT_TOPICS
            for p in meta.topics[t + topic_suffix].partitions
        ]
        ends = {
            (tp.topic, tp.partition): consumer.get_watermark_offsets(tp, timeout=10, cached=False)[1]
            for tp in assignment
        }
        consumer.assign(assignment)
        done = {k for k, end in ends.items() if end == 0}
        out: Counter[str] = Counter()
        deadline = time.monotonic() + timeout
        while len(done) < len(ends) and time.monotonic() < deadline:
            for msg in consumer.consume(5000, 1.0):
                if msg.error() is not None:
                    continue
                physical, partition = msg.topic() or "", msg.partition() or 0
                topic = physical[: len(physical) - len(topic_suffix)] if topic_suffix else physical
                if (msg.offset() or 0) + 1 >= ends[(physical, partition)]:
                    done.add((physical, partition))
                value = fastavro.schemaless_reader(io.BytesIO((msg.value() or b"")[5:]), readers[topic])
                out[canonical(topic, value)] += 1  # type: ignore[arg-type]
        return out
    finally:
        consumer.close()


def count_records(settings: Settings, topic: str) -> int:
    """Records in ``topic`` (high minus low watermark, summed over its partitions)."""
    from confluent_kafka import TopicPartition

    from cta_core.kafka_clients import make_consumer

    consumer = make_consumer(settings, "cta-faults-count", **{"log_level": 0})
    try:
        meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if meta is None or meta.error is not None:
            return 0
        total = 0
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)
            total += high - low
        return total
    finally:
        consumer.close()


def wait_for_bytes(settings: Settings, topic: str, needle: bytes, timeout: float) -> float | None:
    """Seconds until a record containing ``needle`` is in ``topic`` (read from the start)."""
    from cta_core.kafka_clients import make_consumer

    consumer = make_consumer(settings, f"cta-faults-find-{time.time_ns()}", **{"log_level": 0})
    start = time.monotonic()
    try:
        consumer.subscribe([topic])
        while time.monotonic() - start < timeout:
            for msg in consumer.consume(500, 0.5):
                if msg.error() is None and needle in (msg.value() or b""):
                    return time.monotonic() - start
        return None
    finally:
        consumer.close()


def summary_station(value: Mapping[str, Any], key: bytes | None) -> int:
    """The station of a summary record: the value's STATION_ID, else its key (workers
    older than the course's format wrote it in the key only)."""
    station = value.get("STATION_ID")
    if station is not None:
        return int(station)
    return int(struct.unpack(">i", key or b"\0\0\0\0")[0])


def read_summary(settings: Settings, topic: str, timeout: float = 10) -> tuple[dict[int, int], int]:
    """Latest COUNT per station on a summary topic, and the number of records read."""
    from confluent_kafka import OFFSET_BEGINNING, TopicPartition

    from cta_core.kafka_clients import make_consumer

    consumer = make_consumer(settings, f"cta-faults-summary-{time.time_ns()}", **{"log_level": 0})
    out: dict[int, int] = {}
    records = 0
    try:
        meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if meta is None or not meta.partitions:
            return out, records
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)[1]
            for p in meta.partitions
        }
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions])
        deadline = time.monotonic() + timeout
        seen = {p: 0 for p in ends}
        while any(seen[p] < ends[p] for p in ends) and time.monotonic() < deadline:
            for msg in consumer.consume(5000, 0.5):
                if msg.error() is not None:
                    continue
                seen[msg.partition()] = (msg.offset() or 0) + 1
                records += 1
                with contextlib.suppress(ValueError, KeyError, TypeError, struct.error):
                    value = json.loads(msg.value() or b"")
                    out[summary_station(value, msg.key())] = int(value["COUNT"])
        return out, records
    finally:
        consumer.close()


def wait_for_summary(
    settings: Settings, topic: str, done: Callable[[dict[int, int]], bool], wait: float, pause: float = 2
) -> tuple[dict[int, int], float | None]:
    """Read the summary until ``done(counts)`` or ``wait`` seconds; the last counts and
    when ``done`` held (``time.monotonic()``), None when it never did."""
    deadline = time.monotonic() + wait
    counts: dict[int, int] = {}
    while True:
        counts, _records = read_summary(settings, topic)
        if done(counts):
            return counts, time.monotonic()
        if time.monotonic() >= deadline:
            return counts, None
        time.sleep(pause)


@dataclass
class SummaryFigures:
    """The summary's counts against the entries produced per station."""

    stations: int
    stations_exact: int
    total: int
    over: int
    under: int

    @classmethod
    def of(cls, per_station: Mapping[int, int], counts: Mapping[int, int]) -> SummaryFigures:
        return cls(
            stations=len(counts),
            stations_exact=sum(1 for k, v in per_station.items() if counts.get(k) == v),
            total=sum(counts.values()),
            over=sum(max(0, counts.get(k, 0) - v) for k, v in per_station.items()),
            under=sum(max(0, v - counts.get(k, 0)) for k, v in per_station.items()),
        )
