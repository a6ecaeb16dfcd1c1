"""Default ports of every service, one place for each (see docs/architecture.md).

The local stack and docker-compose.yaml use the same host ports. Each can be moved
with an environment variable (``CTA_<SERVICE>_PORT``), which both the stack and
the clients' default URLs honour.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

KAFKA = 9092
KAFKA_CONTROLLER = 9093
SCHEMA_REGISTRY = 8081
REST_PROXY = 8082
CONNECT = 8083
KSQL = 8088
POSTGRES = 5432
SSH = 2222

#: Web UIs of docker-compose.yaml only (the local stack has none); the course
#: project's ports.
CONNECT_UI = 8084
TOPICS_UI = 8085
SCHEMA_REGISTRY_UI = 8086

LOCALHOST = "127.0.0.1"

#: A local cluster of several brokers (``cta-stack up --brokers 3``): broker *i* (1-based)
#: listens on ``kafka + STEP*(i-1)`` and its controller on ``kafka_controller + STEP*(i-1)``
#: (9092/9093, 9102/9103, 9112/9113 by default).
BROKER_PORT_STEP = 10
MAX_BROKERS = 5


@dataclass(frozen=True)
class Ports:
    """The ports in effect, after environment overrides."""

    kafka: int = KAFKA
    kafka_controller: int = KAFKA_CONTROLLER
    schema_registry: int = SCHEMA_REGISTRY
    rest_proxy: int = REST_PROXY
    connect: int = CONNECT
    ksql: int = KSQL
    postgres: int = POSTGRES
    #: Brokers of the local cluster (``CTA_KAFKA_BROKERS``; ``cta-stack up --brokers N``).
    kafka_brokers: int = 1

    def kafka_broker_ports(self) -> list[int]:
        """The client port of each local broker, broker 1 first."""
        return [self.kafka + BROKER_PORT_STEP * i for i in range(self.kafka_brokers)]

    def kafka_controller_ports(self) -> list[int]:
        """The controller port of each local broker (every broker is a KRaft voter)."""
        return [self.kafka_controller + BROKER_PORT_STEP * i for i in range(self.kafka_brokers)]

    def bootstrap_servers(self) -> str:
        """Every local broker, so a client starts even when one of them is down."""
        return ",".join(f"{LOCALHOST}:{port}" for port in self.kafka_broker_ports())

    def to_env(self) -> dict[str, str]:
        """The ``CTA_<SERVICE>_PORT`` variables (and ``CTA_KAFKA_BROKERS``) that
        :meth:`from_env` reads back as these ports."""
        return {
            "CTA_KAFKA_PORT": str(self.kafka),
            "CTA_KAFKA_CONTROLLER_PORT": str(self.kafka_controller),
            "CTA_SCHEMA_REGISTRY_PORT": str(self.schema_registry),
            "CTA_REST_PROXY_PORT": str(self.rest_proxy),
            "CTA_CONNECT_PORT": str(self.connect),
            "CTA_KSQL_PORT": str(self.ksql),
            "CTA_POSTGRES_PORT": str(self.postgres),
            "CTA_KAFKA_BROKERS": str(self.kafka_brokers),
        }

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Ports:
        env = os.environ if env is None else env

        def pick(name: str, default: int) -> int:
            raw = env.get(f"CTA_{name}_PORT")
            if raw is None or raw == "":
                return default
            try:
                port = int(raw)
            except ValueError:
                raise ValueError(f"CTA_{name}_PORT must be a port number, got {raw!r}") from None
            if not 0 < port < 65536:
                raise ValueError(f"CTA_{name}_PORT out of range: {port}")
            return port

        brokers = env.get("CTA_KAFKA_BROKERS")
        count = 1
        if brokers:
            try:
                count = int(brokers)
            except ValueError:
                raise ValueError(f"CTA_KAFKA_BROKERS must be a number, got {brokers!r}") from None
            if not 1 <= count <= MAX_BROKERS:
                raise ValueError(f"CTA_KAFKA_BROKERS must be 1 to {MAX_BROKERS}, got {count}")
        return cls(
            kafka_brokers=count,
            kafka=pick("KAFKA", KAFKA),
            kafka_controller=pick("KAFKA_CONTROLLER", KAFKA_CONTROLLER),
            schema_registry=pick("SCHEMA_REGISTRY", SCHEMA_REGISTRY),
            rest_proxy=pick("REST_PROXY", REST_PROXY),
            connect=pick("CONNECT", CONNECT),
            ksql=pick("KSQL", KSQL),
            postgres=pick("POSTGRES", POSTGRES),
        )
