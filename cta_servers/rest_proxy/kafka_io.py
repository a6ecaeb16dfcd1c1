"""The REST Proxy's Kafka side: one shared producer, its poll thread, and topic metadata.

Delivery reports arrive on the poll thread; they are handed to the event loop
in batches (one ``call_soon_threadsafe`` per poll), which keeps the cost per
record small when many requests are in flight.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient, ConfigResource

from cta_servers.rest_proxy.formats import KAFKA_ERROR, KAFKA_RETRIABLE_ERROR, TOPIC_NOT_FOUND, ProxyError

#: Producer settings: nothing acknowledged before all in-sync replicas have it.
PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "enable.idempotence": True,
    "linger.ms": 2,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 500_000,
    # A reply (with a per-record error) within 30 s when the broker is away, not librdkafka's 5 min.
    "message.timeout.ms": 30_000,
    # Unknown topics are answered 40401, never created as a side effect of a produce.
    "allow.auto.create.topics": False,
}

UNKNOWN_TOPIC_RETRIES = 4


@dataclass(frozen=True)
class Delivery:
    partition: int | None
    offset: int | None
    error_code: int | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "offset": self.offset,
            "error_code": self.error_code,
            "error": self.error,
        }


class KafkaBridge:
    def __init__(
        self, kafka_conf: dict[str, Any], *, metadata_ttl: float = 5.0, timeout: float = 30.0
    ) -> None:
        self.kafka_conf = kafka_conf
        self.metadata_ttl = metadata_ttl
        self.timeout = timeout
        self.producer = Producer({**PRODUCER_DEFAULTS, **kafka_conf})
        self.admin = AdminClient(dict(kafka_conf))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[tuple[asyncio.Future[Delivery], Delivery]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._partitions: dict[str, int] = {}
        self._fetched_at = 0.0
        self._refresh: asyncio.Task[None] | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._poll, name="rest-proxy-producer", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> int:
        """Deliver what is queued, stop polling; return the number of undelivered messages."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        left = self.producer.flush(timeout)
        if self._pending and self._loop is not None and not self._loop.is_closed():
            batch, self._pending = self._pending, []
            self._loop.call_soon_threadsafe(_resolve_all, batch)
        return int(left)

    # -- producing ----------------------------------------------------------------------------
    def _poll(self) -> None:
        assert self._loop is not None
        while not self._stop.is_set():
            self.producer.poll(0.05)
            if self._pending:
                batch, self._pending = self._pending, []
                self._loop.call_soon_threadsafe(_resolve_all, batch)

    async def produce(
        self, topic: str, key: bytes | None, value: bytes | None, partition: int | None
    ) -> Delivery:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Delivery] = loop.create_future()

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is None:
                report = Delivery(msg.partition(), msg.offset())
            else:
                code = KAFKA_RETRIABLE_ERROR if err.retriable() else KAFKA_ERROR
                report = Delivery(msg.partition(), None, code, f"Kafka error: {err.str()}")
            self._pending.append((future, report))

        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self.producer.produce(
                    topic,
                    value=value,
                    key=key,
                    partition=-1 if partition is None else partition,
                    on_delivery=on_delivery,
                )
                break
            except BufferError:
                if time.monotonic() > deadline:
                    return Delivery(partition, None, KAFKA_RETRIABLE_ERROR, "Producer queue full")
                await asyncio.sleep(0.01)
            except KafkaException as exc:
                return Delivery(partition, None, KAFKA_ERROR, f"Kafka error: {exc}")
        return await future

    # -- metadata -----------------------------------------------------------------------------
    def _fetch_partitions(self) -> dict[str, int]:
        metadata = self.admin.list_topics(timeout=min(self.timeout, 10.0))
        return {name: len(t.partitions) for name, t in metadata.topics.items() if t.error is None}

    async def partitions(self, topic: str) -> int:
        """Partition count of ``topic`` (cached a few seconds; refreshed on a miss), else 40401."""
        now = time.monotonic()
        count = self._partitions.get(topic)
        if count is None or now - self._fetched_at > self.metadata_ttl:
            await self._refresh_metadata()
            count = self._partitions.get(topic)
        # A topic created a moment ago may not be in the broker's metadata yet: look again briefly.
        for _ in range(UNKNOWN_TOPIC_RETRIES):
            if count is not None:
                break
            await asyncio.sleep(0.25)
            await self._refresh_metadata()
            count = self._partitions.get(topic)
        if count is None:
            raise ProxyError(404, TOPIC_NOT_FOUND, f"Topic {topic} not found.")
        return count

    async def _refresh_metadata(self) -> None:
        # Concurrent misses share one metadata request.
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.ensure_future(self._do_refresh())
        await asyncio.shield(self._refresh)

    async def _do_refresh(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._partitions = await loop.run_in_executor(None, self._fetch_partitions)
        except KafkaException as exc:
            raise ProxyError(500, KAFKA_ERROR, f"Kafka error: {exc}") from exc
        self._fetched_at = time.monotonic()

    async def topic_names(self) -> list[str]:
        await self._refresh_metadata()
        return sorted(name for name in self._partitions if not name.startswith("__"))

    async def describe(self, topic: str) -> dict[str, Any]:
        """Confluent v2's topic view: name, configs, partitions with replicas."""
        loop = asyncio.get_running_loop()

        def fetch() -> dict[str, Any]:
            metadata = self.admin.list_topics(timeout=self.timeout)
            found = metadata.topics.get(topic)
            if found is None or found.error is not None:
                raise ProxyError(404, TOPIC_NOT_FOUND, f"Topic {topic} not found.")
            resource = ConfigResource("topic", topic)
            entries = self.admin.describe_configs([resource], request_timeout=self.timeout)[resource].result()
            partitions = []
            for pid, part in sorted(found.partitions.items()):
                partitions.append(
                    {
                        "partition": pid,
                        "leader": part.leader,
                        "replicas": [
                            {"broker": r, "leader": r == part.leader, "in_sync": r in part.isrs}
                            for r in part.replicas
                        ],
                    }
                )
            configs = {name: entry.value for name, entry in sorted(entries.items())}
            return {"name": topic, "configs": configs, "partitions": partitions}

        try:
            return await loop.run_in_executor(None, fetch)
        except KafkaException as exc:
            raise ProxyError(500, KAFKA_ERROR, f"Kafka error: {exc}") from exc


def _resolve_all(batch: list[tuple[asyncio.Future[Delivery], Delivery]]) -> None:
    for future, report in batch:
        if not future.done():
            future.set_result(report)
