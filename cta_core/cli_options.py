"""Click options shared by every console script, so that each setting has one
flag, one environment variable and one documented default everywhere."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from cta_core.settings import Settings, parse_kafka_config

F = TypeVar("F", bound=Callable[..., Any])


def _defaults() -> Settings:
    """What an unset flag means, as ``--help`` shows it: the built-in defaults with the
    local stack's ports where ``CTA_<SVC>_PORT`` moves them (the other ``CTA_*`` settings
    are shown as environment variables). A malformed port variable is reported when the
    command runs, not here."""
    ports = {k: v for k, v in os.environ.items() if k.startswith("CTA_") and k.endswith("_PORT")}
    try:
        return Settings.from_env(ports)
    except ValueError:
        return Settings.from_env({})


#: (flag, Settings field, environment variable, help)
_CONNECTION_OPTIONS: list[tuple[str, str, str, str]] = [
    ("--bootstrap-servers", "bootstrap_servers", "CTA_BOOTSTRAP_SERVERS", "Kafka bootstrap servers."),
    ("--schema-registry-url", "schema_registry_url", "CTA_SCHEMA_REGISTRY_URL", "Schema Registry URL."),
    ("--rest-proxy-url", "rest_proxy_url", "CTA_REST_PROXY_URL", "Kafka REST Proxy URL."),
    ("--connect-url", "connect_url", "CTA_CONNECT_URL", "Kafka Connect REST URL."),
    ("--ksql-url", "ksql_url", "CTA_KSQL_URL", "ksqlDB server URL."),
    ("--postgres-dsn", "postgres_dsn", "CTA_POSTGRES_DSN", "PostgreSQL DSN (default: the local stack's)."),
    (
        "--security-protocol",
        "security_protocol",
        "CTA_SECURITY_PROTOCOL",
        "Kafka security.protocol (SASL_SSL, ...).",
    ),
    (
        "--sasl-mechanism",
        "sasl_mechanism",
        "CTA_SASL_MECHANISM",
        "Kafka sasl.mechanism (PLAIN, SCRAM-SHA-512, ...).",
    ),
    ("--sasl-username", "sasl_username", "CTA_SASL_USERNAME", "Kafka SASL user name."),
    ("--sasl-password", "sasl_password", "CTA_SASL_PASSWORD", "Kafka SASL password."),
    ("--ssl-ca-location", "ssl_ca_location", "CTA_SSL_CA_LOCATION", "CA certificate file for TLS."),
]


def _validate_kafka_config(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> dict[str, str]:
    try:
        return parse_kafka_config(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def connection_options(func: F) -> F:
    """Add the connection flags and ``-c key=value`` to a click command.

    The command receives them as keyword arguments; pass them to
    :func:`settings_from_options`.
    """
    func = click.option(
        "-c",
        "--kafka-config",
        "kafka_config",
        multiple=True,
        metavar="KEY=VALUE",
        callback=_validate_kafka_config,
        help="librdkafka setting passed through (repeatable); applied last. "
        "CTA_KAFKA_CONFIG takes comma-separated pairs.",
    )(func)
    defaults = _defaults()
    for flag, field_name, envvar, text in reversed(_CONNECTION_OPTIONS):
        default = getattr(defaults, field_name)
        shown: bool | str = False
        if default and field_name not in ("sasl_password",):
            shown = str(default)
        func = click.option(
            flag,
            field_name,
            envvar=envvar,
            show_envvar=True,
            default=None,
            show_default=shown,
            help=text,
        )(func)
    return func


def settings_from_options(options: dict[str, Any]) -> Settings:
    """Settings from the environment with the given flag values on top.

    click has already resolved flag-over-environment for each option; values
    that are None fall back to :meth:`Settings.from_env`.
    """
    fields = {name for _, name, _, _ in _CONNECTION_OPTIONS}
    overrides = {k: options.pop(k) for k in list(options) if k in fields}
    kafka_config = options.pop("kafka_config", None) or None
    return Settings.from_env(**overrides, kafka_config=kafka_config)


def log_to_stderr(verbosity: int) -> None:
    """A command's logging on stderr: warnings by default, ``-v`` info, ``-vv`` debug."""
    logging.basicConfig(
        level=logging.WARNING - 10 * min(verbosity, 2),
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
