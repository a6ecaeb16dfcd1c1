"""Factories for confluent-kafka clients, configured from :class:`Settings`.

The only module in cta_core that imports confluent_kafka, so the pure parts
stay importable without it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from cta_core.cli_base import LIBRDKAFKA_LOGGER
from cta_core.errors import ServiceUnavailable
from cta_core.settings import Settings
from cta_core.topics import SPECS, TopicSpec, replication_for

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import SchemaRegistryClient

#: Producer defaults for event streams: no loss, no duplicates, batched.
RELIABLE_PRODUCER: dict[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "compression.type": "lz4",
    "linger.ms": 20,
    "batch.size": 262144,
}


def _logged(extra: dict[str, Any]) -> dict[str, Any]:
    """librdkafka's log lines through a Python logger (``cta.librdkafka``), never straight
    to stderr: a command shows them from ``-v`` on, a dashboard gives its own logger."""
    return {"logger": logging.getLogger(LIBRDKAFKA_LOGGER), **extra}


def make_producer(settings: Settings, **extra: Any) -> Producer:
    conf = settings.librdkafka(**_logged({**RELIABLE_PRODUCER, **extra}))
    return Producer(conf)


def make_consumer(settings: Settings, group_id: str, **extra: Any) -> Consumer:
    """A consumer; callers decide about commits (the dashboard never commits)."""
    conf = settings.librdkafka(
        **_logged(
            {"group.id": group_id, "auto.offset.reset": "earliest", "enable.auto.commit": False, **extra}
        )
    )
    return Consumer(conf)


def make_admin(settings: Settings, **extra: Any) -> AdminClient:
    return AdminClient(settings.librdkafka(**_logged(extra)))


def make_registry_client(settings: Settings) -> SchemaRegistryClient:
    # imported here: the registry client pulls in authlib and cryptography (~20 MB)
    from confluent_kafka.schema_registry import SchemaRegistryClient

    return SchemaRegistryClient(settings.registry_conf())


def register_key_value(
    registry: SchemaRegistryClient, url: str, subject: str, key_schema: str, value_schema: str
) -> tuple[int, int]:
    """Register the packaged Avro schemas ``key_schema`` / ``value_schema`` (names in
    :mod:`cta_core.schemas`) under ``<subject>-key`` / ``<subject>-value``; their ids.

    A registry that does not answer raises :class:`ServiceUnavailable` naming ``url``; a
    registry that refuses a schema (an HTTP status) raises the client's own error."""
    from confluent_kafka.schema_registry import Schema

    from cta_core.schemas import schema_text

    try:
        key_id = registry.register_schema(f"{subject}-key", Schema(schema_text(key_schema), "AVRO"))
        value_id = registry.register_schema(f"{subject}-value", Schema(schema_text(value_schema), "AVRO"))
    except Exception as exc:  # the client raises its own errors and httpx's
        status = getattr(exc, "http_status_code", None)
        if type(exc).__name__ == "SchemaRegistryError" and status not in (-1, None, 0):
            raise
        raise ServiceUnavailable("Schema Registry", url, cause=str(exc).splitlines()[0][:200]) from exc
    return key_id, value_id


def kafka_cause(exc: KafkaException) -> str:
    """A KafkaException's text without its wrapping (``Failed to get metadata: ...``)."""
    err = exc.args[0] if exc.args else exc
    return str(err.str()) if hasattr(err, "str") else str(err)


def wait_for_broker(settings: Settings, timeout: float = 15.0) -> AdminClient:
    """Return an admin client once the broker answers metadata, or raise
    :class:`ServiceUnavailable` naming the bootstrap servers after ``timeout``."""
    admin = make_admin(settings)
    deadline = time.monotonic() + timeout
    last: str | None = None
    while True:
        remaining = deadline - time.monotonic()
        try:
            admin.list_topics(timeout=max(0.5, min(5.0, remaining)))
            return admin
        except KafkaException as exc:
            last = kafka_cause(exc)
        if time.monotonic() >= deadline:
            raise ServiceUnavailable("Kafka", settings.bootstrap_servers, cause=last)
        time.sleep(0.2)


def ensure_topics(
    admin: AdminClient,
    specs: Iterable[TopicSpec],
    *,
    partitions: int | None = None,
    replication: int | None = None,
    timeout: float = 15.0,
) -> list[str]:
    """Create the topics that are missing; return the names created. Idempotent.

    ``replication`` None: as :func:`cta_core.topics.replication_for` the cluster's
    broker count (three copies and ``min.insync.replicas=2`` on three brokers or more).
    """
    metadata = admin.list_topics(timeout=timeout)
    existing = set(metadata.topics)
    rf, durability = replication_for(len(metadata.brokers))
    if replication is not None:
        rf, durability = replication, {}
    wanted = [
        NewTopic(
            s.name,
            num_partitions=partitions if partitions and not s.compacted else s.partitions,
            replication_factor=rf,
            config={**durability, **s.topic_config()},
        )
        for s in specs
        if s.name not in existing
    ]
    if not wanted:
        return []
    created: list[str] = []
    for name, future in admin.create_topics(wanted, request_timeout=timeout).items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            err = exc.args[0]
            if getattr(err, "name", lambda: "")() != "TOPIC_ALREADY_EXISTS":
                raise
    return created


def spec_for(name: str) -> TopicSpec:
    return SPECS.get(name, TopicSpec(name))
