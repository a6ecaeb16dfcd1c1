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
from cta_stack.errors import StackError
from cta_stack.jvm import render_properties

MAIN = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
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


def render_server_properties(ports: Ports, log_dir: Path, node: int = 1) -> str:
    return render_properties(server_properties(ports, log_dir, node), "written by cta-stack on every start")


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


def format_storage(java: str, classpath: str, config: Path, cluster: str, log_file: Path) -> None:
    """Format the log directory (first start only); output appended to the broker's log."""
    argv = [java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classpath, STORAGE_TOOL]
    # "--cluster-id=ID" in one word: a random id may start with "-", which argparse would
    # take for an option.
    argv += ["format", "--ignore-formatted", f"--cluster-id={cluster}", "-c", str(config)]
    with log_file.open("ab") as log:
        proc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise StackError(f"formatting the Kafka log directory failed (exit {proc.returncode})")
