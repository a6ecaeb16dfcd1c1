"""The stack's services, declared once: ports, start order, timeouts, how to check them.

Pure data: no processes are started here. The project's own Python services
(Schema Registry, REST Proxy) are entries with a ``module`` that is run as
``python -m <module>`` with ``args`` (templates filled from the settings); when
the module is not installed the slot shows as "not provided" and ``up`` skips it.
"""

from __future__ import annotations

import importlib.util
import signal
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from cta_core.ports import Ports
from cta_core.settings import Settings
from cta_core.topics import replication_for
from cta_stack import health
from cta_stack.health import Health


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    #: Field of :class:`cta_core.ports.Ports` with the service's (client-facing) port.
    port_field: str
    check: Callable[[Settings, float], Health]
    #: Other ports it listens on (fields of Ports), checked for conflicts before starting.
    extra_port_fields: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    start_timeout: float = 90.0
    stop_timeout: float = 30.0
    stop_signal: int = signal.SIGTERM
    #: Runs on the JVM (needs Java and the jar cache).
    java: bool = False
    #: Keeps data in the stack directory (data/<name>).
    has_data: bool = False
    #: For the project's Python services: ``python -m module *args``.
    module: str | None = None
    args: tuple[str, ...] = ()
    #: Kafka broker number (1-based) of the local cluster; 0 for other services.
    broker: int = 0

    def port(self, ports: Ports) -> int:
        if self.broker:
            return ports.kafka_broker_ports()[self.broker - 1]
        return int(getattr(ports, self.port_field))

    def all_ports(self, ports: Ports) -> list[int]:
        if self.broker:
            return [self.port(ports), ports.kafka_controller_ports()[self.broker - 1]]
        return [self.port(ports), *(int(getattr(ports, f)) for f in self.extra_port_fields)]

    def provided(self) -> bool:
        """False for a Python slot whose module is not installed (yet)."""
        if self.module is None:
            return True
        try:
            return importlib.util.find_spec(f"{self.module}.__main__") is not None
        except (ImportError, ValueError):
            return False

    def module_argv(self, settings: Settings) -> list[str]:
        if self.module is None:
            raise ValueError(f"{self.name} is not a Python service")
        values = {
            "port": str(self.port(settings.ports)),
            "bootstrap_servers": settings.bootstrap_servers,
            "schema_registry_url": settings.schema_registry_url,
            "replication": str(replication_for(settings.ports.kafka_brokers)[0]),
        }
        return [sys.executable, "-m", self.module, *(a.format(**values) for a in self.args)]


POSTGRES = ServiceSpec(
    "postgres",
    "PostgreSQL",
    "postgres",
    health.postgres,
    start_timeout=60.0,
    stop_timeout=20.0,
    stop_signal=signal.SIGINT,  # "fast" shutdown: does not wait for clients to disconnect
    has_data=True,
)
KAFKA = ServiceSpec(
    "kafka",
    "Kafka",
    "kafka",
    health.kafka,
    extra_port_fields=("kafka_controller",),
    start_timeout=90.0,
    stop_timeout=30.0,
    java=True,
    has_data=True,
    broker=1,
)
SCHEMA_REGISTRY = ServiceSpec(
    "schema-registry",
    "Schema Registry",
    "schema_registry",
    health.schema_registry,
    needs=("kafka",),
    start_timeout=60.0,
    stop_timeout=10.0,
    module="cta_servers.schema_registry",
    args=(
        "--port",
        "{port}",
        "--bootstrap-servers",
        "{bootstrap_servers}",
        "--replication-factor",
        "{replication}",
    ),
)
CONNECT = ServiceSpec(
    "connect",
    "Kafka Connect",
    "connect",
    health.connect,
    needs=("kafka",),
    start_timeout=120.0,
    stop_timeout=20.0,
    java=True,
)
REST_PROXY = ServiceSpec(
    "rest-proxy",
    "REST Proxy",
    "rest_proxy",
    health.rest_proxy,
    needs=("kafka", "schema-registry"),
    start_timeout=60.0,
    stop_timeout=10.0,
    module="cta_servers.rest_proxy",
    args=(
        "--port",
        "{port}",
        "--bootstrap-servers",
        "{bootstrap_servers}",
        "--schema-registry-url",
        "{schema_registry_url}",
    ),
)

#: In start order; ``down`` stops them in reverse.
SERVICES: tuple[ServiceSpec, ...] = (POSTGRES, KAFKA, SCHEMA_REGISTRY, CONNECT, REST_PROXY)
BY_NAME = {s.name: s for s in SERVICES}


def services_for(brokers: int) -> tuple[ServiceSpec, ...]:
    """The services of a stack with ``brokers`` Kafka brokers, in start order: brokers
    2..N (``kafka-2`` ...) come right after ``kafka``, and what needs Kafka needs them all
    (topics with three replicas cannot be created on fewer brokers)."""
    if brokers <= 1:
        return SERVICES
    extra = tuple(
        replace(KAFKA, name=f"kafka-{i}", title=f"Kafka broker {i}", broker=i, check=health.kafka_node(i))
        for i in range(2, brokers + 1)
    )
    all_brokers = (KAFKA.name, *(s.name for s in extra))
    out: list[ServiceSpec] = []
    for spec in SERVICES:
        if spec is KAFKA:
            out += [replace(KAFKA, check=health.kafka_node(1)), *extra]
        elif KAFKA.name in spec.needs:
            needs = tuple(n for n in spec.needs if n != KAFKA.name)
            out.append(replace(spec, needs=(*all_brokers, *needs)))
        else:
            out.append(spec)
    return tuple(out)


def select(
    names: Iterable[str] | None,
    provided: Callable[[ServiceSpec], bool],
    services: tuple[ServiceSpec, ...] = SERVICES,
) -> list[ServiceSpec]:
    """The services to run: ``names`` (all when empty) plus what they need, in start order.

    Unknown names raise ValueError. Slots that are not provided are dropped, and so
    are services needing them (e.g. the REST proxy without a registry).
    """
    by_name = {s.name: s for s in services}
    wanted = set(names or [])
    unknown = wanted - set(by_name)
    if unknown:
        raise ValueError(f"unknown service(s): {', '.join(sorted(unknown))} (known: {', '.join(by_name)})")
    if not wanted:
        wanted = set(by_name)
    closure: set[str] = set()

    def add(name: str) -> None:
        if name in closure:
            return
        closure.add(name)
        for dep in by_name[name].needs:
            add(dep)

    for name in wanted:
        add(name)
    kept: list[ServiceSpec] = []
    available: set[str] = set()
    for spec in services:  # start order: what a service needs comes before it
        if spec.name in closure and provided(spec) and all(d in available for d in spec.needs):
            kept.append(spec)
            available.add(spec.name)
    return kept
