"""The secured stack's pure parts: the ACL plan (each principal only what it needs), the
files it writes (certificates that verify, client configs, HTTP users), the broker and
Connect settings, and how a refusal in a job's output becomes its row's one line."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from cta_core import topics
from cta_core.ports import Ports
from cta_stack import acl_plan, connect, kafka
from cta_stack.acl_apply import bindings
from cta_stack.certs import SERVER_CN
from cta_stack.principals import ADMIN, PRINCIPALS
from cta_stack.refusals import refusal_line
from cta_stack.secure_files import Endpoints, SecureFiles, is_secure


def _writers(topic: str) -> set[str]:
    return {
        g.principal
        for g in acl_plan.plan()
        if g.resource == "TOPIC"
        and (topic.startswith(g.name) if g.pattern == "PREFIXED" else topic == g.name)
        and {"WRITE", "ALL"} & set(g.operations)
    }


def test_only_faust_writes_the_summary_and_the_dashboard_writes_only_the_control_topic() -> None:
    assert _writers(topics.TURNSTILE_SUMMARY) == {"faust"}
    assert _writers(topics.STATIONS_TABLE) == {"faust"}
    assert _writers(topics.ARRIVALS) == {"sim"}
    assert _writers(topics.SIM_CONTROL) == {"dashboard"}
    dashboard_writes = {
        g.name for g in acl_plan.for_principal("dashboard") if {"WRITE", "ALL"} & set(g.operations)
    }
    assert dashboard_writes == {topics.SIM_CONTROL}
    assert _writers(topics.SCHEMAS) == {"registry"}
    assert _writers(topics.STATIONS_RAW) == {"connect"}


def test_every_principal_but_admin_has_grants_and_admin_none() -> None:
    granted = {g.principal for g in acl_plan.plan()}
    assert granted == set(PRINCIPALS) - {ADMIN}
    assert len(bindings(acl_plan.plan())) == sum(len(g.operations) for g in acl_plan.plan())


def test_kafka_acls_lines_name_principal_operation_and_pattern() -> None:
    lines = acl_plan.kafka_acls_commands(acl_plan.for_principal("faust"), "b:9093")
    summary = [line for line in lines if f"'{topics.TURNSTILE_SUMMARY}'" in line]
    assert len(summary) == 1
    assert "--allow-principal User:faust" in summary[0] and "--operation Write" in summary[0]
    assert "--resource-pattern-type prefixed" in summary[0] and "--bootstrap-server b:9093" in summary[0]


def test_secure_files_are_private_and_the_certificate_verifies(tmp_path: Path) -> None:
    files = SecureFiles.ensure(tmp_path)
    assert is_secure(tmp_path) and SecureFiles.ensure(tmp_path).passwords == files.passwords
    files.write_clients(Endpoints("127.0.0.1:9092", "https://127.0.0.1:8081", "https://127.0.0.1:8082"))
    for path in [files.certs.server_key, files.client_config("sim"), files.http_users]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    ca = x509.load_pem_x509_certificate(files.certs.ca.read_bytes())
    server = x509.load_pem_x509_certificates(files.certs.server_cert.read_bytes())[0]
    key = ca.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    assert server.subject.rfc4514_string() == f"CN={SERVER_CN}"
    text = files.client_config("sim").read_text()
    assert "security.protocol=SASL_SSL\n" in text and f"sasl.password={files.passwords['sim']}\n" in text
    assert f"ssl.ca.location={files.certs.ca}\n" in text
    assert "schema.registry.url=https://127.0.0.1:8081\n" in text


def test_a_secured_broker_and_connect_worker(tmp_path: Path) -> None:
    files = SecureFiles.ensure(tmp_path)
    props = kafka.render_server_properties(Ports(), tmp_path / "data", 1, files)
    assert "listeners=SASL_SSL://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093" in props
    assert "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer" in props
    assert f"super.users=User:admin;User:CN={SERVER_CN}" in props
    assert "PLAINTEXT" not in props
    assert kafka.add_scram_args(files)[1].startswith("SCRAM-SHA-512=[name=admin,password=")
    worker = connect.render_worker_properties(Ports(), tmp_path, files)
    for prefix in ("", "producer.", "consumer.", "admin."):
        assert f"{prefix}security.protocol=SASL_SSL" in worker
        assert (
            f'{prefix}sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="connect"'
            in worker
        )
    assert "SASL" not in connect.render_worker_properties(Ports(), tmp_path)


def test_a_refusal_becomes_one_line_naming_the_principal() -> None:
    line = refusal_line(
        "delivery failed: KafkaError{code=TOPIC_AUTHORIZATION_FAILED,val=29}\n", principal="dashboard"
    )
    assert line == (
        "principal dashboard: refused on a topic, missing READ/WRITE/CREATE on it: "
        "delivery failed: KafkaError{code=TOPIC_AUTHORIZATION_FAILED,val=29}"
    )
    said = "cta-sim: error: sim is not authorized on topic X: missing WRITE"
    assert refusal_line(said, "sim") == said  # a line that says it all is kept as it is
    wrong = refusal_line("SASL authentication error: ... invalid credentials with SASL mechanism", "weather")
    assert wrong is not None and wrong.startswith(
        "principal weather: refused on the broker, missing valid credentials"
    )
    assert refusal_line("published 1200 arrivals", "sim") is None
    assert len(refusal_line("SASL authentication failed " + "x" * 500) or "") == 240


def test_a_stack_made_plaintext_is_not_secured_later_and_a_secured_one_stays_so(tmp_path: Path) -> None:
    import pytest

    from cta_core.settings import Settings
    from cta_stack.errors import StackError
    from cta_stack.stack import Stack

    plain = tmp_path / "plain"
    (plain / "data" / "kafka").mkdir(parents=True)
    (plain / "data" / "kafka" / "meta.properties").write_text("cluster.id=x\n")
    with pytest.raises(StackError, match="without --secure"):
        Stack(Settings.from_env({}, stack_dir=plain)).secured()
    fresh = Stack(Settings.from_env({}, stack_dir=tmp_path / "fresh")).secured()
    assert fresh.secure is not None and fresh.settings.security_protocol == "SASL_SSL"
    assert fresh.settings.schema_registry_url.startswith("https://")
    again = Stack(Settings.from_env({}, stack_dir=tmp_path / "fresh"))
    assert again.secure is not None and again.secure.passwords == fresh.secure.passwords
    assert again.settings.sasl_username == ADMIN
