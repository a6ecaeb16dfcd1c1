"""`cta-jobs predict`: the Kafka side of the prediction job (confluent-kafka + fastavro).

Reads ``org.chicago.cta.station.arrivals.v1`` in a consumer group, feeds the pure
:class:`~stream_jobs.predict.estimator.Estimator`, and writes Avro predictions keyed by
station. Learned state goes to a compacted changelog topic (JSON, one record per
segment, station gap, hold list and train position); at start the job reads the
changelog to its end before consuming, so a restarted job keeps what it learned.

Order per batch: predictions and changelog records are produced and flushed, then the
arrivals' offsets are committed. A crash re-reads at most one batch; the estimator
skips arrivals older than a train's stored position (per-train ``seq``), so nothing is
learned twice. Malformed records are counted and skipped.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import fastavro
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

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
    arrivals: int = 0
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
    """One worker: consume arrivals, predict, produce; until ``stop`` is set."""

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
        self._next_tick = float("-inf")
        #: partition -> simulated time of its latest arrival
        self._latest: dict[int, float] = {}

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

    def _handle(self, producer: Producer, msg: Message) -> None:
        try:
            value = self.decoder.decode(msg.value())
            arrival = Arrival.from_value(value)
            if arrival.sim_time is None:
                raise ValueError("arrival has no sim_time")
        except (NotAvro, KeyError, TypeError, ValueError) as exc:
            self.counters.skipped_malformed += 1
            log.warning("arrival at %s[%s]@%s skipped: %s", msg.topic(), msg.partition(), msg.offset(), exc)
            return
        est = self.estimator
        self._publish(producer, est.observe(arrival))
        self.counters.arrivals += 1
        # event-time watermark: the partitions are read in batches, not in time order, so
        # a tick happens once every partition has passed it
        self._latest[msg.partition() or 0] = arrival.t
        mark = min(self._latest.values())
        if mark >= self._next_tick:
            tick = self.opts.tick_s
            if self._next_tick != float("-inf") and mark - self._next_tick < 3600:
                self._publish(producer, est.tick(self._next_tick))
            self._next_tick = (mark // tick + 1) * tick

    def _flush_state(self, producer: Producer) -> None:
        for key, value in self.estimator.take_dirty().items():
            producer.produce(
                self.opts.state_topic,
                None if value is None else json.dumps(value, separators=(",", ":")).encode(),
                key.encode(),
                on_delivery=self._delivery,
            )
            self.counters.state_records += 1

    def run(self, stop: threading.Event) -> JobCounters:
        restore_state(self.settings, self.estimator, self.opts.state_topic, self.counters)
        log.info(
            "restored %d state records (%d segments, %d trains)",
            self.counters.restored_records,
            self.estimator.learned_segments(),
            len(self.estimator.trains),
        )
        producer = make_producer(self.settings, **{"linger.ms": 5, "delivery.report.only.error": True})
        consumer: Consumer = make_consumer(self.settings, self.opts.group_id)
        consumer.subscribe([self.opts.arrivals_topic])
        last_data = time.monotonic()
        try:
            while not stop.is_set():
                msgs = consumer.consume(self.opts.batch, timeout=0.5)
                if not msgs:
                    if (
                        self.opts.idle_exit_s is not None
                        and time.monotonic() - last_data > self.opts.idle_exit_s
                    ):
                        break
                    continue
                last_data = time.monotonic()
                for msg in msgs:
                    if (err := msg.error()) is not None:
                        self._check(err, msg.topic())
                        continue
                    self._handle(producer, msg)
                self._flush_state(producer)
                producer.flush(30)
                consumer.commit(asynchronous=True)  # after the flush: nothing unwritten is committed
                if self.on_batch is not None:
                    self.on_batch(self.counters)
                if self.opts.max_arrivals is not None and self.counters.arrivals >= self.opts.max_arrivals:
                    break
        finally:
            self._flush_state(producer)
            producer.flush(30)
            consumer.close()
        return self.counters
