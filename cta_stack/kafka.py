"""The Kafka broker: a single KRaft node (broker and controller in one process)."""

from __future__ import annotations

import base64
import subprocess
import uuid
from pathlib import Path

from cta_core.ports import LOCALHOST, Ports
from cta_stack.errors import StackError
from cta_stack.jvm import render_properties

MAIN = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
HEAP = "512m"


def server_properties(ports: Ports, log_dir: Path) -> dict[str, object]:
    """server.properties of the combined broker+controller (static quorum of one voter)."""
    return {
        "process.roles": "broker,controller",
        "node.id": 1,
        "controller.quorum.voters": f"1@{LOCALHOST}:{ports.kafka_controller}",
        "listeners": f"PLAINTEXT://{LOCALHOST}:{ports.kafka},CONTROLLER://{LOCALHOST}:{ports.kafka_controller}",
        "advertised.listeners": f"PLAINTEXT://{LOCALHOST}:{ports.kafka}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": 1,
        "default.replication.factor": 1,
        "min.insync.replicas": 1,
        "offsets.topic.replication.factor": 1,
        "offsets.topic.num.partitions": 10,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 10,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        "group.initial.rebalance.delay.ms": 0,
        "auto.create.topics.enable": "true",
        "num.network.threads": 2,
        "num.io.threads": 4,
        "log.retention.hours": 168,
        "log.segment.bytes": 67108864,
    }


def render_server_properties(ports: Ports, log_dir: Path) -> str:
    return render_properties(server_properties(ports, log_dir), "written by cta-stack on every start")


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
