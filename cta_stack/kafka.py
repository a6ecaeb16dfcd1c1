"""The Kafka brokers: KRaft nodes, each broker and controller in one process.

One broker by default; ``cta-stack up --brokers N`` runs N, every one a voter of the
one controller quorum (so any one of three may die and the quorum keeps a majority).
"""

from __future__ import annotations

import base64
import subprocess
import uuid
from pathlib import Path

from cta_core.ports import LOCALHOST, Ports
from cta_core.topics import replication_for
from cta_stack.certs import SERVER_CN
from cta_stack.errors import StackError
from cta_stack.jvm import render_properties
from cta_stack.principals import ADMIN as ADMIN_PRINCIPAL
from cta_stack.principals import SASL_MECHANISM
from cta_stack.secure_files import SecureFiles

MAIN = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
#: The secured client listener's name (and protocol).
SECURE_LISTENER = "SASL_SSL"
HEAP = "512m"
#: Heap of each broker of a cluster: three brokers in less than one broker's 512 MB x 3
#: (the heap of a broker of this pipeline stays well under 200 MB, see docs/reliability.md)
CLUSTER_HEAP = "256m"


def heap(brokers: int) -> str:
    return HEAP if brokers <= 1 else CLUSTER_HEAP


def server_properties(ports: Ports, log_dir: Path, node: int = 1) -> dict[str, object]:
    """server.properties of broker ``node`` (1-based) of ``ports.kafka_brokers``
    (a combined broker+controller; a static quorum of every broker)."""
    client = ports.kafka_broker_ports()[node - 1]
    controller = ports.kafka_controller_ports()[node - 1]
    voters = ",".join(f"{i}@{LOCALHOST}:{p}" for i, p in enumerate(ports.kafka_controller_ports(), start=1))
    replicas, durability = replication_for(ports.kafka_brokers)
    min_isr = int(durability["min.insync.replicas"])
    return {
        "process.roles": "broker,controller",
        "node.id": node,
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://{LOCALHOST}:{client},CONTROLLER://{LOCALHOST}:{controller}",
        "advertised.listeners": f"PLAINTEXT://{LOCALHOST}:{client}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": 1,
        "default.replication.factor": replicas,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": replicas,
        "offsets.topic.num.partitions": 10,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "transaction.state.log.num.partitions": 10,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        "group.initial.rebalance.delay.ms": 0,
        # A broker that dies (kill -9) is fenced, and its partitions get new leaders,
        # after 3 s without heartbeats instead of 9 s: producers with acks=all stall
        # that long (docs/reliability.md).
        "broker.session.timeout.ms": 3000,
        "broker.heartbeat.interval.ms": 500,
        "auto.create.topics.enable": "true",
        "num.network.threads": 2,
        "num.io.threads": 4,
        "log.retention.hours": 168,
        "log.segment.bytes": 67108864,
    }


def secure_properties(ports: Ports, node: int, files: SecureFiles) -> dict[str, object]:
    """What a secured broker changes: clients on SASL_SSL (SCRAM-SHA-512), the brokers
    among themselves on it as ``admin``, the controller listener on mutual TLS (the
    server certificate's subject is a super user there), and the standard authorizer."""
    client = ports.kafka_broker_ports()[node - 1]
    controller = ports.kafka_controller_ports()[node - 1]
    mechanism = SASL_MECHANISM.lower()
    return {
        "listeners": f"{SECURE_LISTENER}://{LOCALHOST}:{client},CONTROLLER://{LOCALHOST}:{controller}",
        "advertised.listeners": f"{SECURE_LISTENER}://{LOCALHOST}:{client}",
        "inter.broker.listener.name": SECURE_LISTENER,
        "listener.security.protocol.map": f"{SECURE_LISTENER}:SASL_SSL,CONTROLLER:SSL",
        "sasl.enabled.mechanisms": SASL_MECHANISM,
        "sasl.mechanism.inter.broker.protocol": SASL_MECHANISM,
        f"listener.name.sasl_ssl.{mechanism}.sasl.jaas.config": files.jaas(ADMIN_PRINCIPAL),
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(files.certs.server_keystore),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(files.certs.ca),
        "listener.name.controller.ssl.client.auth": "required",
        "authorizer.class.name": AUTHORIZER,
        "super.users": f"User:{ADMIN_PRINCIPAL};User:CN={SERVER_CN}",
        "allow.everyone.if.no.acl.found": "false",
    }


def render_server_properties(
    ports: Ports, log_dir: Path, node: int = 1, secure: SecureFiles | None = None
) -> str:
    values = server_properties(ports, log_dir, node)
    if secure is not None:
        values.update(secure_properties(ports, node, secure))
    return render_properties(values, "written by cta-stack on every start")


def add_scram_args(files: SecureFiles | None) -> list[str]:
    """``kafka-storage format``'s argument giving ``admin`` its SCRAM credential from the
    start (the other principals get theirs through the admin API)."""
    if files is None:
        return []
    return [
        "--add-scram",
        f"{SASL_MECHANISM}=[name={ADMIN_PRINCIPAL},password={files.passwords[ADMIN_PRINCIPAL]}]",
    ]


def new_cluster_id() -> str:
    """A Kafka cluster id: a random UUID, URL-safe base64 without padding (as kafka-storage makes)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def cluster_id(path: Path) -> str:
    """The stack's cluster id, created once and kept so data survives down+up."""
    if path.is_file():
        value = path.read_text().strip()
        if value:
            return value
    value = new_cluster_id()
    path.write_text(value + "\n")
    return value


def is_formatted(log_dir: Path) -> bool:
    return (log_dir / "meta.properties").is_file()


def format_storage(
    java: str, classpath: str, config: Path, cluster: str, log_file: Path, extra: list[str] | None = None
) -> None:
    """Format the log directory (first start only); output appended to the broker's log.
    ``extra``: more arguments (a secured stack's ``--add-scram``)."""
    argv = [java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classpath, STORAGE_TOOL]
    # "--cluster-id=ID" in one word: a random id may start with "-", which argparse would
    # take for an option.
    argv += ["format", "--ignore-formatted", f"--cluster-id={cluster}", "-c", str(config), *(extra or [])]
    with log_file.open("ab") as log:
        proc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise StackError(f"formatting the Kafka log directory failed (exit {proc.returncode})")
