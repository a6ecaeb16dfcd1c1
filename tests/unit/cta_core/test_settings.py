"""Settings: environment, flags and pass-through, in their documented precedence."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from cta_core import ports
from cta_core.cli_options import ALL_SERVICES, connection_options, settings_from_options
from cta_core.settings import Settings, parse_kafka_config


def test_defaults_are_the_local_stack_ports() -> None:
    s = Settings.from_env({})
    assert s.bootstrap_servers == f"127.0.0.1:{ports.KAFKA}"
    assert s.schema_registry_url == f"http://127.0.0.1:{ports.SCHEMA_REGISTRY}"
    assert s.rest_proxy_url == f"http://127.0.0.1:{ports.REST_PROXY}"
    assert s.connect_url == f"http://127.0.0.1:{ports.CONNECT}"
    assert s.postgres_dsn.endswith(f"127.0.0.1:{ports.POSTGRES}/cta")
    assert not s.external_postgres


def test_port_variables_move_default_urls() -> None:
    s = Settings.from_env({"CTA_KAFKA_PORT": "19092", "CTA_CONNECT_PORT": "18083"})
    assert s.bootstrap_servers == "127.0.0.1:19092"
    assert s.connect_url == "http://127.0.0.1:18083"


def test_bad_port_variable_is_named() -> None:
    with pytest.raises(ValueError, match="CTA_KAFKA_PORT"):
        Settings.from_env({"CTA_KAFKA_PORT": "nine"})


def test_explicit_urls_beat_ports_and_dsn_marks_external() -> None:
    env = {
        "CTA_BOOTSTRAP_SERVERS": "broker:29092",
        "CTA_KAFKA_PORT": "19092",
        "CTA_POSTGRES_DSN": "postgresql://x@db/cta",
    }
    s = Settings.from_env(env)
    assert s.bootstrap_servers == "broker:29092"
    assert s.external_postgres


def test_librdkafka_pass_through_wins_over_derived_and_extra() -> None:
    s = Settings.from_env(
        {
            "CTA_SECURITY_PROTOCOL": "SASL_SSL",
            "CTA_SASL_MECHANISM": "PLAIN",
            "CTA_KAFKA_CONFIG": "acks=1,linger.ms=7",
        }
    )
    conf = s.librdkafka(acks="all", **{"client.id": "x"})
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.mechanism"] == "PLAIN"
    assert conf["acks"] == "1"
    assert conf["linger.ms"] == "7"
    assert conf["client.id"] == "x"


def test_redacted_hides_secrets() -> None:
    s = Settings.from_env({"CTA_SASL_PASSWORD": "hunter2", "CTA_KAFKA_CONFIG": "sasl.password=p"})
    red = s.redacted()
    assert red["sasl_password"] == "***"
    assert red["kafka_config"]["sasl.password"] == "***"


@pytest.mark.parametrize("bad", ["novalue", "=x", ""])
def test_parse_kafka_config_rejects_pairs_without_key(bad: str) -> None:
    if bad == "":
        assert parse_kafka_config([bad]) == {}
    else:
        with pytest.raises(ValueError):
            parse_kafka_config([bad])


def test_flag_value_keeps_commas() -> None:
    assert parse_kafka_config(["debug=broker,topic"]) == {"debug": "broker,topic"}


@click.command()
@connection_options(*ALL_SERVICES)
def _show(**options: object) -> None:
    s = settings_from_options(dict(options))
    click.echo(f"{s.bootstrap_servers} {s.kafka_config}")


def test_flag_beats_environment_which_beats_default() -> None:
    runner = CliRunner()
    out = runner.invoke(_show, [], env={"CTA_BOOTSTRAP_SERVERS": "env:1"})
    assert out.output.startswith("env:1 ")
    out = runner.invoke(_show, ["--bootstrap-servers", "flag:2"], env={"CTA_BOOTSTRAP_SERVERS": "env:1"})
    assert out.output.startswith("flag:2 ")
    out = runner.invoke(_show, ["-X", "linger.ms=3"], env={"CTA_KAFKA_CONFIG": "linger.ms=9,acks=1"})
    assert "'linger.ms': '3'" in out.output and "'acks': '1'" in out.output


def test_bad_pass_through_exits_2() -> None:
    result = CliRunner().invoke(_show, ["-X", "oops"])
    assert result.exit_code == 2
    assert "key=value" in result.output


def test_help_shows_env_vars_and_defaults() -> None:
    result = CliRunner().invoke(_show, ["--help"])
    assert "CTA_BOOTSTRAP_SERVERS" in result.output
    assert "127.0.0.1:9092" in result.output


def test_help_shows_the_ports_moved_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """CTA_KAFKA_PORT=19092 moves the local stack's broker: --help says so (a command's
    options are built when its module is imported, in the process that shows the help)."""
    monkeypatch.setenv("CTA_KAFKA_PORT", "19092")

    @click.command()
    @connection_options(*ALL_SERVICES)
    def moved(**options: object) -> None:
        pass

    help_text = CliRunner().invoke(moved, ["--help"]).output
    assert "127.0.0.1:19092" in help_text and "127.0.0.1:9092" not in help_text
    monkeypatch.setenv("CTA_KAFKA_PORT", "ninety")  # reported when a command runs, not here
    connection_options(*ALL_SERVICES)(click.command()(lambda **o: None))
