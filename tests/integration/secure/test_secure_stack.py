"""The secured stack refuses what it must and lets each principal do its work: an
anonymous client and a wrong password are refused, the dashboard's principal cannot write
TURNSTILE_SUMMARY (Faust's can), the registry and REST Proxy answer 401 without
credentials (403 for a read-only user's write), a refused job says so on its row, and
the ACLs on the cluster are the ones `cta-stack acls` prints."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)

from cta_core import topics
from cta_stack import acl_apply, acl_plan, jobs
from cta_stack.paths import StackLayout
from cta_stack.scratch import CTA_STACK, ScratchStack
from tests.integration.secure.conftest import LIBRDKAFKA_KEYS, librdkafka_conf, read_properties

pytestmark = pytest.mark.integration

SCHEMA = json.dumps({"type": "record", "name": "Probe", "fields": [{"name": "n", "type": "int"}]})


def _refused(conf: dict[str, Any]) -> KafkaError:
    """The error of a metadata request with ``conf``; fails the test when it is answered."""
    with pytest.raises(KafkaException) as caught:
        AdminClient(conf).list_topics(timeout=6)
    error: KafkaError = caught.value.args[0]
    return error


def _produce(conf: dict[str, Any], topic: str) -> KafkaError | None:
    """Produce one record to ``topic``; the delivery error, None when delivered."""
    errors: list[KafkaError | None] = []
    producer = Producer({**conf, "message.timeout.ms": 10000})
    producer.produce(
        topic,
        key=b"40380",
        value=b'{"STATION_ID": 40380, "COUNT": 1}',
        on_delivery=lambda e, _m: errors.append(e),
    )
    assert producer.flush(15) == 0, "the record was neither delivered nor refused in 15 s"
    return errors[0]


def test_anonymous_client_is_refused(secure_stack: ScratchStack) -> None:
    admin = librdkafka_conf(secure_stack, "admin")
    bootstrap, ca = admin["bootstrap.servers"], admin["ssl.ca.location"]
    plaintext = _refused({"bootstrap.servers": bootstrap, "log_level": 0})
    tls_only = _refused(
        {"bootstrap.servers": bootstrap, "security.protocol": "SSL", "ssl.ca.location": ca, "log_level": 0}
    )
    # no SASL handshake: the broker closes the connection (the client sees no metadata)
    unanswered = {KafkaError._TRANSPORT, KafkaError._TIMED_OUT, KafkaError._ALL_BROKERS_DOWN}
    assert plaintext.code() in unanswered, plaintext
    assert tls_only.code() in unanswered, tls_only
    # ...and the principal's own file works: the test can fail the other way too
    assert AdminClient(admin).list_topics(timeout=10).brokers


def test_wrong_password_is_refused(secure_stack: ScratchStack) -> None:
    seen: list[KafkaError] = []
    conf = librdkafka_conf(
        secure_stack, "sim", **{"sasl.password": "not-the-password", "error_cb": seen.append}
    )
    producer = Producer(conf)  # its poll() serves the error callback
    deadline = time.monotonic() + 15
    while not any(e.code() == KafkaError._AUTHENTICATION for e in seen) and time.monotonic() < deadline:
        producer.poll(0.5)
    auth = [e for e in seen if e.code() == KafkaError._AUTHENTICATION]
    assert auth and "invalid credentials" in auth[0].str(), seen


def test_dashboard_cannot_write_the_summary_but_faust_can(secure_stack: ScratchStack) -> None:
    admin = AdminClient(librdkafka_conf(secure_stack, "admin"))
    for future in admin.create_topics([NewTopic(topics.TURNSTILE_SUMMARY, 1, 1)]).values():
        try:
            future.result()
        except KafkaException as exc:
            assert exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS
    refused = _produce(librdkafka_conf(secure_stack, "dashboard"), topics.TURNSTILE_SUMMARY)
    assert refused is not None and refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, refused
    assert _produce(librdkafka_conf(secure_stack, "faust"), topics.TURNSTILE_SUMMARY) is None
    # the dashboard writes the control topic (pause, resume, speed), and only that
    assert _produce(librdkafka_conf(secure_stack, "dashboard"), topics.SIM_CONTROL) is None


def _https(secure_stack: ScratchStack, principal: str) -> tuple[str, str, ssl.SSLContext, tuple[str, str]]:
    props = read_properties(secure_stack.client_config(principal))
    user, _, password = props["schema.registry.basic.auth.user.info"].partition(":")
    context = ssl.create_default_context(cafile=props["ssl.ca.location"])
    return props["schema.registry.url"], props["rest.proxy.url"], context, (user, password)


def test_registry_and_rest_proxy_need_credentials(secure_stack: ScratchStack) -> None:
    registry, proxy, context, dashboard = _https(secure_stack, "dashboard")
    with httpx.Client(verify=context, timeout=10) as http:
        for url in (f"{registry}/subjects", f"{proxy}/topics"):
            anonymous = http.get(url)
            assert anonymous.status_code == 401, anonymous.text
            assert anonymous.json() == {"error_code": 401, "message": "Unauthorized"}
            assert "Basic" in anonymous.headers["WWW-Authenticate"]
            assert http.get(url, auth=("sim", "wrong")).status_code == 401
        assert http.get(f"{registry}/subjects", auth=dashboard).status_code == 200
        # the dashboard reads schemas; registering one is a write it may not do
        body = {"schema": SCHEMA}
        denied = http.post(f"{registry}/subjects/probe-value/versions", json=body, auth=dashboard)
        assert denied.status_code == 403 and denied.json()["error_code"] == 40301, denied.text
        sim = _https(secure_stack, "sim")[3]
        assert http.post(f"{registry}/subjects/probe-value/versions", json=body, auth=sim).status_code == 200
        weather = _https(secure_stack, "weather")[3]
        assert http.get(f"{proxy}/topics", auth=weather).status_code == 200
        assert http.get(f"{proxy}/topics", auth=dashboard).status_code == 200
        records = {"records": [{"value": {"n": 1}}], "value_schema": SCHEMA}
        headers = {"Content-Type": "application/vnd.kafka.avro.v2+json"}
        produced = http.post(
            f"{proxy}/topics/{topics.WEATHER}", json=records, headers=headers, auth=dashboard
        )
        assert produced.status_code == 403 and produced.json()["error_code"] == 40301, produced.text


def test_the_cluster_holds_the_acls_cta_stack_acls_prints(secure_stack: ScratchStack) -> None:
    admin = AdminClient(librdkafka_conf(secure_stack, "admin"))
    every = AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY, AclPermissionType.ANY
    )
    on_cluster = {str(b) for b in admin.describe_acls(every, request_timeout=15).result()}
    planned = {str(b) for b in acl_apply.bindings(acl_plan.plan())}
    assert on_cluster == planned
    printed = subprocess.run(
        [CTA_STACK, "acls", "--principal", "dashboard", "--format", "json"],
        env=secure_stack.env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(printed.stdout)
    assert {r["principal"] for r in rows} == {"User:dashboard"}
    writes = {r["name"] for r in rows if "WRITE" in r["operations"]}
    assert writes == {topics.SIM_CONTROL}


REFUSED_JOB = """
import sys
from confluent_kafka import Producer
conf = {k: v for k, v in (l.split("=", 1) for l in open(sys.argv[1]).read().splitlines() if "=" in l and not l.startswith("#")) if k in sys.argv[2:]}
p = Producer({**conf, "log_level": 0})
errors = []
p.produce("TURNSTILE_SUMMARY", b"x", on_delivery=lambda e, m: errors.append(e))
p.flush(15)
print(f"cta-probe: {errors[0]}", flush=True)
sys.exit(1)
"""


def test_a_refused_job_says_so_on_its_row(secure_stack: ScratchStack) -> None:
    """A job that the broker refuses shows the refusal, with its principal, as its row's detail."""
    config = secure_stack.client_config("dashboard")
    job = jobs.Job(
        "probe",
        (sys.executable, "-c", REFUSED_JOB, str(config), *LIBRDKAFKA_KEYS),
        "a refused writer",
        principal="dashboard",
    )
    layout = StackLayout.at(secure_stack.root)
    jobs.start(layout, job, "test")
    deadline = time.monotonic() + 30
    while (status := jobs.status(layout, job)).state == jobs.RUNNING and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status.state == jobs.FAILED, status
    assert "principal dashboard" in status.detail and "TOPIC_AUTHORIZATION_FAILED" in status.detail, (
        status.detail
    )
    assert "\n" not in status.detail


def test_connect_writes_the_stations_rows_as_its_principal(secure_stack: ScratchStack) -> None:
    """The Connect worker and the Debezium connector work over SASL_SSL within connect's
    ACLs: after `cta-jobs setup` the stations rows arrive, read as Faust's principal."""
    setup = subprocess.run(
        [str(Path(sys.executable).parent / "cta-jobs"), "setup"],
        env=secure_stack.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    consumer = Consumer(
        librdkafka_conf(
            secure_stack, "faust", **{"group.id": "cta-stations-probe", "auto.offset.reset": "earliest"}
        )
    )
    consumer.subscribe([topics.STATIONS_RAW])
    rows = 0
    deadline = time.monotonic() + 90
    try:
        while rows == 0 and time.monotonic() < deadline:
            for msg in consumer.consume(500, timeout=1.0):
                error = msg.error()
                if error is not None and error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    continue  # the connector has not made the topic yet
                assert error is None, error  # an authorization failure among them
                rows += 1
    finally:
        consumer.close()
    assert rows > 0, f"no stations rows in 90 s; Connect's log: {secure_stack.root / 'logs' / 'connect.log'}"
