"""Refusals in one line: the principal, the resource and what is missing, for librdkafka's
and aiokafka's errors; each form has its troubleshooting row; a bad client config file
is a bad flag value (exit 2) naming the file and the line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka import KafkaError

from cta_core import kafka_clients, refusals
from cta_core.errors import Refused
from cta_core.kafka_clients import ClientWatch, refusal
from cta_core.settings import Settings
from cta_core.troubles import find
from stream_jobs.faust_refusals import RefusalGuard, refusal_line

SETTINGS = Settings.from_env(
    {}, bootstrap_servers="k:9093", sasl_username="dashboard", sasl_mechanism="SCRAM-SHA-512"
)


def test_authorization_errors_name_principal_operation_and_resource() -> None:
    err = KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED)
    refused = refusal(err, SETTINGS, "WRITE", "TURNSTILE_SUMMARY")
    assert isinstance(refused, Refused)
    assert str(refused).startswith(
        "Kafka refused User:dashboard WRITE on topic 'TURNSTILE_SUMMARY' (TOPIC_AUTHORIZATION_FAILED); grant it"
    )
    group = refusal(KafkaError(KafkaError.GROUP_AUTHORIZATION_FAILED), SETTINGS, "READ", "t", "cta-predict")
    assert "User:dashboard READ on group 'cta-predict' (GROUP_AUTHORIZATION_FAILED)" in str(group)
    cluster = refusal(KafkaError(KafkaError.CLUSTER_AUTHORIZATION_FAILED), SETTINGS, "CREATE", "t")
    assert "User:dashboard CREATE on the cluster (CLUSTER_AUTHORIZATION_FAILED)" in str(cluster)
    assert refusal(KafkaError(KafkaError._TRANSPORT), SETTINGS, "READ", "t") is None
    assert refusal(None, SETTINGS, "READ", "t") is None


def test_every_refusal_form_has_its_troubleshooting_row() -> None:
    forms = [
        refusals.authentication_message("k:9093", "User:sim", "SCRAM-SHA-512"),
        refusals.authentication_message("k:9093", "User:sim", None),
        refusals.anonymous_message("k:9093"),
        refusals.authorization_message("User:d", "WRITE", "topic", "T", "TOPIC_AUTHORIZATION_FAILED"),
        refusals.authorization_message("User:d", "CREATE", "cluster", None, "CLUSTER_AUTHORIZATION_FAILED"),
        refusals.http_message("Schema Registry", "https://r", "sim", 401),
        refusals.http_message("REST Proxy", "https://p", None, 403),
        "invalid value for '--client-config' (env var: 'CTA_CLIENT_CONFIG'): /x/c.properties line 3: "
        "expected key=value, got 'x'",
    ]
    for line in forms:
        row = find(line)
        assert row is not None, line
        assert "refused" in row.message or "client-config" in row.message, (line, row.message)
        assert "\n" not in line


def test_a_failed_authentication_is_logged_once_and_recorded(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.from_env({}, bootstrap_servers="auth-test:1", sasl_username="sim")
    watch = ClientWatch(settings, logging.getLogger("test.librdkafka"))
    with caplog.at_level(logging.ERROR, logger="cta_core.kafka"):
        for _ in range(3):
            watch.log(
                3,
                "%s [%s] %s",
                "FAIL",
                "rdkafka#producer-1",
                "x/bootstrap: SASL authentication error: Authentication failed",
            )
    assert [r.getMessage() for r in caplog.records if r.name == "cta_core.kafka"] == [
        refusals.authentication_message("auth-test:1", "User:sim", None)
    ]
    with pytest.raises(Refused, match="refused User:sim: authentication failed"):
        kafka_clients.raise_if_refused(settings)


def test_connections_closed_at_once_refuse_an_anonymous_client_only() -> None:
    closed = "127.0.0.1:1/bootstrap: Disconnected: connection closed by peer: receive 0 after POLLIN (after 8ms in state UP)"
    anonymous = Settings.from_env({}, bootstrap_servers="anon-test:1")
    watch = ClientWatch(anonymous, logging.getLogger("test.librdkafka"))
    for _ in range(kafka_clients.ANONYMOUS_CLOSES):
        watch.log(4, "%s", closed)
    assert kafka_clients.refused(anonymous) == refusals.anonymous_message("anon-test:1")
    # a broker going down after minutes of work is no refusal
    later = Settings.from_env({}, bootstrap_servers="anon-test:2")
    watch = ClientWatch(later, logging.getLogger("test.librdkafka"))
    for _ in range(5):
        watch.log(4, "%s", closed.replace("8ms", "62680ms"))
    assert kafka_clients.refused(later) is None
    assert isinstance(kafka_clients.unavailable(later, "down"), kafka_clients.ServiceUnavailable)


def test_aiokafka_errors_in_faust_become_the_one_line() -> None:
    text = "[^---AIOKafkaConsumerThread]: Crashed reason=TopicAuthorizationFailedError({'TURNSTILE_SUMMARY'})"
    assert refusal_line(text, SETTINGS) == refusals.authorization_message(
        "User:dashboard", "READ", "topic", "TURNSTILE_SUMMARY", "TOPIC_AUTHORIZATION_FAILED"
    )
    published = (
        "_on_published error for message topic T error [Error 29] TopicAuthorizationFailedError: "
        "org.chicago.cta.stations.table.v1 message <FutureMessage ...>"
    )
    assert "User:dashboard WRITE on topic 'org.chicago.cta.stations.table.v1' (TOPIC_AUTH" in (
        refusal_line(published, SETTINGS) or ""
    )
    assert "READ on group 'cta-stations' (GROUP" in (
        refusal_line("GroupAuthorizationFailedError", SETTINGS, group="cta-stations") or ""
    )
    assert "authentication failed" in (refusal_line("SaslAuthenticationFailed: bad", SETTINGS) or "")
    assert refusal_line("KafkaConnectionError: down", SETTINGS) is None
    stopped: list[str] = []
    guard = RefusalGuard(SETTINGS, stopped.append)
    record = logging.LogRecord("faust", logging.ERROR, "", 0, "Error: %r", (RuntimeError("x"),), None)
    guard.emit(record)
    assert stopped == []
    try:
        raise type("ClusterAuthorizationFailedError", (Exception,), {})("no")
    except Exception:
        import sys

        record.exc_info = sys.exc_info()
    guard.emit(record)
    guard.emit(record)
    assert len(stopped) == 1 and "CLUSTER_AUTHORIZATION_FAILED" in stopped[0]


@pytest.mark.parametrize("command", ["sim", "tui"])
def test_a_bad_client_config_exits_2_naming_the_file_and_line(tmp_path: Path, command: str) -> None:
    from cta_tui.cli import main as tui
    from producers_sim.cli import main as sim

    bad = tmp_path / "bad.properties"
    bad.write_text("bootstrap.servers=k:1\nsasl.password=hunter2\njustoneword\n")
    entry = sim if command == "sim" else tui
    args = (
        ["--client-config", str(bad), "--dry-run"]
        if command == "sim"
        else ["--client-config", str(bad), "--once"]
    )
    result = CliRunner().invoke(entry, args, prog_name=f"cta-{command}")
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert line.startswith(f"cta-{command}: error: invalid value for '--client-config'")
    assert f"{bad} line 3: expected key=value, got 'justoneword'" in line
    bad.write_text("sasl.password=hunter2\nno.such.property=1\n")
    result = CliRunner().invoke(entry, args, prog_name=f"cta-{command}")
    assert result.exit_code == 2, result.output
    assert f"{bad} line 2: No such configuration property" in result.output
    assert "hunter2" not in result.output
    env = CliRunner(env={"CTA_CLIENT_CONFIG": str(tmp_path / "missing.properties")})
    result = env.invoke(entry, args[2:], prog_name=f"cta-{command}")
    assert result.exit_code == 2 and "missing.properties: no such file" in result.output
