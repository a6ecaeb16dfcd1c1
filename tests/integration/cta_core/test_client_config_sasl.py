"""The client config file against a broker that says no: a SASL_PLAINTEXT (SCRAM-SHA-512)
listener with the standard authorizer (tests/support/sasl_broker.py, beside the shared
stack). An anonymous client and a wrong password are refused in one line naming the
principal; a principal acting outside its ACLs is refused naming the resource and the
operation; the right file works for cta-sim (through the project's registry, itself a
client of the secured broker) and for `cta-tui --once --json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from confluent_kafka.admin import AclOperation as Op
from confluent_kafka.admin import ResourceType as Res

from cta_core import topics
from cta_core.settings import Settings
from tests.support.ports import closed_port
from tests.support.sasl_broker import SaslBroker, sasl_broker

pytestmark = pytest.mark.integration

TOPICS = "org.chicago.cta."
FAUST_APP = "cta-sasl-stations"
STATION_ROW = (
    b'{"stop_id":30001,"direction_id":"E","stop_name":"Austin","station_name":"Austin",'
    b'"station_descriptive_name":"Austin (Blue Line)","station_id":40010,"order":1,'
    b'"red":false,"blue":true,"green":false}'
)


def _acls(broker: SaslBroker) -> None:
    all_of = (Op.CREATE, Op.WRITE, Op.READ, Op.DESCRIBE, Op.DESCRIBE_CONFIGS)
    broker.allow("registry", [(Res.TOPIC, topics.SCHEMAS, op, False) for op in all_of])
    broker.allow("registry", [(Res.GROUP, "cta-schema-registry-", Op.READ, True)])
    # the simulator: its topics only (the control topic it reads), never the summary
    broker.allow("sim", [(Res.TOPIC, TOPICS, op, True) for op in (Op.CREATE, Op.WRITE, Op.DESCRIBE, Op.READ)])
    broker.allow("sim", [(Res.GROUP, "cta-sim-control-", Op.READ, True)])
    # the dashboard reads; `nosim` may only read (it cannot create or write the sim's topics)
    for reader in ("dashboard", "nosim"):
        broker.allow(reader, [(Res.TOPIC, TOPICS, op, True) for op in (Op.READ, Op.DESCRIBE)])
        broker.allow(reader, [(Res.GROUP, "cta-", Op.READ, True)])
    # a Faust worker that may read the rows and keep its tables, but not write the stations table
    reads = (Op.CREATE, Op.READ, Op.DESCRIBE, Op.DESCRIBE_CONFIGS)
    broker.allow("faustro", [(Res.TOPIC, p, op, True) for p in (TOPICS, FAUST_APP) for op in reads])
    broker.allow("faustro", [(Res.TOPIC, FAUST_APP, Op.WRITE, True), (Res.GROUP, FAUST_APP, Op.READ, True)])


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SaslBroker, str]]:
    """The SASL broker with its ACLs, the stations table, and a registry on it."""
    with sasl_broker(["registry", "sim", "dashboard", "nosim", "faustro"]) as broker:
        _acls(broker)
        from tests.support.stations_table import ensure_stations_table

        ensure_stations_table(Settings.from_env({}, client_config=str(broker.client_config("admin"))))
        port = closed_port()
        log = tmp_path_factory.mktemp("registry") / "registry.log"
        env = {**_clean_env(), "CTA_CLIENT_CONFIG": str(broker.client_config("registry"))}
        with log.open("w") as out:
            registry = subprocess.Popen(
                [sys.executable, "-m", "cta_servers.schema_registry", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_http(f"{url}/subjects", registry, log)
            yield broker, url
        finally:
            registry.terminate()
            registry.wait(timeout=20)


def _clean_env() -> dict[str, str]:
    """This process's environment without any client setting naming the shared stack."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CTA_") or k == "CTA_JAR_CACHE"}


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.3)


def _sim(
    config: Path | None, registry: str, *extra: str, bootstrap: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = _clean_env()
    if config is not None:
        env["CTA_CLIENT_CONFIG"] = str(config)
    if bootstrap is not None:
        env["CTA_BOOTSTRAP_SERVERS"] = bootstrap
    argv = [sys.executable, "-m", "producers_sim", "--speed", "max", "--seed", "1", "--no-control",
            "--no-weather", "--schema-registry-url", registry, "--broker-wait", "20", *extra]  # fmt: skip
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("cta-sim: error:")]


def _refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    """cta-sim exited 1 with this one error line (and no other)."""
    assert result.returncode == 1, result.stderr
    assert _error_lines(result.stderr) == [f"cta-sim: error: {message}"], result.stderr


def test_an_anonymous_client_is_refused_in_one_line(secured: tuple[SaslBroker, str]) -> None:
    broker, registry = secured
    started = time.monotonic()
    _refused(
        _sim(None, registry, "--count", "10", bootstrap=broker.bootstrap),
        f"Kafka at {broker.bootstrap} refused an anonymous client (it closed every connection: the "
        "listener needs credentials or TLS); give them with --client-config FILE (security.protocol, "
        "sasl.mechanism, sasl.username, sasl.password)",
    )
    assert time.monotonic() - started < 20  # refused at once, not after --broker-wait


def test_a_wrong_password_is_refused_in_one_line_naming_the_principal(
    secured: tuple[SaslBroker, str], tmp_path: Path
) -> None:
    broker, registry = secured
    wrong = broker.client_config("sim", password="not-the-password")
    result = _sim(wrong, registry, "--count", "10")
    _refused(
        result,
        f"Kafka at {broker.bootstrap} refused User:sim: authentication failed (SCRAM-SHA-512: wrong "
        "user name or password, or no such user); check sasl.username and sasl.password in the "
        "client config (--client-config)",
    )
    assert "not-the-password" not in result.stderr


def test_acting_outside_its_acls_is_refused_naming_resource_and_operation(
    secured: tuple[SaslBroker, str],
) -> None:
    broker, registry = secured
    result = _sim(broker.client_config("nosim"), registry, "--count", "10", "--topic-suffix", ".nosim")
    assert result.returncode == 1, result.stderr
    errors = _error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(
        "cta-sim: error: Kafka refused User:nosim CREATE on topic 'org.chicago.cta."
    ), errors
    assert "(TOPIC_AUTHORIZATION_FAILED); grant it with an ACL" in errors[0]


def test_the_right_file_works_for_the_simulator_and_the_dashboard(
    secured: tuple[SaslBroker, str], tmp_path: Path
) -> None:
    broker, registry = secured
    report = tmp_path / "report.json"
    result = _sim(broker.client_config("sim"), registry, "--count", "3000", "--report", str(report))
    assert result.returncode == 0, result.stderr
    produced = json.loads(report.read_text())
    assert produced["produced"][topics.ARRIVALS] > 0 and not any(produced["failed"].values()), produced

    from cta_tui.cli import main

    dashboard = broker.client_config("dashboard", **{"schema.registry.url": registry})
    once = ["--once", "--json", "--once-timeout", "30", "--replay-minutes", "600"]
    out = CliRunner(
        env={**{k: None for k in os.environ if k.startswith("CTA_")}, "CTA_CLIENT_CONFIG": str(dashboard)}
    ).invoke(main, once)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert any(line["trains"] for line in data["lines"].values()), data["lines"]


def test_the_faust_worker_stops_with_the_one_line_when_refused(
    secured: tuple[SaslBroker, str], tmp_path: Path
) -> None:
    """aiokafka authenticates with the file's SCRAM settings, reads its rows, and its
    write to the stations table is refused: the worker logs the line once and stops."""
    from confluent_kafka import Producer

    from cta_core.kafka_clients import ensure_topics, make_admin, spec_for

    broker, _registry = secured
    settings = Settings.from_env({}, client_config=str(broker.client_config("admin")))
    ensure_topics(make_admin(settings), [spec_for(topics.STATIONS_RAW)])
    producer = Producer(broker.conf("admin"))
    producer.produce(topics.STATIONS_RAW, STATION_ROW)
    assert producer.flush(15) == 0
    env = {**_clean_env(), "CTA_CLIENT_CONFIG": str(broker.client_config("faustro"))}
    argv = [sys.executable, "-m", "stream_jobs", "faust", "--no-turnstile-summary", "--group-id", FAUST_APP,
            "--data-dir", str(tmp_path)]  # fmt: skip
    faust = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert faust.returncode == 1, faust.stdout[-3000:] + faust.stderr[-3000:]
    line = (
        f"Kafka refused User:faustro WRITE on topic '{topics.STATIONS_TABLE}' (TOPIC_AUTHORIZATION_FAILED); "
        "grant it with an ACL"
    )
    errors = [x for x in faust.stderr.splitlines() if x.startswith("cta-jobs: error:")]
    assert len(errors) == 1 and errors[0].startswith(f"cta-jobs: error: {line}"), faust.stderr[-3000:]
    assert (faust.stdout + faust.stderr).count(f"[ERROR] {line}") == 1  # logged once, not retried
