"""Kafka Connect in distributed mode, with the Debezium PostgreSQL connector on its plugin path."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from cta_core.client_config import connect_worker_properties
from cta_core.ports import LOCALHOST, Ports
from cta_core.topics import replication_for
from cta_stack.jvm import render_properties
from cta_stack.principals import SASL_MECHANISM

if TYPE_CHECKING:
    from cta_stack.secure_files import SecureFiles

MAIN = "org.apache.kafka.connect.cli.ConnectDistributed"
HEAP = "512m"
GROUP_ID = "cta-connect"
CONFIG_TOPIC = "_cta-connect-configs"
OFFSET_TOPIC = "_cta-connect-offsets"
STATUS_TOPIC = "_cta-connect-status"
DEBEZIUM_POSTGRES = "io.debezium.connector.postgresql.PostgresConnector"


def worker_properties(
    ports: Ports, plugin_path: Path, client: Mapping[str, str] | None = None
) -> dict[str, object]:
    """The worker's properties; ``client``: librdkafka settings of a cluster to use instead
    of the local one (``Settings.librdkafka()``, e.g. from a client config file): its
    bootstrap servers, and its SASL/TLS as the Java client's properties for the worker and
    the clients it makes for connectors."""
    replicas, _ = replication_for(ports.kafka_brokers)
    security = connect_worker_properties(client) if client else {}
    servers = (client or {}).get("bootstrap.servers") or ports.bootstrap_servers()
    return {
        **security,
        "bootstrap.servers": servers,
        "group.id": GROUP_ID,
        "config.storage.topic": CONFIG_TOPIC,
        "offset.storage.topic": OFFSET_TOPIC,
        "status.storage.topic": STATUS_TOPIC,
        "config.storage.replication.factor": replicas,
        "offset.storage.replication.factor": replicas,
        "status.storage.replication.factor": replicas,
        "offset.storage.partitions": 5,
        "status.storage.partitions": 1,
        # JSON rows without the schema envelope (the topic contract); connectors may override.
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "key.converter.schemas.enable": "false",
        "value.converter.schemas.enable": "false",
        "offset.flush.interval.ms": 5000,
        "listeners": f"http://{LOCALHOST}:{ports.connect}",
        "rest.advertised.host.name": LOCALHOST,
        "rest.advertised.port": ports.connect,
        "plugin.path": str(plugin_path),
        "plugin.discovery": "service_load",
    }


#: The principal the worker and its connectors' clients use on a secured stack.
PRINCIPAL = "connect"


def secure_properties(files: SecureFiles) -> dict[str, object]:
    """SASL_SSL (SCRAM) for the worker and, with the ``producer.``/``consumer.``/``admin.``
    prefixes, for its connectors' clients (they do not inherit the worker's settings)."""
    client: dict[str, object] = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": SASL_MECHANISM,
        "sasl.jaas.config": files.jaas(PRINCIPAL),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(files.certs.ca),
    }
    out = dict(client)
    for prefix in ("producer.", "consumer.", "admin."):
        out.update({prefix + key: value for key, value in client.items()})
    return out


def render_worker_properties(
    ports: Ports,
    plugin_path: Path,
    secure: SecureFiles | None = None,
    client: Mapping[str, str] | None = None,
) -> str:
    """The worker's properties: a secured stack's own principal, or an external
    cluster's client config (``--client-config``), or plain local settings."""
    values = worker_properties(ports, plugin_path, client)
    if secure is not None:
        values.update(secure_properties(secure))
    return render_properties(values, "written by cta-stack on every start")
