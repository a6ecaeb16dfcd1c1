"""Reading one topic's newest records, decoded (blocking; the tail screen's worker and
``cta-tui tail`` use it).

Partitions are assigned by hand with a throw-away group id and nothing is committed,
like ``kcat -C``. Values are decoded as Confluent-framed Avro through the Schema
Registry, else JSON, else UTF-8 text, else shown as hex.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, KafkaException, TopicPartition

from cta_core.avro import AvroDecoder, DecodeError, RegistryLookup, RegistryUnavailable
from cta_core.errors import CtaError, ServiceUnavailable
from cta_core.kafka_clients import kafka_cause, make_consumer, refusal, unavailable
from cta_core.settings import Settings
from cta_tui.logs import kafka_logger
from cta_tui.state.tail import AVRO, BYTES, JSON, NULL, TEXT, TailRecord
from cta_tui.tail_offsets import OffsetSpec, resolve

log = logging.getLogger(__name__)


class UnknownTopic(CtaError):
    pass


def decode_bytes(data: bytes | None, avro: AvroDecoder | None, strict: bool = False) -> tuple[Any, str]:
    """(decoded value, format): Avro when framed and the registry knows the schema,
    JSON, printable UTF-8 text, else the bytes in hex. ``strict``: a registry that does
    not answer raises :class:`RegistryUnavailable` instead."""
    if data is None:
        return None, NULL
    if avro is not None and len(data) >= 5 and data[0] == 0:
        try:
            return avro.decode(data), AVRO
        except RegistryUnavailable:
            if strict:
                raise
        except DecodeError:
            pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.hex(" "), BYTES
    try:
        import json

        return json.loads(text), JSON
    except ValueError:
        pass
    if text.isprintable():
        return text, TEXT
    return data.hex(" "), BYTES


def _headers(raw: Any) -> tuple[tuple[str, str], ...]:
    """A message's headers as (name, text) pairs (``Message.headers()``: a list or None)."""
    return tuple((str(k), _header_text(v)) for k, v in raw or ())


def _header_text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.hex()


class TailSource:
    """One topic's records from ``last`` before the end (or the beginning) onwards."""

    def __init__(
        self,
        settings: Settings,
        topic: str,
        *,
        last: int = 100,
        timeout: float = 5.0,
        strict: bool = False,
        consumer: Any = None,
        registry: RegistryLookup | None = None,
    ) -> None:
        """``strict``: a Schema Registry that does not answer is an error (``cta-tui tail``),
        not a reason to show framed Avro as hex (the tail screen). ``consumer`` and
        ``registry`` (from :func:`tail_consumer` and ``RegistryLookup``): lent, used and
        left open (:meth:`close` unassigns the consumer); by default made and closed here."""
        self.settings = settings
        self.strict = strict
        self.topic = topic
        self.last = last
        self.timeout = timeout
        self._owned = consumer is None
        self._registry: RegistryLookup | None = registry
        self.avro = AvroDecoder(self._lookup)
        self._consumer = tail_consumer(settings) if consumer is None else consumer
        try:
            metadata = self._consumer.list_topics(topic, timeout=timeout)
        except KafkaException as exc:
            self.close()
            raise unavailable(settings, kafka_cause(exc)) from None
        info = metadata.topics.get(topic)
        if info is None or info.error is not None or not info.partitions:
            self.close()
            refused = refusal(info.error if info is not None else None, settings, "DESCRIBE", topic)
            if refused is not None:
                raise refused
            raise UnknownTopic(
                f"topic {topic!r} does not exist on {settings.bootstrap_servers}; "
                "list the topics with `cta-tui tail --list`"
            )
        self.partitions = sorted(info.partitions)
        #: the next offset to read per partition, as far as this source knows
        self.positions: dict[int, int] = {}

    def _lookup(self, schema_id: int) -> str:
        if self._registry is None:
            self._registry = RegistryLookup(self.settings)
        return self._registry(schema_id)

    def seek_end(self, last: int | None = None) -> None:
        """The last ``last`` records of each partition, then what comes."""
        n = self.last if last is None else last
        tps = []
        for p in self.partitions:
            low, high = self._consumer.get_watermark_offsets(
                TopicPartition(self.topic, p), timeout=self.timeout
            )
            tps.append(TopicPartition(self.topic, p, max(low, high - n) if n > 0 else OFFSET_END))
        self._consumer.assign(tps)

    def seek_start(self) -> None:
        self._consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in self.partitions])

    def start_at(self, spec: OffsetSpec, partitions: list[int] | None = None) -> dict[int, int]:
        """Read ``partitions`` (default: all) from where ``spec`` says (kcat's ``-o``);
        returns each partition's end offset at this moment (for ``-e``)."""
        chosen = self.partitions if partitions is None else partitions
        missing = sorted(set(chosen) - set(self.partitions))
        if missing:
            raise UnknownTopic(
                f"topic {self.topic!r} has no partition {missing[0]}; "
                f"its partitions are {', '.join(map(str, self.partitions))}"
            )
        marks = {
            p: self._consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=self.timeout)
            for p in chosen
        }
        at_time: dict[int, int] = {}
        if spec.needs_time_lookup:
            found = self._consumer.offsets_for_times(
                [TopicPartition(self.topic, p, spec.value) for p in chosen], timeout=self.timeout
            )
            at_time = {tp.partition: tp.offset for tp in found}
        starts = {p: resolve(spec, low, high, at_time.get(p)) for p, (low, high) in marks.items()}
        self._consumer.assign([TopicPartition(self.topic, p, o) for p, o in starts.items()])
        self.positions = dict(starts)
        return {p: high for p, (_low, high) in marks.items()}

    def poll(self, max_records: int = 500, timeout: float = 0.2) -> list[TailRecord]:
        messages = self._consumer.consume(max_records, timeout)
        out = []
        for m in messages:
            if m.error():
                refused = refusal(m.error(), self.settings, "READ", m.topic() or self.topic)
                if refused is not None:
                    raise refused
                log.debug("tail consume error: %s", m.error())
                continue
            try:
                value, fmt = decode_bytes(m.value(), self.avro, self.strict)
                key, key_fmt = decode_bytes(m.key(), self.avro, self.strict)
            except RegistryUnavailable as exc:
                raise ServiceUnavailable(
                    "Schema Registry", self.settings.schema_registry_url, cause=str(exc)[:200]
                ) from None
            ts_type, ts = m.timestamp()
            self.positions[m.partition() or 0] = (m.offset() or 0) + 1
            out.append(
                TailRecord(
                    m.topic() or self.topic,
                    m.partition() or 0,
                    m.offset() or 0,
                    ts if ts_type and ts >= 0 else None,
                    key,
                    value,
                    fmt,
                    key_fmt,
                    _headers(m.headers()),
                )
            )
        return out

    def close(self) -> None:
        if not self._owned:  # lent: left open, reading nothing
            with contextlib.suppress(Exception):
                self._consumer.unassign()
            return
        with contextlib.suppress(Exception):
            self._consumer.close()
        if self._registry is not None:
            self._registry.close()


def tail_consumer(settings: Settings) -> Any:
    """A consumer for tailing: partitions assigned by hand, a throw-away group id."""
    return make_consumer(
        settings,
        f"cta-tui-tail-{uuid.uuid4().hex[:12]}",
        **{
            "enable.partition.eof": False,
            "fetch.wait.max.ms": 100,
            "client.id": "cta-tui-tail",
            "queued.max.messages.kbytes": 4096,
            "logger": kafka_logger(),
        },
    )


def list_topics(settings: Settings, timeout: float = 5.0, client: Any = None) -> list[str]:
    """Every topic's name except Kafka's internal ones (blocking); through ``client`` (a
    consumer or admin client) when given, else an admin client made for this."""
    from cta_core.kafka_clients import make_admin

    admin = make_admin(settings, logger=kafka_logger()) if client is None else client
    try:
        names = admin.list_topics(timeout=timeout).topics
    except KafkaException as exc:
        raise unavailable(settings, kafka_cause(exc)) from None
    return order_topics(names)


def order_topics(names: Iterable[str]) -> list[str]:
    """The contract's topics first (in the contract's order), then the others by name,
    then internal ones (``_schemas``); Kafka's own (``__consumer_offsets``) left out."""
    from cta_core import topics

    contract = topics.PIPELINE_TOPICS
    present = set(names)
    first = [t for t in contract if t in present]
    rest = sorted(n for n in present if n not in first and not n.startswith("__"))
    return first + [n for n in rest if not n.startswith("_")] + [n for n in rest if n.startswith("_")]
