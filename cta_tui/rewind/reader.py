"""Reading a past moment out of Kafka: the Kafka side of a rewind.

One consumer (own group id, partitions assigned by hand, nothing committed) finds each
window's first and last offsets with ``offsets_for_times`` (:mod:`cta_tui.rewind.windows`
says which), reads just those records and decodes them the way the live feed does
(:meth:`cta_tui.feeds.kafka_source.KafkaSource.decode`). Blocking: call it from a worker
thread or a command, never from the UI's.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from cta_core.errors import CtaError, ServiceUnavailable
from cta_core.kafka_clients import make_consumer
from cta_core.records.status import MalformedStatus, SimStatus
from cta_core.settings import Settings
from cta_tui.feeds.kafka_source import KafkaSource
from cta_tui.feeds.topic_names import TopicNames
from cta_tui.logs import kafka_logger
from cta_tui.rewind.timeline import StatusPoint
from cta_tui.state.records import Record

#: (topic, partition) -> [first offset, end offset)
Ranges = dict[tuple[str, int], tuple[int, int]]


class KafkaWindowReader:
    """Reads offset ranges of the dashboard's topics, decoded (see the module docstring)."""

    def __init__(self, settings: Settings, names: TopicNames, *, timeout: float = 30.0) -> None:
        self.settings = settings
        self.names = names
        self.timeout = timeout
        kwargs = names.source_kwargs()
        #: decodes as the live feed does (its Avro decoder, the registry's schemas cached)
        self.decoder = KafkaSource(settings, aliases=kwargs["aliases"])
        self._consumer: Consumer | None = None
        self._partitions: dict[str, list[int]] = {}
        #: the status topic read so far: next offset per partition, and its points
        self._status_read: dict[int, int] = {}
        self._status_points: list[StatusPoint] = []

    # ------------------------------------------------------------------ connection

    @property
    def consumer(self) -> Consumer:
        if self._consumer is None:
            consumer = make_consumer(
                self.settings,
                f"cta-tui-rewind-{uuid.uuid4().hex[:12]}",
                **{
                    "enable.partition.eof": True,
                    "fetch.wait.max.ms": 10,
                    "fetch.error.backoff.ms": 10,
                    # librdkafka waits a second (by default) before fetching a partition whose
                    # queue is full: each read here stops at its end and moves on
                    "fetch.queue.backoff.ms": 10,
                    "client.id": "cta-tui-rewind",
                    "logger": kafka_logger(),
                },
            )
            try:
                consumer.list_topics(timeout=self.timeout / 3)
            except KafkaException as exc:
                consumer.close()
                cause = str(exc.args[0]) if exc.args else str(exc)
                raise ServiceUnavailable("Kafka", self.settings.bootstrap_servers, cause=cause) from None
            self._consumer = consumer
        return self._consumer

    def partitions(self, topic: str) -> list[int]:
        """The topic's partitions ([] when it does not exist)."""
        if topic not in self._partitions:
            info = self.consumer.list_topics(topic, timeout=self.timeout / 3).topics.get(topic)
            ok = info is not None and info.error is None and info.partitions
            self._partitions[topic] = sorted(info.partitions) if ok and info is not None else []
        return self._partitions[topic]

    def watermarks(self, topic: str, partition: int) -> tuple[int, int]:
        low, high = self.consumer.get_watermark_offsets(
            TopicPartition(topic, partition), timeout=self.timeout / 3, cached=False
        )
        return int(low), int(high)

    def offsets_at(self, topic: str, at_ms: int) -> dict[int, int]:
        """Per partition the first offset written at or after ``at_ms`` (-1: none)."""
        parts = self.partitions(topic)
        if not parts:
            return {}
        found = self.consumer.offsets_for_times(
            [TopicPartition(topic, p, max(0, at_ms)) for p in parts], timeout=self.timeout / 3
        )
        return {tp.partition: tp.offset for tp in found}

    # ------------------------------------------------------------------ reading

    def read(self, ranges: Ranges, progress: Callable[[int], None] | None = None) -> list[Any]:
        """The raw messages of every range, each partition's in offset order."""
        todo = {key: rng for key, rng in ranges.items() if rng[0] < rng[1]}
        if not todo:
            return []
        consumer = self.consumer
        assigned = [TopicPartition(t, p, start) for (t, p), (start, _end) in todo.items()]
        consumer.assign(assigned)
        out: list[Any] = []
        deadline = time.monotonic() + self.timeout
        while todo:
            if time.monotonic() > deadline:
                raise CtaError(
                    f"reading the past timed out after {self.timeout:g} s ({len(out)} records read); check that Kafka answers"
                )
            # consume(n, t) waits for all n or t: wait for the first only, then take
            # whatever else is fetched already
            messages = consumer.consume(1, 0.2)
            if messages:
                messages.extend(consumer.consume(50_000, 0))
            done = _take(messages, todo, out)
            self._drop_done(consumer, todo, done)
            if progress is not None:
                progress(len(out))
        return out

    @staticmethod
    def _drop_done(consumer: Consumer, todo: Ranges, done: set[tuple[str, int]]) -> None:
        """Forget the partitions read up to their end."""
        tps = [TopicPartition(t, p) for t, p in todo]
        for tp in consumer.position(tps):
            if tp.offset >= todo[(tp.topic, tp.partition)][1]:
                done.add((tp.topic, tp.partition))
        for key in done:
            todo.pop(key, None)

    def decode(self, messages: list[Any]) -> dict[str, list[Record]]:
        """Messages decoded as the live feed decodes them, per contract topic."""
        if not messages:
            return {}
        return self.decoder.decode(messages).records

    def status_points(self) -> list[StatusPoint]:
        """Every status record the status topic holds (one record a second, kept a day);
        kept, so that later calls read only what was written since."""
        topic = self.names.status
        ranges: Ranges = {}
        for p in self.partitions(topic):
            low, high = self.watermarks(topic, p)
            ranges[(topic, p)] = (max(low, self._status_read.get(p, low)), high)
            self._status_read[p] = high
        for msg in self.read(ranges):
            ts_type, ts = msg.timestamp()
            try:
                status = SimStatus.from_json(json.loads(msg.value() or b"null"))
            except (MalformedStatus, ValueError):
                continue
            self._status_points.append(StatusPoint(ts if ts_type else 0, status))
        return list(self._status_points)

    def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        self.decoder.close()
        if consumer is not None:
            with contextlib.suppress(KafkaException, RuntimeError):
                consumer.close()


def _take(messages: list[Any], todo: Ranges, out: list[Any]) -> set[tuple[str, int]]:
    """Keep the messages inside their ranges; the partitions whose range is complete."""
    done = set()
    for msg in messages:
        key = (msg.topic(), msg.partition())
        rng = todo.get(key)
        if rng is None:
            continue
        if msg.error() is not None:
            if msg.error().code() == KafkaError._PARTITION_EOF:
                done.add(key)  # the log's end (compaction can leave gaps before it)
            continue
        if msg.offset() < rng[1]:
            out.append(msg)
        if msg.offset() >= rng[1] - 1:
            done.add(key)
    return done
