"""The confluent-kafka :class:`RecordSource` the dashboard reads the pipeline with.

One consumer with its own group id, partitions assigned by hand (no group rebalance
wait) and nothing ever committed. Where each topic starts:

- the stations table and TURNSTILE_SUMMARY: from the beginning (compacted tables);
- weather: the last few readings; sim status: the last one;
- arrivals: from ``replay_minutes`` ago (``offsets_for_times``) so trains show at once.

- predictions: at most the last :data:`~cta_tui.state.predictions.PENDING_MAX` records
  (what the dashboard keeps of them), from ``replay_minutes`` ago when that is fewer;
  :data:`RESUME_BACKLOG` when a screen shows them again.

A topic no screen shows (:meth:`KafkaSource.want`: the predictions, off the station
board and the line view) is not read at all; shown again, it is read from the same
recent start. Topics that do not exist yet are picked up when they appear. Values are decoded as
Confluent-framed Avro through the Schema Registry (schemas cached by id) or JSON;
records that fail are counted as malformed and skipped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, KafkaException, TopicPartition

from cta_core import topics, wire
from cta_core.avro import MALFORMED, AvroDecoder, RegistryLookup, RegistryUnavailable
from cta_core.errors import CtaError
from cta_core.kafka_clients import make_consumer, refusal, unavailable
from cta_core.settings import Settings
from cta_tui.feeds.decode import decode_json, decode_key
from cta_tui.feeds.source import DASHBOARD_TOPICS
from cta_tui.logs import kafka_logger
from cta_tui.state.predictions import PENDING_MAX
from cta_tui.state.records import Batch, Deferred, Record

log = logging.getLogger(__name__)

#: Errors that mean the cluster is unreachable (the feed shows "Kafka down" and retries).
#: Topics whose keys the state model reads (a table's key, the summary's station id);
#: other keys are not decoded, which saves a third of the decode time on arrivals.
KEYED_TOPICS = frozenset({topics.STATIONS_TABLE, topics.TURNSTILE_SUMMARY, topics.SIM_STATUS})
#: Topics whose values are left undecoded (:class:`Deferred`) until a screen shows them:
#: the predictions, about 14 records per arrival, which most screens do not show.
DEFERRED_TOPICS = frozenset({topics.PREDICTIONS})

#: predictions read again when a screen shows them again: a few seconds of the stream
#: (every train publishes its set at each arrival, a minute or two apart simulated), so
#: a visit to the board does not read, and hold at once, all the records the book keeps
RESUME_BACKLOG = PENDING_MAX // 4

_DOWN_ERRORS = {KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT, KafkaError._RESOLVE}


class KafkaSource:
    """Reads the dashboard's topics; see the module docstring for start offsets."""

    def __init__(
        self,
        settings: Settings,
        *,
        replay_minutes: float = 5.0,
        weather_last: int = 3,
        topics_to_read: Iterable[str] = DASHBOARD_TOPICS,
        group_id: str | None = None,
        clock: Callable[[], float] = time.time,
        metadata_timeout: float = 5.0,
        lag_interval: float = 2.0,
        rediscover_interval: float = 5.0,
        aliases: Mapping[str, str] | None = None,
        patterns: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.replay_minutes = replay_minutes
        self.weather_last = weather_last
        #: physical topic -> the contract topic it stands for (tests and benchmarks read
        #: uniquely named copies of a topic; records carry the contract name)
        self.aliases = dict(aliases or {})
        self.topics = tuple(topics_to_read) + tuple(t for t in self.aliases if t not in topics_to_read)
        #: regular expression -> the contract topic every topic it matches stands for (the
        #: course's consumers subscribe to ``^org.chicago.cta.station.arrivals.``: one
        #: arrivals topic per station works too); matches are looked for on every rediscovery
        self.patterns = {re.compile(p): topic for p, topic in (patterns or {}).items()}
        self.group_id = group_id or f"cta-tui-{uuid.uuid4().hex[:12]}"
        self.clock = clock
        self.metadata_timeout = metadata_timeout
        self.lag_interval = lag_interval
        self.rediscover_interval = rediscover_interval
        self._consumer: Consumer | None = None
        self._assigned: dict[str, list[int]] = {}
        self._avro: AvroDecoder | None = None
        self._registry: RegistryLookup | None = None
        self._down: str | None = None
        self._last_lag = 0.0
        self._stats_lag: dict[str, int] | None = None
        self._last_discover = 0.0
        #: contract topics no screen shows now (set by the app's thread, see :meth:`want`)
        self.unwanted: frozenset[str] = frozenset()
        #: ... and as the consumer reads them (changed on the feed's thread only)
        self._unread: frozenset[str] = frozenset()
        #: lag per topic as last measured (None until measured)
        self.lag: dict[str, int] | None = None

    # ------------------------------------------------------------------ connection

    def _unavailable(self, cause: str) -> CtaError:
        """Kafka down, or (once it said so) refusing these credentials."""
        return unavailable(self.settings, cause)

    def _registry_lookup(self, schema_id: int) -> str:
        if self._registry is None:
            self._registry = RegistryLookup(self.settings)
        return self._registry(schema_id)

    def _connect(self) -> Consumer:
        consumer = make_consumer(
            self.settings,
            self.group_id,
            **{
                "enable.partition.eof": False,
                "fetch.wait.max.ms": 50,
                "client.id": "cta-tui",
                # librdkafka prefetches up to 64 MB by default; 8 MB keeps up with 50k events/s
                "queued.max.messages.kbytes": 8192,
                # lag comes from librdkafka's statistics (no blocking broker round trips
                # on the poll path: those showed as 300 ms spikes in event-to-screen latency)
                "statistics.interval.ms": max(100, int(self.lag_interval * 1000)),
                "stats_cb": self._on_stats,
                # librdkafka's log lines go to the dashboard's log file, never its screen
                "logger": kafka_logger(),
            },
        )
        try:
            consumer.list_topics(timeout=self.metadata_timeout)
        except KafkaException as exc:
            consumer.poll(0.1)  # serves the log lines that say why (a refusal, see _unavailable)
            consumer.close()
            raise self._unavailable(str(exc.args[0]) if exc.args else str(exc)) from None
        self._consumer = consumer
        self._assigned = {}
        if self._avro is None:
            self._avro = AvroDecoder(self._registry_lookup)
        self._discover(consumer)
        return consumer

    def _discover(self, consumer: Consumer) -> None:
        """Assign the partitions of wanted topics not assigned yet (new topics appear late)."""
        self._last_discover = time.monotonic()
        metadata = consumer.list_topics(timeout=self.metadata_timeout)
        new: list[TopicPartition] = []
        for name in self._matching(metadata.topics):
            self.aliases.setdefault(name, self.patterns[next(p for p in self.patterns if p.search(name))])
        for name in (*self.topics, *self._matching(metadata.topics)):
            info = metadata.topics.get(name)
            if info is None or info.error is not None or not info.partitions:
                continue
            partitions = sorted(info.partitions)
            known = set(self._assigned.get(name, []))
            fresh = [p for p in partitions if p not in known]
            if not fresh:
                continue
            if self.aliases.get(name, name) not in self._unread:
                new.extend(self._start_offsets(consumer, name, fresh))
            self._assigned[name] = partitions
        if new:
            consumer.incremental_assign(new)

    def _matching(self, names: Iterable[str]) -> list[str]:
        """Topics on the cluster that a pattern matches (internal ``_`` topics never)."""
        if not self.patterns:
            return []
        return sorted(n for n in names if not n.startswith("_") and any(p.search(n) for p in self.patterns))

    def _start_offsets(
        self, consumer: Consumer, physical: str, partitions: list[int], backlog: int | None = None
    ) -> list[TopicPartition]:
        """Where to start reading ``partitions`` (see the module docstring); ``backlog``:
        at most this many predictions in all (default :data:`PENDING_MAX`)."""
        backlog = PENDING_MAX if backlog is None else backlog
        topic = self.aliases.get(physical, physical)
        return [
            TopicPartition(physical, tp.partition, tp.offset)
            for tp in self._starts(consumer, topic, physical, partitions, backlog)
        ]

    def _starts(
        self, consumer: Consumer, topic: str, physical: str, partitions: list[int], backlog: int
    ) -> list[TopicPartition]:
        if topic in (topics.STATIONS_TABLE, topics.TURNSTILE_SUMMARY):
            return [TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions]
        if topic in (topics.WEATHER, topics.SIM_STATUS):
            keep = self.weather_last if topic == topics.WEATHER else 1
            out = []
            for p in partitions:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(physical, p), timeout=self.metadata_timeout
                )
                out.append(TopicPartition(topic, p, max(low, high - keep)))
            return out
        if topic in (topics.ARRIVALS, topics.PREDICTIONS):
            since = int((self.clock() - self.replay_minutes * 60) * 1000)
            wanted = [TopicPartition(physical, p, since) for p in partitions]
            found = consumer.offsets_for_times(wanted, timeout=self.metadata_timeout)
            starts = [
                TopicPartition(topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_END)
                for tp in found
            ]
            return (
                self._capped(consumer, physical, starts, backlog) if topic == topics.PREDICTIONS else starts
            )
        return [TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions]

    def _capped(
        self, consumer: Consumer, physical: str, starts: list[TopicPartition], backlog: int
    ) -> list[TopicPartition]:
        """Start no further back than ``backlog`` records in all (at --speed 600 five
        minutes of predictions are over two million records)."""
        per_partition = max(1, backlog // max(1, len(starts)))
        out = []
        for tp in starts:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(physical, tp.partition), timeout=self.metadata_timeout
            )
            floor = max(low, high - per_partition)
            late = 0 <= tp.offset < floor  # (OFFSET_END, nothing that recent, stays)
            out.append(TopicPartition(tp.topic, tp.partition, floor if late else tp.offset))
        return out

    def want(self, topic: str, wanted: bool) -> None:
        """Whether a screen shows ``topic`` (a contract name); one that none shows is not
        read until one does (called from the app's thread; the feed's thread acts on it)."""
        if wanted == (topic not in self.unwanted):
            return
        self.unwanted = self.unwanted - {topic} if wanted else self.unwanted | {topic}

    def _follow_wants(self, consumer: Consumer) -> None:
        """Stop reading the topics no longer wanted; read those wanted again from their
        recent start (:meth:`_starts`)."""
        unwanted = self.unwanted
        if unwanted == self._unread:
            return
        for physical, partitions in self._assigned.items():
            topic = self.aliases.get(physical, physical)
            if (topic in unwanted) == (topic in self._unread):
                continue
            if topic in unwanted:
                consumer.incremental_unassign([TopicPartition(physical, p) for p in partitions])
            else:
                starts = self._start_offsets(consumer, physical, partitions, RESUME_BACKLOG)
                consumer.incremental_assign(starts)
        self._unread = unwanted

    def measure_lag(self) -> dict[str, int]:
        """Lag per topic now, from the broker's high watermarks (blocking; for --once)."""
        if self._consumer is None:
            return {}
        return self._measure_lag(self._consumer)

    def _measure_lag(self, consumer: Consumer) -> dict[str, int]:
        assignment = consumer.assignment()
        if not assignment:
            return {}
        positions = consumer.position(assignment)
        lag: dict[str, int] = {}
        for tp in positions:
            _low, high = consumer.get_watermark_offsets(
                TopicPartition(tp.topic, tp.partition), timeout=self.metadata_timeout, cached=False
            )
            behind = high - tp.offset if tp.offset >= 0 else 0
            name = self.aliases.get(tp.topic, tp.topic)
            lag[name] = lag.get(name, 0) + max(0, behind)
        self._last_lag = time.monotonic()
        self.lag = lag
        return lag

    def caught_up(self) -> bool:
        """True when lag was measured and nothing is left to read on any assigned partition."""
        return self.lag is not None and bool(self._assigned) and all(v == 0 for v in self.lag.values())

    def assigned_topics(self) -> list[str]:
        return sorted(self._assigned)

    # ------------------------------------------------------------------ polling

    def poll(self, max_records: int, timeout: float) -> Batch:
        consumer = self._consumer or self._connect()
        if self._down is not None:
            try:
                consumer.list_topics(timeout=min(timeout, 1.0) or 0.5)
            except KafkaException:
                raise self._unavailable(self._down) from None
            self._down = None
        if self.unwanted != self._unread:
            try:
                self._follow_wants(consumer)
            except KafkaException as exc:
                self._down = str(exc.args[0]) if exc.args else str(exc)
                raise self._unavailable(self._down) from None
        missing = len(self._assigned) < len(self.topics) or bool(self.patterns)
        if missing and time.monotonic() - self._last_discover > self.rediscover_interval:
            try:
                self._discover(consumer)
            except KafkaException as exc:
                self._down = str(exc.args[0]) if exc.args else str(exc)
                raise self._unavailable(self._down) from None
        # consume(n, timeout) waits for all n messages or the timeout: wait for the
        # first only, then take whatever else is already fetched
        messages = consumer.consume(1, timeout)
        if messages and max_records > 1:
            messages.extend(consumer.consume(max_records - 1, 0))
        batch = self.decode(messages)
        if self._stats_lag is not None:
            batch.lag, self._stats_lag = self._stats_lag, None
        return batch

    def _on_stats(self, stats_json: str) -> None:
        """librdkafka statistics (called from consume): this consumer's lag per topic."""
        try:
            stats = json.loads(stats_json)
            lag: dict[str, int] = {}
            for physical, info in stats.get("topics", {}).items():
                name = self.aliases.get(physical, physical)
                for pid, part in info.get("partitions", {}).items():
                    value = part.get("consumer_lag", -1)
                    if pid != "-1" and isinstance(value, int) and value >= 0:
                        lag[name] = lag.get(name, 0) + value
        except (ValueError, AttributeError):
            return
        self._stats_lag = lag

    def decode(self, messages: list[Any]) -> Batch:
        """Decode consumed messages into a batch (malformed ones counted)."""
        batch = Batch()
        avro = self._avro or AvroDecoder(self._registry_lookup)
        self._avro = avro
        by_topic: dict[str, list[Any]] = {}
        for msg in messages:
            err = msg.error()
            if err is not None:
                code = err.code()
                if code in _DOWN_ERRORS:
                    self._down = err.str()
                elif (refused := refusal(err, self.settings, "READ", msg.topic())) is not None:
                    raise refused
                elif code != KafkaError._PARTITION_EOF:
                    log.debug("consume error: %s", err)
                continue
            topic = msg.topic()
            bucket = by_topic.get(topic)
            if bucket is None:
                by_topic[topic] = [msg]
            else:
                bucket.append(msg)
        for physical, msgs in by_topic.items():
            topic = self.aliases.get(physical, physical)
            if topic in DEFERRED_TOPICS and self._schemas_known(msgs, avro):
                records, bad = self._deferred(topic, msgs), 0
            else:
                records, bad = self._decoded(topic, msgs, avro)
            if records:
                batch.records[topic] = records
            if bad:
                batch.malformed[topic] = bad
        if self._down is not None and not batch.records:
            raise self._unavailable(self._down)
        return batch

    def _decoded(self, topic: str, msgs: list[Any], avro: AvroDecoder) -> tuple[list[Record], int]:
        """Records with their values decoded; and how many were malformed."""
        values = avro.decode_many([m.value() for m in msgs], unframed=decode_json)
        keyed = topic in KEYED_TOPICS
        records = []
        bad = 0
        for msg, value in zip(msgs, values, strict=True):
            if value is MALFORMED:
                bad += 1
                continue
            ts_type, ts = msg.timestamp()
            key = decode_key(msg.key(), avro) if keyed else None
            records.append(Record(topic, key, value, ts if ts_type else None))
        return records, bad

    def _deferred(self, topic: str, msgs: list[Any]) -> list[Record]:
        """Records whose values wait undecoded (:data:`DEFERRED_TOPICS`)."""
        decode = self._decode_values
        out = []
        for msg in msgs:
            ts_type, ts = msg.timestamp()
            out.append(Record(topic, None, Deferred(msg.value(), decode, msg.key()), ts if ts_type else None))
        return out

    def _decode_values(self, datas: list[bytes | None]) -> list[Any]:
        """Deferred values decoded when a screen asks (never raises: MALFORMED instead)."""
        avro = self._avro or AvroDecoder(self._registry_lookup)
        return avro.decode_many(datas, unframed=decode_json)

    @staticmethod
    def _schemas_known(msgs: list[Any], avro: AvroDecoder) -> bool:
        """Whether the registry's schemas of these values are fetched already (fetched
        here, on the feed's thread, when new), so deferred decoding never waits on it."""
        # the distinct 5-byte headers first (a slice per record), parsed once each
        heads = {value[: wire.HEADER_SIZE] for msg in msgs if (value := msg.value())}
        ids = set()
        for head in heads:
            with contextlib.suppress(wire.NotFramed):
                ids.add(wire.schema_id(head))
        try:
            for schema_id in ids:
                avro.schema(schema_id)
        except (RegistryUnavailable, ValueError):
            return False  # decoded now instead: those records are counted as malformed
        return True

    def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if self._registry is not None:
            self._registry.close()
            self._registry = None
        if consumer is not None:
            with contextlib.suppress(KafkaException, RuntimeError):
                consumer.close()
