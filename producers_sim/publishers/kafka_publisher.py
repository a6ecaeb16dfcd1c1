"""Arrivals and turnstile entries to Kafka: one idempotent, batched, compressed Producer.

Values are Avro in the Confluent wire format, with the schemas registered in the Schema
Registry under the topic-name strategy (``<topic>-key`` / ``<topic>-value``). The records
arrive encoded (:class:`~producers_sim.prepare.KafkaPreparer`, fastavro and a prebuilt
5-byte header, several times faster than ``SerializingProducer`` with ``AvroSerializer``
per event, and run in the engine's process): this module only produces.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient

from cta_core import topics
from cta_core.kafka_clients import ensure_topics, make_producer, refusal, register_key_value, spec_for
from cta_core.settings import Settings
from producers_sim.control import EVENT_TOPICS, TopicCounters
from producers_sim.records import SinkRecord, count_by_topic

log = logging.getLogger(__name__)

#: topic → (key schema name, value schema name) in cta_core/schemas
SCHEMA_NAMES = {
    topics.ARRIVALS: ("arrival_key", "arrival_value"),
    topics.TURNSTILES: ("turnstile_key", "turnstile_value"),
    topics.WEATHER: ("weather_key", "weather_value"),
}

#: Producer settings on top of cta_core's reliable defaults: at --speed max the local queue
#: fills faster than the broker acknowledges; a bounded queue (BufferError -> poll) keeps
#: memory flat without costing throughput.
#: Delivery reports only for failures: a Python callback per acknowledged message costs
#: ~1 us, a quarter of the whole per-event budget at --speed max. Failures are still
#: counted by the callbacks; deliveries are what was produced minus failures minus what
#: librdkafka still holds (exact whenever the queue is empty, e.g. after the final flush).
THROUGHPUT = {
    "queue.buffering.max.messages": 100_000,
    "queue.buffering.max.kbytes": 65_536,
    "delivery.report.only.error": True,
}

SIM_TOPICS = (topics.ARRIVALS, topics.TURNSTILES, topics.WEATHER, topics.SIM_CONTROL, topics.SIM_STATUS)


def register_schemas(
    registry: SchemaRegistryClient, url: str, suffix: str = ""
) -> dict[str, tuple[int, int]]:
    """Register key and value schemas of the Kafka-produced topics; return their ids."""
    ids: dict[str, tuple[int, int]] = {}
    for topic in (topics.ARRIVALS, topics.TURNSTILES):
        key_name, value_name = SCHEMA_NAMES[topic]
        ids[topic] = register_key_value(registry, url, topic + suffix, key_name, value_name)
    return ids


def create_topics(admin: Any, partitions: int | None, replication: int | None, suffix: str = "") -> list[str]:
    specs = [replace(spec_for(t), name=t + suffix) if t in EVENT_TOPICS else spec_for(t) for t in SIM_TOPICS]
    return ensure_topics(admin, specs, partitions=partitions, replication=replication)


class KafkaPublisher:
    def __init__(self, producer: Producer, suffix: str = "", settings: Settings | None = None):
        """``suffix`` is appended to the event topics' names (benchmarks); counters keep the contract's.
        With ``settings``, a delivery the broker refuses (ACLs) stops the run with the one-line
        refusal (raised out of the next poll) instead of counting failures forever."""
        self.producer = producer
        self.settings = settings
        self._names = {t: t + suffix for t in EVENT_TOPICS}
        self._counters = TopicCounters()
        self._callbacks = {t: self._callback(t) for t in (topics.ARRIVALS, topics.TURNSTILES)}
        self._produced = self._counters.produced
        #: whether the producer reports failed deliveries only (see :attr:`counters`)
        self.only_errors = False
        self.status_failed = 0

    @classmethod
    def from_settings(cls, settings: Settings, suffix: str = "", **extra: Any) -> KafkaPublisher:
        conf = {**THROUGHPUT, **extra}
        publisher = cls(make_producer(settings, **conf), suffix, settings)
        only = str(
            settings.kafka_config.get("delivery.report.only.error", conf["delivery.report.only.error"])
        )
        publisher.only_errors = only.lower() in ("true", "1")
        return publisher

    @property
    def counters(self) -> TopicCounters:
        """Produced and failed as counted; delivered = produced - failed - still queued.

        With ``delivery.report.only.error`` (see :data:`THROUGHPUT`) the queued messages are
        shared out over the topics in proportion to what each produced; once the queue is
        empty the figures are exact. Without it, the callbacks count every delivery."""
        c = self._counters
        if not self.only_errors:
            return TopicCounters(dict(c.produced), dict(c.delivered), dict(c.failed))
        queued = len(self.producer)  # (includes the odd status message; fine for an estimate)
        total = sum(c.produced.values()) or 1
        delivered = {
            t: max(0, n - c.failed.get(t, 0) - round(queued * n / total)) for t, n in c.produced.items()
        }
        return TopicCounters(dict(c.produced), delivered, dict(c.failed))

    def _callback(self, topic: str) -> Callable[[KafkaError | None, Message], None]:
        delivered = self._counters.delivered
        failed = self._counters.failed

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is None:
                delivered[topic] = delivered.get(topic, 0) + 1
            else:
                failed[topic] = failed.get(topic, 0) + 1
                refused = refusal(err, self.settings, "WRITE", msg.topic()) if self.settings else None
                if refused is not None:
                    raise refused
                log.warning("delivery to %s failed: %s", topic, err)

        return on_delivery

    def _produce(self, topic: str, key: bytes, value: bytes) -> None:
        producer = self.producer
        while True:
            try:
                producer.produce(self._names[topic], value, key, -1, self._callbacks[topic])
                break
            except BufferError:
                producer.poll(0.05)  # local queue full: let deliveries drain, then retry

    def publish_many(self, records: list[SinkRecord]) -> None:
        """Records prepared by :class:`~producers_sim.prepare.KafkaPreparer`: arrivals and
        turnstile entries, already Avro. One ``poll(0)`` per call rather than one per record
        (the runner hands over at most ``CHUNK`` records at a time, and polls between bursts
        too): this loop is the simulator's hot path at ``--speed max``."""
        producer = self.producer
        produce = producer.produce
        names, callbacks = self._names, self._callbacks
        try:
            for _, topic, value, key in records:
                try:
                    produce(names[topic], value, key, -1, callbacks[topic])
                except BufferError:
                    self._produce(topic, key, value)  # local queue full: drain, retry
        except KeyError as exc:
            raise TypeError(f"KafkaPublisher does not publish to {exc.args[0]}") from None
        finally:
            producer.poll(0)
        produced = self._produced
        for topic, n in count_by_topic(records).items():
            produced[topic] += n

    def publish_status(self, key: str, document: bytes) -> None:
        try:
            self.producer.produce(
                topics.SIM_STATUS, document, key.encode(), on_delivery=self._status_delivered
            )
        except (BufferError, KafkaException) as exc:
            self.status_failed += 1
            log.debug("status not sent: %s", exc)
        self.producer.poll(0)

    def _status_delivered(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self.status_failed += 1

    def poll(self) -> None:
        self.producer.poll(0)

    def flush(self, timeout: float) -> int:
        return self.producer.flush(timeout)

    def close(self) -> None:
        self.producer.flush(5.0)
