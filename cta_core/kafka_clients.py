"""Factories for confluent-kafka clients, configured from :class:`Settings`.

The only module in cta_core that imports confluent_kafka, so the pure parts
stay importable without it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from cta_core import refusals
from cta_core.cli_base import LIBRDKAFKA_LOGGER
from cta_core.client_config import MASK, ClientConfig, ClientConfigError, is_secret
from cta_core.errors import CtaError, Refused, ServiceUnavailable
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


log = logging.getLogger("cta_core.kafka")
#: a connection the broker closed right after it was made (ms in state UP / ApiVersion)
_CLOSED_AT_ONCE = re.compile(r"connection closed by peer.*\(after \d{1,3}ms in state (UP|APIVERSION_QUERY)\)")
#: connections closed at once before an anonymous client counts as refused
ANONYMOUS_CLOSES = 3
#: the authentication refusal each bootstrap list gave this process (one line each)
_REFUSED: dict[str, str] = {}


class ClientWatch:
    """What a client's librdkafka says, watched for refusals: passed as its ``logger``
    (each line goes on to ``cta.librdkafka``) and its ``error_cb``. A failed SASL
    authentication is logged once as the one-line refusal and recorded for
    :func:`raise_if_refused`; connections the broker closes at once are counted (an
    anonymous client at a listener that needs credentials)."""

    def __init__(self, settings: Settings, logger: logging.Logger | None = None) -> None:
        self.servers = settings.bootstrap_servers
        self.principal = settings.kafka_principal()
        self.mechanism = settings.sasl_mechanism
        self.logger = logger or logging.getLogger(LIBRDKAFKA_LOGGER)
        self.closed_by_peer = 0
        self.anonymous = not settings.sasl_username
        #: lines below this (Python) level are watched but not passed on: a client asked
        #: for a quieter ``log_level`` than the watch needs (see :func:`_client_conf`)
        self.forward_from = logging.DEBUG

    def log(self, level: int, fmt: str, *args: Any) -> None:
        if level >= self.forward_from:
            self.logger.log(level, fmt, *args)
        text = fmt % args if args else fmt
        if "SASL authentication error" in text or "Authentication failed" in text:
            self.refused()
        elif _CLOSED_AT_ONCE.search(text):
            self.closed_by_peer += 1
            if self.anonymous and self.closed_by_peer >= ANONYMOUS_CLOSES:
                _REFUSED.setdefault(self.servers, refusals.anonymous_message(self.servers))

    def error(self, err: KafkaError) -> None:
        if err.name() in refusals.AUTHENTICATION_ERRORS:
            self.refused()
        else:
            self.logger.debug("client error: %s", err.str())

    def refused(self) -> None:
        if self.servers not in _REFUSED:
            line = refusals.authentication_message(self.servers, self.principal, self.mechanism)
            _REFUSED[self.servers] = line
            log.error("%s", line)


def refused(settings: Settings) -> str | None:
    """The authentication refusal these settings' servers gave this process, if any."""
    return _REFUSED.get(settings.bootstrap_servers)


def raise_if_refused(settings: Settings) -> None:
    """Raise :class:`Refused` once a client of ``settings`` failed to authenticate
    (a long-running job calls this as it waits, so it stops instead of retrying)."""
    line = refused(settings)
    if line is not None:
        raise Refused(line)


def unavailable(settings: Settings, cause: str | None) -> CtaError:
    """What a failed metadata call means: the refusal these servers gave (credentials), or
    :class:`ServiceUnavailable` naming them."""
    line = refused(settings)
    return Refused(line) if line else ServiceUnavailable("Kafka", settings.bootstrap_servers, cause=cause)


def refusal(
    err: KafkaError | None, settings: Settings, operation: str, name: str | None, group: str | None = None
) -> Refused | None:
    """The one-line :class:`Refused` for an authorization (or authentication) error
    ``err`` met doing ``operation`` (READ, WRITE, CREATE ...) on topic ``name`` (a
    consumer's ``group``); None for any other error."""
    if err is None:
        return None
    code = refusals.error_name(err.name())
    if code is None:
        return None
    if code in refusals.AUTHENTICATION_ERRORS:
        principal = settings.kafka_principal()
        return Refused(
            refusals.authentication_message(settings.bootstrap_servers, principal, settings.sasl_mechanism)
        )
    kind = refusals.AUTHORIZATION_ERRORS[code]
    what = {"topic": name, "group": group}.get(kind, settings.kafka_config.get("transactional.id"))
    operation = refusals.operation_for(kind, operation)
    return Refused(refusals.authorization_message(settings.kafka_principal(), operation, kind, what, code))


#: librdkafka's syslog levels as Python's (as confluent-kafka passes them to a logger)
_PY_LEVELS = {
    0: logging.CRITICAL,
    1: logging.CRITICAL,
    2: logging.CRITICAL,
    3: logging.ERROR,
    4: logging.WARNING,
}
#: the least librdkafka log level the watch needs: connections closed at once are level 4
WATCH_LOG_LEVEL = 4


def _client_conf(
    settings: Settings, extra: dict[str, Any], watch: ClientWatch | None = None
) -> dict[str, Any]:
    """librdkafka's configuration with its log lines through a Python logger
    (``cta.librdkafka``), never straight to stderr: a command shows them from ``-v`` on, a
    dashboard gives its own logger. A caller's own ``logger`` is kept and watched the same
    way (:class:`ClientWatch`); a quieter ``log_level`` asked for is honoured by the watch,
    which still sees the lines that tell a refusal."""
    watch = watch or ClientWatch(settings, extra.pop("logger", None))
    conf = settings.librdkafka(**{"logger": watch, **extra})
    conf.setdefault("error_cb", watch.error)
    requested = int(conf.get("log_level", 6))
    if requested < WATCH_LOG_LEVEL:
        watch.forward_from = _PY_LEVELS.get(requested, logging.DEBUG) + 1
        conf["log_level"] = WATCH_LOG_LEVEL
    return conf


def make_producer(settings: Settings, **extra: Any) -> Producer:
    return Producer(_client_conf(settings, {**RELIABLE_PRODUCER, **extra}))


def make_consumer(settings: Settings, group_id: str, **extra: Any) -> Consumer:
    """A consumer; callers decide about commits (the dashboard never commits)."""
    base = {"group.id": group_id, "auto.offset.reset": "earliest", "enable.auto.commit": False}
    return Consumer(_client_conf(settings, {**base, **extra}))


class CtaAdmin(AdminClient):
    """An admin client that knows its settings (who it is, for refusals)."""

    def __init__(self, settings: Settings, conf: dict[str, Any]) -> None:
        super().__init__(conf)
        self.settings = settings


def admin_settings(admin: AdminClient) -> Settings | None:
    return admin.settings if isinstance(admin, CtaAdmin) else None


def make_admin(settings: Settings, **extra: Any) -> AdminClient:
    return CtaAdmin(settings, _client_conf(settings, extra))


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
        if status in (401, 403):
            user = getattr(registry, "_rest_client", None)
            raise Refused(
                refusals.http_message("Schema Registry", url, _registry_user(user), status)
            ) from None
        if type(exc).__name__ == "SchemaRegistryError" and status not in (-1, None, 0):
            raise
        raise ServiceUnavailable("Schema Registry", url, cause=str(exc).splitlines()[0][:200]) from exc
    return key_id, value_id


def check_client_config(cfg: ClientConfig) -> None:
    """ClientConfigError naming the line of a librdkafka key or value librdkafka refuses
    (a client is made without bootstrap servers, so it connects nowhere)."""
    conf = {k: v for k, v in cfg.kafka.items() if k != "bootstrap.servers"}
    try:
        Producer({**conf, "logger": logging.getLogger(LIBRDKAFKA_LOGGER)})
    except KafkaException as exc:
        text = kafka_cause(exc)
        key = next((k for k in sorted(conf, key=len, reverse=True) if k in text), None)
        for secret in (v for k, v in conf.items() if is_secret(k) and v):
            text = text.replace(secret, MASK)
        raise ClientConfigError(cfg.path, cfg.lines.get(key or "", None), text) from None


def _registry_user(rest_client: Any) -> str | None:
    """The basic-auth user a SchemaRegistryClient sends (None without one)."""
    auth = getattr(rest_client, "auth", None)
    return auth[0] if isinstance(auth, tuple) and auth else None


def kafka_cause(exc: KafkaException) -> str:
    """A KafkaException's text without its wrapping (``Failed to get metadata: ...``)."""
    err = exc.args[0] if exc.args else exc
    return str(err.str()) if hasattr(err, "str") else str(err)


#: seconds of connections closed at once before an anonymous client is told it was refused
ANONYMOUS_REFUSED_AFTER = 3.0


def wait_for_broker(settings: Settings, timeout: float = 15.0) -> AdminClient:
    """Return an admin client once the broker answers metadata, or raise
    :class:`ServiceUnavailable` naming the bootstrap servers after ``timeout``, or
    :class:`Refused` as soon as the broker refuses these credentials (or, for a client
    without any, closed its connections for a few seconds)."""
    watch = ClientWatch(settings)
    admin = CtaAdmin(settings, _client_conf(settings, {}, watch))
    started = time.monotonic()
    deadline = started + timeout
    last: str | None = None
    while True:
        remaining = deadline - time.monotonic()
        try:
            admin.list_topics(timeout=max(0.5, min(5.0, remaining)))
            return admin
        except KafkaException as exc:
            last = kafka_cause(exc)
        admin.poll(0.1)  # serves the log lines and errors that say why (ClientWatch)
        raise_if_refused(settings)
        anonymous = not settings.sasl_username and watch.closed_by_peer >= 2
        if anonymous and time.monotonic() - started >= min(timeout, ANONYMOUS_REFUSED_AFTER):
            raise Refused(refusals.anonymous_message(settings.bootstrap_servers))
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
            if getattr(err, "name", lambda: "")() == "TOPIC_ALREADY_EXISTS":
                continue
            settings = admin_settings(admin)
            refused_by = refusal(err, settings, "CREATE", name) if settings is not None else None
            if refused_by is not None:
                raise refused_by from None
            raise
    return created


def spec_for(name: str) -> TopicSpec:
    return SPECS.get(name, TopicSpec(name))
