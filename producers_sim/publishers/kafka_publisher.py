"""Arrivals and turnstile entries to Kafka: one idempotent, batched, compressed Producer.

Values are Avro in the Confluent wire format, with the schemas registered in the Schema
Registry under the topic-name strategy (``<topic>-key`` / ``<topic>-value``). Encoding
uses fastavro and a prebuilt 5-byte header (see :mod:`producers_sim.encoding`), which is
several times faster than ``SerializingProducer`` with ``AvroSerializer`` per event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from cta_core import topics
from cta_core.errors import ServiceUnavailable
from cta_core.kafka_clients import ensure_topics, make_producer, spec_for
from cta_core.schemas import schema_text
from cta_core.settings import Settings
from producers_sim.control import EVENT_TOPICS, TopicCounters
from producers_sim.encoding import _LOW, ArrivalEncoder, TurnstileEncoder, millis_suffix
from producers_sim.events import ArrivalEvent, Event, TurnstileEvent

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
    try:
        for topic in (topics.ARRIVALS, topics.TURNSTILES):
            key_name, value_name = SCHEMA_NAMES[topic]
            subject = topic + suffix
            key_id = registry.register_schema(f"{subject}-key", Schema(schema_text(key_name), "AVRO"))
            value_id = registry.register_schema(f"{subject}-value", Schema(schema_text(value_name), "AVRO"))
            ids[topic] = (key_id, value_id)
    except Exception as exc:  # the client raises its own errors and httpx's
        if type(exc).__name__ == "SchemaRegistryError" and getattr(exc, "http_status_code", 0) not in (
            -1,
            None,
            0,
        ):
            raise
        raise ServiceUnavailable("Schema Registry", url, cause=str(exc).splitlines()[0][:200]) from exc
    return ids


def create_topics(admin: Any, partitions: int | None, replication: int, suffix: str = "") -> list[str]:
    specs = [replace(spec_for(t), name=t + suffix) if t in EVENT_TOPICS else spec_for(t) for t in SIM_TOPICS]
    return ensure_topics(admin, specs, partitions=partitions, replication=replication)


class KafkaPublisher:
    def __init__(self, producer: Producer, schema_ids: dict[str, tuple[int, int]], suffix: str = ""):
        """``suffix`` is appended to the event topics' names (benchmarks); counters keep the contract's."""
        self.producer = producer
        self._names = {t: t + suffix for t in EVENT_TOPICS}
        self._counters = TopicCounters()
        self._arrivals = ArrivalEncoder(*schema_ids[topics.ARRIVALS])
        self._turnstiles = TurnstileEncoder(*schema_ids[topics.TURNSTILES])
        self._callbacks = {t: self._callback(t) for t in (topics.ARRIVALS, topics.TURNSTILES)}
        self._encoders: dict[type, tuple[object, object]] = {
            TurnstileEvent: (self._turnstiles.key, self._turnstiles.value),
            ArrivalEvent: (self._arrivals.key, self._arrivals.value),
        }
        self._produced = self._counters.produced
        self._turnstile_cache: dict[int, tuple[bytes, bytes]] = {}
        #: sim_time varint suffixes by ``ms // 8192`` (a float, as divmod gives it)
        self._suffixes: dict[float, bytes] = {}
        #: whether the producer reports failed deliveries only (see :attr:`counters`)
        self.only_errors = False
        self.status_failed = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, schema_ids: dict[str, tuple[int, int]], suffix: str = "", **extra: Any
    ) -> KafkaPublisher:
        conf = {**THROUGHPUT, **extra}
        publisher = cls(make_producer(settings, **conf), schema_ids, suffix)
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
        producer.poll(0)

    def publish(self, event: Event) -> None:
        try:
            key, value = self._encoders[type(event)]
        except KeyError:
            raise TypeError(f"KafkaPublisher does not publish {type(event).__name__}") from None
        topic = event.topic
        k, v = key(event), value(event)  # type: ignore[operator]
        producer = self.producer
        try:
            producer.produce(self._names[topic], v, k, -1, self._callbacks[topic])
        except BufferError:
            self._produce(topic, k, v)  # the local queue is full: drain and retry
        else:
            producer.poll(0)
        self._produced[topic] += 1

    def publish_many(self, events: list[Event]) -> None:
        """:meth:`publish` for a run of events, with every lookup hoisted out of the loop,
        turnstile entries encoded inline (they are ~93% of all events) and one ``poll(0)``
        per call instead of one per event (the runner hands over at most ``CHUNK`` events
        at a time, and polls between bursts too)."""
        producer = self.producer
        produce = producer.produce
        t_get = self._turnstile_cache.get
        s_get = self._suffixes.get
        low = _LOW
        t_name, t_cb = self._names[topics.TURNSTILES], self._callbacks[topics.TURNSTILES]
        a_key, a_value = self._arrivals.key, self._arrivals.value
        a_name, a_cb = self._names[topics.ARRIVALS], self._callbacks[topics.ARRIVALS]
        join = b"".join
        turnstile, arrival = TurnstileEvent, ArrivalEvent
        n_arrivals = 0
        for event in events:
            if type(event) is turnstile:
                # TurnstileEncoder.value inlined (the hot loop): the station's cached prefix,
                # then sim_time's varint from two table lookups (see encoding._LOW)
                cached = t_get(event.station_id)
                q, r = divmod(event.t * 1000.0, 8192.0)
                suffix = s_get(q)
                if cached is not None and suffix is not None:
                    key, prefix = cached
                    value = join((prefix, low[int(r)], suffix))
                else:
                    key, value = self._turnstile_slow(event, q)
                try:
                    produce(t_name, value, key, -1, t_cb)
                except BufferError:
                    self._produce(topics.TURNSTILES, key, value)  # local queue full: drain, retry
            elif type(event) is arrival:
                key, value = a_key(event), a_value(event)
                n_arrivals += 1
                try:
                    produce(a_name, value, key, -1, a_cb)
                except BufferError:
                    self._produce(topics.ARRIVALS, key, value)
            else:
                raise TypeError(f"KafkaPublisher does not publish {type(event).__name__}")
        producer.poll(0)
        produced = self._produced
        produced[topics.TURNSTILES] += len(events) - n_arrivals
        produced[topics.ARRIVALS] += n_arrivals

    def _turnstile_slow(self, event: TurnstileEvent, q: float) -> tuple[bytes, bytes]:
        """A station's first entry, or a new 8.192 s slice of time: encode the long way and
        remember the station's key and value prefix and the slice's varint suffix."""
        turnstiles = self._turnstiles
        key, value = turnstiles.key(event), turnstiles.value(event)
        self._turnstile_cache[event.station_id] = (key, turnstiles._prefixes[event.station_id])
        suffix = millis_suffix(int(q))
        if suffix is not None:
            if len(self._suffixes) > 100_000:  # ~9 simulated days of slices
                self._suffixes.clear()
            self._suffixes[q] = suffix
        return key, value

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
