"""Our own Schema Registry and REST Proxy processes, on spare ports, against the
shared Kafka, with a store topic of their own, so tests that stop them never
disturb the shared services."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from cta_core.settings import Settings
from cta_stack.service_process import ServiceProcess, registry_process, rest_proxy_process


@pytest.fixture(scope="session")
def bootstrap(stack: Settings) -> str:
    """The shared stack's Kafka (the ``stack`` fixture starts the stack when it is down)."""
    return stack.bootstrap_servers


@pytest.fixture(scope="session")
def service_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service-logs")


@pytest.fixture(scope="session")
def own_registry(bootstrap: str, service_logs: Path) -> Iterator[ServiceProcess]:
    topic = f"_schemas_test_{uuid.uuid4().hex[:8]}"
    proc = registry_process(bootstrap, topic, service_logs / "own_registry.log").start()
    yield proc
    proc.stop()
    AdminClient({"bootstrap.servers": bootstrap}).delete_topics([topic])


@pytest.fixture(scope="session")
def own_rest_proxy(
    bootstrap: str, own_registry: ServiceProcess, service_logs: Path
) -> Iterator[ServiceProcess]:
    proc = rest_proxy_process(bootstrap, own_registry.url, service_logs / "rest-proxy.log").start()
    yield proc
    proc.stop()


@pytest.fixture
def topic_factory(bootstrap: str) -> Iterator[Callable[..., str]]:
    """Creates uniquely named topics and deletes them afterwards."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    created: list[str] = []

    def make(partitions: int = 1) -> str:
        name = f"cta-test-{uuid.uuid4().hex[:10]}"
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])[name].result()
        created.append(name)
        return name

    yield make
    if created:
        admin.delete_topics(created)
