"""The smallest secured Kafka a test can meet: one KRaft node on free ports with a
SASL_PLAINTEXT listener (SCRAM-SHA-512), the standard authorizer, ``admin`` as the one
super user, SCRAM users made at format time and ACLs given per test. It runs from the
local stack's jar cache beside (never instead of) the shared stack, and is deleted after.

:meth:`SaslBroker.client_config` writes a principal's client config file in the
format every command reads (``--client-config``)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from cta_core.ports import LOCALHOST
from cta_stack.jars import Jars
from cta_stack.java import check_java
from cta_stack.jvm import LOG4J2_XML, render_properties
from cta_stack.paths import jar_cache_dir
from tests.support.ports import closed_port

MECHANISM = "SCRAM-SHA-512"
SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"


@dataclass
class SaslBroker:
    """A running SASL broker: its address, users and directory."""

    root: Path
    port: int
    passwords: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    def conf(self, user: str, password: str | None = None) -> dict[str, str]:
        """librdkafka settings for ``user`` (``password`` default: the right one)."""
        return {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": MECHANISM,
            "sasl.username": user,
            "sasl.password": self.passwords[user] if password is None else password,
        }

    def client_config(self, user: str, password: str | None = None, **extra: str) -> Path:
        """A client config file for ``user`` (mode 0600): librdkafka keys, plus ``extra``."""
        path = self.root / f"{user}.properties"
        lines = [f"{k}={v}" for k, v in {**self.conf(user, password), **extra}.items()]
        path.write_text("# written by the test's SASL broker\n" + "\n".join(lines) + "\n")
        path.chmod(0o600)
        return path

    def admin(self) -> AdminClient:
        return AdminClient({**self.conf("admin"), "logger": _quiet()})

    def allow(self, user: str, rules: Iterable[tuple[ResourceType, str, AclOperation, bool]]) -> None:
        """ACLs for ``user``: (resource type, name, operation, prefixed?) each."""
        bindings = [
            AclBinding(
                kind,
                name,
                ResourcePatternType.PREFIXED if prefixed else ResourcePatternType.LITERAL,
                f"User:{user}",
                "*",
                operation,
                AclPermissionType.ALLOW,
            )
            for kind, name, operation, prefixed in rules
        ]
        admin = self.admin()  # held until the futures are done (a dropped client cancels them)
        for future in admin.create_acls(bindings, request_timeout=15).values():
            future.result()


def _quiet() -> object:
    import logging

    logger = logging.getLogger("tests.sasl_broker.librdkafka")
    logger.setLevel(logging.CRITICAL)
    return logger


def _server_properties(root: Path, port: int, controller: int, admin_password: str) -> dict[str, object]:
    listener = "SASL_PLAINTEXT"
    return {
        "process.roles": "broker,controller",
        "node.id": 1,
        "controller.quorum.voters": f"1@{LOCALHOST}:{controller}",
        "listeners": f"{listener}://{LOCALHOST}:{port},CONTROLLER://{LOCALHOST}:{controller}",
        "advertised.listeners": f"{listener}://{LOCALHOST}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": listener,
        "listener.security.protocol.map": f"{listener}:{listener},CONTROLLER:PLAINTEXT",
        "sasl.enabled.mechanisms": MECHANISM,
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        f"listener.name.{listener.lower()}.{MECHANISM.lower()}.sasl.jaas.config": (
            f'{SCRAM_MODULE} required username="admin" password="{admin_password}";'
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        # ANONYMOUS: the controller listener's (plaintext, on localhost) broker-to-controller calls
        "super.users": "User:admin;User:ANONYMOUS",
        "allow.everyone.if.no.acl.found": "false",
        "log.dirs": str(root / "data"),
        "num.partitions": 1,
        "offsets.topic.replication.factor": 1,
        "offsets.topic.num.partitions": 3,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        "group.initial.rebalance.delay.ms": 0,
        "auto.create.topics.enable": "false",
        "num.network.threads": 2,
        "num.io.threads": 2,
    }


def _java(java: str, classpath: str, root: Path, *args: str, heap: str = "256m") -> list[str]:
    log4j2 = root / "log4j2.xml"
    log4j2.write_text(LOG4J2_XML)
    return [
        java,
        f"-Xmx{heap}",
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        f"-Dlog4j2.configurationFile={log4j2}",
        f"-Dcta.log.file={root / 'kafka.log'}",
        "-Dcta.log.max.bytes=10000000",
        "-Dcta.log.backups=1",
        "-cp",
        classpath,
        *args,
    ]


def _wait_ready(broker: SaslBroker, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    admin = broker.admin()
    while True:
        assert broker.process is not None
        if broker.process.poll() is not None:
            raise RuntimeError(f"the SASL broker exited:\n{_log_tail(broker.root)}")
        try:
            admin.list_topics(timeout=2)
            return
        except KafkaException:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the SASL broker did not start:\n{_log_tail(broker.root)}") from None
            time.sleep(0.3)


def _log_tail(root: Path) -> str:
    for name in ("kafka.log", "kafka.out"):
        path = root / name
        if path.is_file():
            return path.read_text(errors="replace")[-3000:]
    return "(no log)"


@contextlib.contextmanager
def sasl_broker(users: Iterable[str], timeout: float = 90.0) -> Iterator[SaslBroker]:
    """A SASL broker with SCRAM users ``admin`` and ``users`` (random passwords)."""
    jars = Jars.in_cache(jar_cache_dir(os.environ))
    if not jars.kafka.is_complete():
        raise RuntimeError(f"no Kafka jars in {jars.kafka.directory}: run `make install` first")
    java, classpath = check_java(), jars.classpath()
    root = Path(tempfile.mkdtemp(prefix="cta-sasl-"))
    passwords = {name: secrets.token_urlsafe(12) for name in ("admin", *users)}
    broker = SaslBroker(root, closed_port(), passwords)
    config = root / "server.properties"
    config.write_text(
        render_properties(_server_properties(root, broker.port, closed_port(), passwords["admin"]))
    )
    scram = [a for u, p in passwords.items() for a in ("--add-scram", f"{MECHANISM}=[name={u},password={p}]")]
    cluster = "--cluster-id=" + "q1Sh-9_ISia_zwGINzRvyQ"
    with (root / "kafka.out").open("ab") as out:
        subprocess.run(
            _java(
                java, classpath, root, "kafka.tools.StorageTool", "format", cluster, "-c", str(config), *scram
            ),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )
        broker.process = subprocess.Popen(
            _java(java, classpath, root, "kafka.Kafka", str(config), heap="384m"),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_ready(broker, timeout)
        yield broker
    finally:
        broker.process.terminate()
        try:
            broker.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            broker.process.kill()
            broker.process.wait()
        shutil.rmtree(root, ignore_errors=True)
