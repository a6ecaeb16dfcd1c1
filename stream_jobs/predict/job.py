"""`cta-jobs predict`: the Kafka side of the prediction job (confluent-kafka + fastavro).

Reads ``org.chicago.cta.station.arrivals.v1``, feeds the pure
:class:`~stream_jobs.predict.estimator.Estimator`, and writes Avro predictions keyed by
station. Learned state goes to a compacted changelog topic (JSON, one record per
segment, station gap, hold list and train position); at start the job reads the
changelog to its end before consuming, so a restarted job keeps what it learned.

Several workers in one consumer group share the work (:mod:`.ownership`): each reads
every arrival (a prediction needs what all trains taught and the train ahead, whatever
its partition) and publishes predictions and changelog records for the trains of the
partitions the group gave it (:mod:`.membership`). When a worker leaves or dies its
partitions move to the others, which publish those trains' current predictions at once.

Order per batch: predictions and changelog records are produced and flushed, then the
owned partitions' offsets are committed. A crash re-reads at most one batch; the
estimator skips arrivals older than a train's stored position (per-train ``seq``), so
nothing is learned twice. Malformed records are counted and skipped.
"""

from __future__ import annotations

import io
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import fastavro
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, Producer, TopicPartition

from cta_core import topics, wire
from cta_core.avro import AvroDecoder, NotAvro, RegistryLookup, SchemaLookup
from cta_core.kafka_clients import (
    ensure_topics,
    make_consumer,
    make_producer,
    make_registry_client,
    refusal,
    register_key_value,
    spec_for,
)
from cta_core.records.arrival import Arrival
from cta_core.records.prediction import Prediction
from cta_core.schemas import PREDICTION_KEY, PREDICTION_VALUE, schema_dict
from cta_core.settings import Settings
from stream_jobs.predict.encoding import ValueWriter
from stream_jobs.predict.estimator import Estimator
from stream_jobs.predict.membership import Membership
from stream_jobs.predict.ownership import Ownership
from stream_jobs.predict.routes import packaged

log = logging.getLogger("stream_jobs.predict")

DEFAULT_GROUP = "cta-predict"


@dataclass(frozen=True)
class JobOptions:
    group_id: str = DEFAULT_GROUP
    arrivals_topic: str = topics.ARRIVALS
    predictions_topic: str = topics.PREDICTIONS
    state_topic: str = topics.PREDICTIONS_STATE
    #: simulated seconds between re-plans of every train (the CTA refreshes every 20-30 s)
    tick_s: float = 30.0
    batch: int = 2000
    #: stop after this many arrivals (benchmarks)
    max_arrivals: int | None = None
    #: stop when nothing arrived for this many wall seconds (benchmarks)
    idle_exit_s: float | None = None


@dataclass
class JobCounters:
    #: arrivals of the owned partitions (predicted and published)
    arrivals: int = 0
    #: arrivals of other workers' partitions (learned from only)
    arrivals_learned: int = 0
    skipped_malformed: int = 0
    predictions: int = 0
    state_records: int = 0
    restored_records: int = 0
    delivery_failed: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class PredictionEncoder:
    """Confluent-framed Avro for the predictions topic (schema ids from the registry)."""

    def __init__(self, key_id: int, value_id: int):
        self._key_schema = fastavro.parse_schema(schema_dict(PREDICTION_KEY))
        self._key_header = wire.header(key_id)
        self._values = ValueWriter(wire.header(value_id))
        self._keys: dict[int, bytes] = {}

    def key(self, station_id: int) -> bytes:
        k = self._keys.get(station_id)
        if k is None:
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, self._key_schema, {"station_id": station_id})
            k = self._keys[station_id] = self._key_header + buf.getvalue()
        return k

    def value(self, p: Prediction) -> bytes:
        return self._values.encode(p)


def register(settings: Settings, predictions_topic: str) -> tuple[int, int]:
    """Register the key and value schemas under ``<topic>-key`` / ``<topic>-value``."""
    return register_key_value(
        make_registry_client(settings),
        settings.schema_registry_url,
        predictions_topic,
        PREDICTION_KEY,
        PREDICTION_VALUE,
    )


def ensure_job_topics(admin: Any, opts: JobOptions) -> list[str]:
    import dataclasses

    specs = [
        dataclasses.replace(spec_for(topics.ARRIVALS), name=opts.arrivals_topic),
        dataclasses.replace(spec_for(topics.PREDICTIONS), name=opts.predictions_topic),
        dataclasses.replace(spec_for(topics.PREDICTIONS_STATE), name=opts.state_topic),
    ]
    return ensure_topics(admin, specs)


def restore_state(settings: Settings, estimator: Estimator, state_topic: str, counters: JobCounters) -> None:
    """Read the changelog from the beginning to its current end into ``estimator``."""
    consumer = make_consumer(settings, f"{state_topic}-restore", **{"enable.partition.eof": False})
    try:
        meta = consumer.list_topics(state_topic, timeout=10)
        parts = meta.topics[state_topic].partitions if state_topic in meta.topics else {}
        ends: dict[int, int] = {}
        assign = []
        for pid in parts:
            low, high = consumer.get_watermark_offsets(TopicPartition(state_topic, pid), timeout=10)
            if high > low:
                ends[pid] = high
                assign.append(TopicPartition(state_topic, pid, low))
        if not assign:
            return
        consumer.assign(assign)
        latest: dict[str, bytes | None] = {}
        while ends:
            for msg in consumer.consume(5000, timeout=1.0):
                if msg.error():
                    continue
                pid, off = msg.partition(), msg.offset()
                raw_key = msg.key()
                if isinstance(raw_key, bytes):
                    latest[raw_key.decode("utf-8", "replace")] = msg.value()
                if pid in ends and off is not None and off + 1 >= ends[pid]:
                    del ends[pid]
        for state_key, raw in latest.items():
            try:
                estimator.restore(state_key, None if raw is None else json.loads(raw))
                counters.restored_records += 1
            except ValueError as exc:
                counters.skipped_malformed += 1
                log.warning("state record skipped: %s", exc)
    finally:
        consumer.close()


class PredictJob:
    """One worker: read every arrival, predict, produce for the owned partitions' trains;
    until ``stop`` is set."""

    def __init__(
        self,
        settings: Settings,
        opts: JobOptions,
        ids: tuple[int, int],
        lookup: SchemaLookup | None = None,
        on_batch: Callable[[JobCounters], None] | None = None,
    ):
        self.settings = settings
        self.opts = opts
        self.counters = JobCounters()
        self.estimator = Estimator(packaged())
        self.encoder = PredictionEncoder(*ids)
        self.decoder = AvroDecoder(lookup or RegistryLookup(settings))
        self.on_batch = on_batch
        self.ownership = Ownership()
        self._next_tick = float("-inf")
        #: partition -> simulated time of its latest arrival
        self._latest: dict[int, float] = {}
        #: partition -> offset after the last arrival processed
        self._positions: dict[int, int] = {}

    def _delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self.counters.delivery_failed += 1
            refused = refusal(err, self.settings, "WRITE", msg.topic())
            if refused is not None:
                raise refused  # out of the next poll/flush: the job stops with the one line

    def _check(self, err: KafkaError, topic: str | None) -> None:
        """Stop with the one-line refusal when the broker refuses this job (ACLs, password)."""
        refused = refusal(err, self.settings, "READ", topic, self.opts.group_id)
        if refused is not None:
            raise refused

    def _publish(self, producer: Producer, preds: list[Prediction]) -> None:
        topic, enc = self.opts.predictions_topic, self.encoder
        for p in preds:
            producer.produce(topic, enc.value(p), enc.key(p.station_id), on_delivery=self._delivery)
        self.counters.predictions += len(preds)
        producer.poll(0)

    def _decode(self, msg: Message) -> tuple[int, Arrival] | None:
        """(partition, arrival) of one record; a malformed one is counted, logged and skipped."""
        partition = msg.partition() or 0
        self._positions[partition] = (msg.offset() or 0) + 1
        try:
            arrival = Arrival.from_value(self.decoder.decode(msg.value()))
            if arrival.sim_time is None:
                raise ValueError("arrival has no sim_time")
        except (NotAvro, KeyError, TypeError, ValueError) as exc:
            self.counters.skipped_malformed += 1
            log.warning("arrival at %s[%s]@%s skipped: %s", msg.topic(), partition, msg.offset(), exc)
            return None
        return partition, arrival

    def _handle_batch(self, producer: Producer, msgs: list[Message]) -> None:
        """The batch's arrivals in simulated-time order: a batch holds runs of one
        partition then another, and a prediction should see the other trains as they
        were at its arrival (each partition is in time order already)."""
        for m in msgs:
            if (err := m.error()) is not None:
                self._check(err, m.topic())
        decoded = [d for d in map(self._decode, (m for m in msgs if not m.error())) if d is not None]
        decoded.sort(key=lambda pa: pa[1].t)
        for partition, arrival in decoded:
            self._handle(producer, partition, arrival)

    def _handle(self, producer: Producer, partition: int, arrival: Arrival) -> None:
        est = self.estimator
        self.ownership.saw(arrival.train_id, partition)
        if self.ownership.owns_partition(partition):
            self._publish(producer, est.observe(arrival))
            self.counters.arrivals += 1
        else:
            est.observe_quietly(arrival)  # another worker publishes for this train
            self.counters.arrivals_learned += 1
        # event-time watermark: the partitions are read in batches, not in time order, so
        # a tick happens once every partition has passed it
        self._latest[partition] = arrival.t
        mark = min(self._latest.values())
        if mark >= self._next_tick:
            tick = self.opts.tick_s
            if self._next_tick != float("-inf") and mark - self._next_tick < 3600:
                owns = self.ownership.owns_train
                self._publish(producer, [p for p in est.tick(self._next_tick) if owns(p.train_id)])
            self._next_tick = (mark // tick + 1) * tick

    def _take_over(self, producer: Producer) -> None:
        """Publish the current predictions of the trains of partitions just assigned (a
        worker that left or died published for them until now)."""
        gained = self.ownership.take_gained()
        now = min(self._latest.values()) if self._latest else self.estimator.now
        if not gained or not math.isfinite(now):
            return
        trains = self.ownership.trains_in(gained)
        self._publish(producer, self.estimator.republish(trains, now))
        log.info("took over partitions %s: %d trains", sorted(gained), len(trains))

    def _flush_state(self, producer: Producer) -> None:
        for key, value in self.estimator.take_dirty().items():
            producer.produce(
                self.opts.state_topic,
                None if value is None else json.dumps(value, separators=(",", ":")).encode(),
                key.encode(),
                on_delivery=self._delivery,
            )
            self.counters.state_records += 1

    def _open_reader(self, group: Membership) -> Consumer:
        """A consumer of every arrivals partition, from the group's committed offsets."""
        reader: Consumer = make_consumer(self.settings, f"{self.opts.group_id}.reader")
        topic = self.opts.arrivals_topic
        meta = reader.list_topics(topic, timeout=10).topics.get(topic)
        partitions = sorted(meta.partitions) if meta is not None else [0]
        committed = group.committed(partitions)
        reader.assign([TopicPartition(topic, p, committed.get(p, OFFSET_BEGINNING)) for p in partitions])
        return reader

    def _done(self, last_data: float) -> bool:
        opts = self.opts
        if opts.idle_exit_s is not None and time.monotonic() - last_data > opts.idle_exit_s:
            return True
        total = self.counters.arrivals + self.counters.arrivals_learned
        return opts.max_arrivals is not None and total >= opts.max_arrivals

    def run(self, stop: threading.Event) -> JobCounters:
        restore_state(self.settings, self.estimator, self.opts.state_topic, self.counters)
        log.info(
            "restored %d state records (%d segments, %d trains)",
            self.counters.restored_records,
            self.estimator.learned_segments(),
            len(self.estimator.trains),
        )
        producer = make_producer(self.settings, **{"linger.ms": 5, "delivery.report.only.error": True})
        group = Membership(
            self.settings,
            self.opts.group_id,
            self.opts.arrivals_topic,
            self.ownership,
            self._positions.copy,
            on_error=self._check,
        )
        reader = self._open_reader(group)
        group.start()
        group.wait_joined(stop)
        try:
            self._loop(stop, producer, reader, group)
        finally:
            self._flush_state(producer)
            producer.flush(30)
            group.close()  # leaves the group: commits what it gives up
            reader.close()
        return self.counters

    def _loop(self, stop: threading.Event, producer: Producer, reader: Consumer, group: Membership) -> None:
        last_data = time.monotonic()
        while not stop.is_set():
            group.poll()
            self._take_over(producer)
            msgs = reader.consume(self.opts.batch, timeout=0.5)
            if not msgs:
                if self._done(last_data):
                    break
                continue
            last_data = time.monotonic()
            self._handle_batch(producer, msgs)
            self._flush_state(producer)
            producer.flush(30)
            group.commit()  # after the flush: nothing unwritten is committed
            if self.on_batch is not None:
                self.on_batch(self.counters)
            if self._done(last_data):
                break
