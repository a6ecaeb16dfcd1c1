"""Real health checks: each asks the service to do something, not just accept a connection."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, replace

import httpx

from cta_core.ports import LOCALHOST
from cta_core.settings import Settings
from cta_stack.connect import DEBEZIUM_POSTGRES


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str = ""


def kafka(settings: Settings, timeout: float = 2.0) -> Health:
    """The broker answers a metadata request and reports at least one broker."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    # log_level 0: no librdkafka connection-refused noise while the broker starts.
    admin = AdminClient(settings.librdkafka(**{"log_level": 0, "socket.connection.setup.timeout.ms": 1000}))
    try:
        meta = admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        return Health(False, str(exc.args[0]) if exc.args else str(exc))
    if not meta.brokers:
        return Health(False, "no brokers in metadata")
    return Health(True, f"{len(meta.brokers)} broker(s), {len(meta.topics)} topic(s)")


def kafka_node(node: int) -> Callable[[Settings, float], Health]:
    """The check of broker ``node`` of the local cluster: asked through its own port only
    (with several brokers another one would answer for a dead one)."""

    def check(settings: Settings, timeout: float = 2.0) -> Health:
        port = settings.ports.kafka_broker_ports()[node - 1]
        return kafka(replace(settings, bootstrap_servers=f"{LOCALHOST}:{port}"), timeout)

    return check


def http_get(url: str, timeout: float = 2.0, settings: Settings | None = None) -> httpx.Response | Health:
    """GET ``url``; with ``settings``, as their registry user (basic auth) and trusting their CA."""
    auth: tuple[str, str] | None = None
    verify: ssl.SSLContext | bool = True
    if settings is not None and settings.registry_auth:
        user, _, password = settings.registry_auth.partition(":")
        auth = (user, password)
    if settings is not None and settings.ssl_ca_location and url.startswith("https"):
        verify = ssl.create_default_context(cafile=settings.ssl_ca_location)
    try:
        return httpx.get(url, timeout=timeout, auth=auth, verify=verify)
    except httpx.HTTPError as exc:
        return Health(False, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def http_ok(url: str, timeout: float = 2.0, settings: Settings | None = None) -> Health:
    resp = http_get(url, timeout, settings)
    if isinstance(resp, Health):
        return resp
    if resp.status_code != 200:
        return Health(False, f"GET {url} -> {resp.status_code}")
    return Health(True, f"GET {url} -> 200")


def connect(settings: Settings, timeout: float = 2.0) -> Health:
    """Connect lists its plugins, the Debezium PostgreSQL connector among them."""
    url = settings.connect_url.rstrip("/") + "/connector-plugins"
    resp = http_get(url, timeout)
    if isinstance(resp, Health):
        return resp
    if resp.status_code != 200:
        return Health(False, f"GET {url} -> {resp.status_code}")
    try:
        classes = {p.get("class") for p in resp.json()}
    except ValueError:
        return Health(False, f"GET {url}: not JSON")
    if DEBEZIUM_POSTGRES not in classes:
        return Health(False, f"{DEBEZIUM_POSTGRES} not among {len(classes)} plugins")
    return Health(True, f"{len(classes)} connector plugin(s) incl. Debezium PostgreSQL")


def postgres(settings: Settings, timeout: float = 2.0) -> Health:
    """PostgreSQL answers a query over TCP with the configured credentials."""
    import psycopg

    try:
        with psycopg.connect(settings.postgres_dsn, connect_timeout=max(1, int(timeout))) as conn:
            row = conn.execute("SHOW wal_level").fetchone()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Health(False, first)
    wal_level = row[0] if row else "?"
    return Health(True, f"wal_level={wal_level}")


def schema_registry(settings: Settings, timeout: float = 2.0) -> Health:
    return http_ok(settings.schema_registry_url.rstrip("/") + "/subjects", timeout, settings)


def rest_proxy(settings: Settings, timeout: float = 2.0) -> Health:
    return http_ok(settings.rest_proxy_url.rstrip("/") + "/topics", timeout, settings)
