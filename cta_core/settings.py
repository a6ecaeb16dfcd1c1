"""Typed connection settings shared by every command.

Precedence, highest first:

1. a command-line flag (``--bootstrap-servers``, ``--schema-registry-url`` ...);
2. a ``CTA_*`` environment variable (the flags declare them with ``envvar=``);
3. the client config file (``--client-config FILE`` / ``CTA_CLIENT_CONFIG``, Kafka's
   properties format, :mod:`cta_core.client_config`): bootstrap servers, SASL/TLS, the
   registry's and the REST Proxy's URLs, credentials and CA;
4. the default: the local stack's ports on 127.0.0.1 (``CTA_<SERVICE>_PORT``
   moves a port, see :mod:`cta_core.ports`).

librdkafka settings with no flag of their own are passed through with
``-X key=value`` (repeatable) or ``CTA_KAFKA_CONFIG="key=value,key=value"``;
they are applied last, over anything derived from the typed settings.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cta_core.client_config import ClientConfig, http_auth, http_verify, masked_items, read_client_config
from cta_core.ports import LOCALHOST, Ports

#: Local development defaults (the course project's names), documented in the README.
DEV_DB_NAME = "cta"
DEV_DB_USER = "cta_admin"
DEV_DB_PASSWORD = "chicago"


#: File in the stack directory recording how many brokers the local cluster has (written by
#: ``cta-stack up --brokers N``), so every client there gets the full bootstrap list.
BROKERS_FILE = "kafka-brokers"


def recorded_brokers(stack_dir: Path) -> int | None:
    """The broker count ``cta-stack up`` recorded in ``stack_dir``, if any."""
    try:
        value = int((stack_dir / BROKERS_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    return value if value >= 1 else None


def default_postgres_dsn(port: int) -> str:
    return f"postgresql://{DEV_DB_USER}:{DEV_DB_PASSWORD}@{LOCALHOST}:{port}/{DEV_DB_NAME}"


def parse_kafka_config(items: Iterable[str], *, split_commas: bool = False) -> dict[str, str]:
    """Parse ``key=value`` pass-through items; raise ValueError naming a bad one.

    ``-X`` flags carry one pair each (a value may contain commas, as in
    ``debug=broker,topic``); the environment variable separates pairs by commas.
    """
    out: dict[str, str] = {}
    for item in items:
        parts = item.split(",") if split_commas else [item]
        for part in parts:
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"expected key=value, got {part!r}")
            out[key.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class Settings:
    """Where the services are and how to talk to them."""

    bootstrap_servers: str
    schema_registry_url: str
    rest_proxy_url: str
    connect_url: str
    ksql_url: str
    postgres_dsn: str
    #: True when CTA_POSTGRES_DSN (or a flag) names an existing server.
    external_postgres: bool = False
    security_protocol: str | None = None
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_ca_location: str | None = None
    #: ``user:password`` for the Schema Registry (Confluent Cloud style).
    registry_auth: str | None = field(default=None, repr=False)
    kafka_config: dict[str, str] = field(default_factory=dict, repr=False)
    #: the client config file these settings were read with (passed on to child processes)
    client_config: Path | None = None
    #: the CA the registry's TLS certificate is checked against (else ``ssl_ca_location``)
    registry_ca: str | None = None
    #: ``user:password`` for the REST Proxy, and its CA
    rest_proxy_auth: str | None = field(default=None, repr=False)
    rest_proxy_ca: str | None = None
    #: librdkafka settings of the client config file without a field of their own
    #: (applied first: every typed setting and ``-X`` win over them)
    file_kafka: dict[str, str] = field(default_factory=dict, repr=False)
    stack_dir: Path = Path(".cta-stack")
    ports: Ports = field(default_factory=Ports)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``CTA_*`` variables; non-None ``overrides`` win."""
        env = os.environ if env is None else env
        ports = Ports.from_env(env)

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value else None

        path = overrides.get("client_config") or get("CTA_CLIENT_CONFIG")
        cfg = read_client_config(path) if path else ClientConfig(path="")
        file_kafka = dict(cfg.kafka)

        def kafka_key(var: str, key: str) -> str | None:
            from_file = file_kafka.pop(key, None)
            return get(var) or from_file

        dsn = get("CTA_POSTGRES_DSN")
        stack_dir = Path(overrides.get("stack_dir") or get("CTA_STACK_DIR") or ".cta-stack")
        if not get("CTA_KAFKA_BROKERS"):
            ports = replace(ports, kafka_brokers=recorded_brokers(stack_dir) or 1)
        settings = cls(
            bootstrap_servers=kafka_key("CTA_BOOTSTRAP_SERVERS", "bootstrap.servers")
            or ports.bootstrap_servers(),
            schema_registry_url=get("CTA_SCHEMA_REGISTRY_URL")
            or cfg.registry_url
            or f"http://{LOCALHOST}:{ports.schema_registry}",
            rest_proxy_url=get("CTA_REST_PROXY_URL")
            or cfg.rest_proxy_url
            or f"http://{LOCALHOST}:{ports.rest_proxy}",
            connect_url=get("CTA_CONNECT_URL") or f"http://{LOCALHOST}:{ports.connect}",
            ksql_url=get("CTA_KSQL_URL") or f"http://{LOCALHOST}:{ports.ksql}",
            postgres_dsn=dsn or default_postgres_dsn(ports.postgres),
            external_postgres=dsn is not None,
            security_protocol=kafka_key("CTA_SECURITY_PROTOCOL", "security.protocol"),
            sasl_mechanism=kafka_key("CTA_SASL_MECHANISM", "sasl.mechanism"),
            sasl_username=kafka_key("CTA_SASL_USERNAME", "sasl.username"),
            sasl_password=kafka_key("CTA_SASL_PASSWORD", "sasl.password"),
            ssl_ca_location=kafka_key("CTA_SSL_CA_LOCATION", "ssl.ca.location"),
            registry_auth=get("CTA_SCHEMA_REGISTRY_AUTH") or cfg.registry_auth,
            kafka_config=parse_kafka_config([env.get("CTA_KAFKA_CONFIG", "")], split_commas=True),
            client_config=Path(path) if path else None,
            registry_ca=cfg.registry_ca,
            rest_proxy_auth=cfg.rest_proxy_auth,
            rest_proxy_ca=cfg.rest_proxy_ca,
            file_kafka=file_kafka,
            stack_dir=Path(get("CTA_STACK_DIR") or ".cta-stack"),
            ports=ports,
        )
        return settings.with_overrides(**{k: v for k, v in overrides.items() if k != "client_config"})

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with every non-None override applied (flags over environment)."""
        changes = {k: v for k, v in overrides.items() if v is not None}
        if "postgres_dsn" in changes:
            changes.setdefault("external_postgres", True)
        if "kafka_config" in changes:
            changes["kafka_config"] = {**self.kafka_config, **changes["kafka_config"]}
        return replace(self, **changes)

    def librdkafka(self, **extra: Any) -> dict[str, Any]:
        """librdkafka configuration: connection and security, then ``extra``,
        then the pass-through settings (which win)."""
        conf: dict[str, Any] = {**self.file_kafka, "bootstrap.servers": self.bootstrap_servers}
        if self.security_protocol:
            conf["security.protocol"] = self.security_protocol
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username:
            conf["sasl.username"] = self.sasl_username
        if self.sasl_password:
            conf["sasl.password"] = self.sasl_password
        if self.ssl_ca_location:
            conf["ssl.ca.location"] = self.ssl_ca_location
        conf.update(extra)
        conf.update(self.kafka_config)
        return conf

    def registry_conf(self) -> dict[str, Any]:
        """Configuration for confluent-kafka's SchemaRegistryClient."""
        conf: dict[str, Any] = {"url": self.schema_registry_url}
        if self.registry_auth:
            conf["basic.auth.user.info"] = self.registry_auth
        ca = self.registry_ca or self.ssl_ca_location
        if ca and self.schema_registry_url.startswith("https"):
            conf["ssl.ca.location"] = ca
        return conf

    def registry_http(self) -> dict[str, Any]:
        """httpx keyword arguments (``auth``, ``verify``) for the Schema Registry."""
        ca = self.registry_ca or self.ssl_ca_location
        return http_kwargs(self.registry_auth, ca if self.schema_registry_url.startswith("https") else None)

    def rest_proxy_http(self) -> dict[str, Any]:
        """httpx keyword arguments (``auth``, ``verify``) for the REST Proxy."""
        ca = self.rest_proxy_ca or self.ssl_ca_location
        return http_kwargs(
            self.rest_proxy_auth or self.registry_auth,
            ca if self.rest_proxy_url.startswith("https") else None,
        )

    def kafka_principal(self) -> str:
        """Who these settings are to Kafka: ``User:<name>``, or ``ANONYMOUS``."""
        return f"User:{self.sasl_username}" if self.sasl_username else "ANONYMOUS"

    def redacted(self) -> dict[str, Any]:
        """For logs and ``--help`` output: secrets replaced."""
        out = {k: v for k, v in self.__dict__.items()}
        for key in ("sasl_password", "registry_auth", "rest_proxy_auth"):
            if out.get(key):
                out[key] = "***"
        out["kafka_config"] = masked_items(self.kafka_config)
        out["file_kafka"] = masked_items(self.file_kafka)
        return out


def http_kwargs(user_info: str | None, ca: str | None) -> dict[str, Any]:
    """httpx's ``auth`` (basic, from ``user:password``) and ``verify`` (a context trusting
    ``ca``) for one HTTP service; empty for a plain local one."""
    out: dict[str, Any] = {}
    auth = http_auth(user_info)
    if auth is not None:
        out["auth"] = auth
    if ca:
        out["verify"] = http_verify(ca)
    return out
