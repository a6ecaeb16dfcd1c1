"""Click options shared by every console script, so that each setting has one
flag, one environment variable and one documented default everywhere."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import click

from cta_core.cli_base import log_to_stderr
from cta_core.client_config import ClientConfigError, read_client_config
from cta_core.settings import Settings, parse_kafka_config

__all__ = ["log_to_stderr"]

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


#: The services a command may talk to; each has its own connection flags.
KAFKA, REGISTRY, REST_PROXY, CONNECT, KSQL, POSTGRES = (
    "kafka",
    "registry",
    "rest_proxy",
    "connect",
    "ksql",
    "postgres",
)
ALL_SERVICES = (KAFKA, REGISTRY, REST_PROXY, CONNECT, KSQL, POSTGRES)

#: (service, flag, help); the Settings field is the flag's name with underscores, the
#: environment variable ``CTA_`` and the field upper-cased (one rule for every setting)
_CONNECTION_OPTIONS: list[tuple[str, str, str]] = [
    (KAFKA, "--bootstrap-servers", "Kafka bootstrap servers."),
    (REGISTRY, "--schema-registry-url", "Schema Registry URL."),
    (REST_PROXY, "--rest-proxy-url", "Kafka REST Proxy URL."),
    (CONNECT, "--connect-url", "Kafka Connect REST URL."),
    (KSQL, "--ksql-url", "ksqlDB server URL."),
    (POSTGRES, "--postgres-dsn", "PostgreSQL DSN."),
    (KAFKA, "--security-protocol", "Kafka security.protocol (SASL_SSL, ...)."),
    (KAFKA, "--sasl-mechanism", "Kafka sasl.mechanism (PLAIN, SCRAM-SHA-512, ...)."),
    (KAFKA, "--sasl-username", "Kafka SASL user name."),
    (KAFKA, "--sasl-password", "Kafka SASL password."),
    (KAFKA, "--ssl-ca-location", "CA certificate file for TLS."),
]


def field_of(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def envvar_of(flag: str) -> str:
    """``--broker-wait`` -> ``CTA_BROKER_WAIT``: a setting's variable is its flag's name."""
    return "CTA_" + field_of(flag).upper()


_FIELDS = {field_of(flag) for _, flag, _ in _CONNECTION_OPTIONS} | {"client_config"}
#: the services whose clients read the client config file
_CLIENT_CONFIG_SERVICES = {KAFKA, REGISTRY, REST_PROXY}


def masked(dsn: str) -> str:
    """A DSN with its password shown as ``***`` (help texts never show a password)."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _validate_kafka_config(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> dict[str, str]:
    try:
        return parse_kafka_config(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def _validate_client_config(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The file's path once it reads and parses; a bad file is a bad value (exit 2)
    naming the file and the line."""
    if not value:
        return None
    from cta_core.kafka_clients import check_client_config  # confluent-kafka: only when given

    try:
        check_client_config(read_client_config(value))
    except ClientConfigError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


def client_config_option(func: F) -> F:
    """``--client-config FILE``: Kafka's properties format, read by every client."""
    return click.option(
        "--client-config",
        "client_config",
        envvar=envvar_of("--client-config"),
        show_envvar=True,
        default=None,
        metavar="FILE",
        callback=_validate_client_config,
        help="Client settings in Kafka's properties format (as kcat -F or the Kafka tools' "
        "--command-config read): bootstrap.servers, security.protocol, sasl.* or "
        "sasl.jaas.config, ssl.ca.location or a PEM truststore, schema.registry.url and "
        "basic.auth.user.info, rest.proxy.url and rest.proxy.basic.auth.user.info. "
        "Flags and CTA_* variables win over it; -X wins last.",
    )(func)


def connection_options(*services: str) -> Callable[[F], F]:
    """Add the connection flags of ``services`` (``KAFKA`` adds the security flags and
    ``-X key=value``) to a click command: a command lists only the services it uses.

    The command receives them as keyword arguments; pass them to
    :func:`settings_from_options`.
    """
    unknown = set(services) - set(ALL_SERVICES)
    if unknown:
        raise ValueError(f"unknown services: {sorted(unknown)}")

    def decorate(func: F) -> F:
        if KAFKA in services:
            func = click.option(
                "-X",
                "--kafka-config",
                "kafka_config",
                multiple=True,
                metavar="KEY=VALUE",
                callback=_validate_kafka_config,
                help="librdkafka setting passed through (repeatable); applied last. "
                "CTA_KAFKA_CONFIG takes comma-separated pairs.",
            )(func)
        if _CLIENT_CONFIG_SERVICES & set(services):
            func = client_config_option(func)
        defaults = _defaults()
        for service, flag, text in reversed(_CONNECTION_OPTIONS):
            if service not in services:
                continue
            field_name, envvar = field_of(flag), envvar_of(flag)
            default = getattr(defaults, field_name)
            shown: bool | str = False
            if default and field_name != "sasl_password":
                shown = masked(str(default)) if field_name == "postgres_dsn" else str(default)
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

    return decorate


def settings_from_options(options: dict[str, Any]) -> Settings:
    """Settings from the environment with the given flag values on top.

    click has already resolved flag-over-environment for each option; values
    that are None fall back to :meth:`Settings.from_env`.
    """
    overrides = {k: options.pop(k) for k in list(options) if k in _FIELDS}
    kafka_config = options.pop("kafka_config", None) or None
    return Settings.from_env(**overrides, kafka_config=kafka_config)


def merged_settings(ctx: click.Context, options: dict[str, Any]) -> Settings:
    """A subcommand's settings: its group's (``cta-tui --bootstrap-servers X tail``) with
    the subcommand's own flags on top (``cta-tui tail T --bootstrap-servers X``)."""
    parent = ctx.obj if isinstance(ctx.obj, dict) else {}
    base: Settings | None = parent.get("settings")
    if base is None:
        return settings_from_options(options)
    overrides = {k: options.pop(k) for k in list(options) if k in _FIELDS}
    kafka_config = options.pop("kafka_config", None) or None
    own_file = overrides.pop("client_config", None)
    if own_file and str(own_file) != str(base.client_config):
        # the subcommand's own file: read afresh (the group's flags are not carried over)
        return Settings.from_env(client_config=own_file, **overrides, kafka_config=kafka_config)
    return base.with_overrides(**{k: v for k, v in overrides.items() if v}, kafka_config=kafka_config)


# ---------------------------------------------------------------- options of one idea


def topic_suffix_option(func: F) -> F:
    """``--topic-suffix``: the same set of topics renamed in every command."""
    return click.option(
        "--topic-suffix",
        default="",
        envvar=envvar_of("--topic-suffix"),
        show_envvar=True,
        help="Append this to the data topics' names (arrivals, turnstiles, weather, stations "
        "table, TURNSTILE_SUMMARY, predictions and their state; never control, status or "
        "Connect's rows): a run of its own beside the live one (benchmarks, trials).",
    )(func)


def broker_wait_option(func: F) -> F:
    """``--broker-wait``: seconds to wait for Kafka at start."""
    return click.option(
        "--broker-wait",
        type=click.FloatRange(min=0),
        default=15.0,
        show_default=True,
        envvar=envvar_of("--broker-wait"),
        show_envvar=True,
        help="Seconds to wait for Kafka at start before giving up.",
    )(func)


def count_option(what: str) -> Callable[[F], F]:
    """``-c/--count N``: stop after N ``what`` (events, readings, records), as kcat's ``-c``."""
    return click.option(
        "-c", "--count", "count", type=click.IntRange(min=1), default=None, help=f"Stop after N {what}."
    )


def group_id_option(default: str, what: str) -> Callable[[F], F]:
    """``--group-id``: a job's consumer group. No environment variable: one value
    exported in a shell would put every job in the same group."""
    return click.option("--group-id", default=default, show_default=True, help=what)


def deprecated_alias(old: str, new: str, **kwargs: Any) -> Callable[[F], F]:
    """A hidden old flag name that sets the new one's value (kept for old scripts)."""
    dest = new.lstrip("-").replace("-", "_")

    def store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is not None:
            ctx.meta[f"alias:{dest}"] = value

    return click.option(old, hidden=True, expose_value=False, default=None, callback=store, **kwargs)


def aliased(ctx: click.Context, name: str, value: Any) -> Any:
    """The value of option ``name``, or what its deprecated alias gave."""
    return ctx.meta.get(f"alias:{name}", value)
