"""The registry's Kafka store: one compacted, single-partition topic (``_schemas``).

On start every record is read back into :class:`RegistryState` before the
registry serves, so ids never change across restarts. Afterwards a follower
thread keeps reading; records are applied on the event loop thread (the only
thread that touches the state). A write is done when the broker has it
(``acks=all``) *and* it has been read back and applied, so a reply never runs
ahead of the store.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

from cta_servers.schema_registry import errors
from cta_servers.schema_registry.state import RegistryState, StoreRecord

log = logging.getLogger(__name__)


def encode_key(key: dict[str, Any]) -> bytes:
    return json.dumps(key, separators=(",", ":")).encode()


def encode_value(value: dict[str, Any] | None) -> bytes | None:
    return None if value is None else json.dumps(value, separators=(",", ":")).encode()


def decode_record(key: bytes | None, value: bytes | None) -> StoreRecord | None:
    """A store record, or None for one this registry cannot read (logged, skipped)."""
    try:
        parsed_key = json.loads(key) if key else None
        parsed_value = json.loads(value) if value else None
    except ValueError:
        return None
    if not isinstance(parsed_key, dict) or (parsed_value is not None and not isinstance(parsed_value, dict)):
        return None
    return parsed_key, parsed_value


class KafkaStore:
    def __init__(
        self,
        kafka_conf: dict[str, Any],
        topic: str,
        state: RegistryState,
        *,
        replication_factor: int = 1,
        timeout: float = 30.0,
    ) -> None:
        self.kafka_conf = kafka_conf
        self.topic = topic
        self.state = state
        self.replication_factor = replication_factor
        self.timeout = timeout
        self.applied_offset = -1
        self.skipped = 0
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- start-up (blocking; run before serving) ------------------------------------------------
    def open(self) -> None:
        """Create the topic when missing and read it to its end into the state."""
        admin = AdminClient(dict(self.kafka_conf))
        metadata = admin.list_topics(timeout=self.timeout)
        if self.topic not in metadata.topics:
            new = NewTopic(
                self.topic,
                num_partitions=1,
                replication_factor=self.replication_factor,
                config={"cleanup.policy": "compact"},
            )
            try:
                admin.create_topics([new], request_timeout=self.timeout)[self.topic].result()
                log.info("created store topic %s", self.topic)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise
        self._producer = Producer(
            {
                **self.kafka_conf,
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": 0,
                "message.timeout.ms": int(self.timeout * 1000),
            }
        )
        self._consumer = Consumer(
            {
                **self.kafka_conf,
                "group.id": f"cta-schema-registry-{uuid.uuid4().hex[:12]}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "enable.partition.eof": False,
            }
        )
        partition = TopicPartition(self.topic, 0, OFFSET_BEGINNING)
        self._consumer.assign([partition])
        deadline = time.monotonic() + self.timeout
        high = self._high_watermark(deadline)
        # Compaction leaves gaps in offsets: compare the fetch position, not the last offset seen.
        while high > 0:
            msg = self._consumer.poll(0.5)
            if msg is not None:
                self._apply(msg)
            position = self._consumer.position([TopicPartition(self.topic, 0)])[0].offset
            if position >= high or self.applied_offset + 1 >= high:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {self.topic} to offset {high} took over {self.timeout:.0f} s")
        log.info(
            "read %s to offset %d: %d subjects, %d schemas",
            self.topic,
            high,
            len(self.state.versions),
            len(self.state.by_id),
        )

    def _high_watermark(self, deadline: float) -> int:
        """End offset of the store partition; retried while a new topic's leader is elected."""
        assert self._consumer is not None
        while True:
            try:
                _, high = self._consumer.get_watermark_offsets(TopicPartition(self.topic, 0), timeout=5)
                return int(high)
            except KafkaException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Follow the topic from now on, applying records on ``loop``."""
        self._loop = loop
        self._thread = threading.Thread(target=self._follow, name="schemas-follower", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._producer is not None:
            self._producer.flush(5)
        if self._consumer is not None:
            self._consumer.close()

    # -- reading ------------------------------------------------------------------------------
    def _follow(self) -> None:
        assert self._consumer is not None and self._producer is not None and self._loop is not None
        while not self._stop.is_set():
            try:
                self._producer.poll(0)
                msg = self._consumer.poll(0.05)
                if msg is not None:
                    self._loop.call_soon_threadsafe(self._apply, msg)
            except RuntimeError:  # the loop closed under us: shutting down
                return
            except KafkaException as exc:  # keep following; writes time out meanwhile
                log.warning("store follower: %s", exc)
                time.sleep(0.5)

    def _apply(self, msg: Message) -> None:
        err = msg.error()
        if err is not None:
            if err.code() != KafkaError._PARTITION_EOF:
                log.warning("store read error: %s", err)
            return
        record = decode_record(msg.key(), msg.value())
        if record is None:
            self.skipped += 1
            log.warning("skipped an unreadable record at offset %s of %s", msg.offset(), self.topic)
        else:
            try:
                self.state.apply(*record)
            except (KeyError, ValueError, TypeError) as exc:
                self.skipped += 1
                log.warning("skipped record at offset %s: %s", msg.offset(), exc)
        offset = msg.offset()
        if offset is not None:
            self.applied_offset = max(self.applied_offset, offset)
        if self._waiters:
            ready = [w for w in self._waiters if w[0] <= self.applied_offset]
            self._waiters = [w for w in self._waiters if w[0] > self.applied_offset]
            for _, future in ready:
                if not future.done():
                    future.set_result(None)

    # -- writing ------------------------------------------------------------------------------
    async def put(self, records: list[StoreRecord]) -> None:
        """Write ``records`` (acks=all) and return once all are applied to the state."""
        if not records:
            return
        assert self._producer is not None
        loop = asyncio.get_running_loop()
        delivered: list[asyncio.Future[int]] = []
        for key, value in records:
            future: asyncio.Future[int] = loop.create_future()
            delivered.append(future)

            def on_delivery(
                err: KafkaError | None, msg: Message, future: asyncio.Future[int] = future
            ) -> None:
                if err is not None:
                    loop.call_soon_threadsafe(
                        _fail,
                        future,
                        errors.RegistryError(500, errors.STORE_ERROR, f"Error while storing: {err}"),
                    )
                else:
                    loop.call_soon_threadsafe(_resolve, future, msg.offset())

            try:
                self._producer.produce(
                    self.topic,
                    key=encode_key(key),
                    value=encode_value(value),
                    partition=0,
                    on_delivery=on_delivery,
                )
            except (BufferError, KafkaException) as exc:
                raise errors.RegistryError(500, errors.STORE_ERROR, f"Error while storing: {exc}") from exc
        try:
            offsets = await asyncio.wait_for(asyncio.gather(*delivered), self.timeout)
            target = max(offsets)
            if self.applied_offset < target:
                applied: asyncio.Future[None] = loop.create_future()
                self._waiters.append((target, applied))
                await asyncio.wait_for(applied, self.timeout)
        except TimeoutError as exc:
            raise errors.RegistryError(
                500, errors.OPERATION_TIMEOUT, f"Write to {self.topic} timed out after {self.timeout:.0f} s"
            ) from exc


def _resolve(future: asyncio.Future[int], offset: int | None) -> None:
    if not future.done():
        future.set_result(-1 if offset is None else offset)


def _fail(future: asyncio.Future[int], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
