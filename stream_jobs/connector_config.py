"""Pure Kafka Connect configurations for the stations source connector.

Both variants put the same flat JSON rows (schemas off, one message per row,
field names = column names) on ``org.chicago.cta.stations`` and
``org.chicago.cta.line_stations``. docs/jobs.md explains the differences.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from psycopg.conninfo import conninfo_to_dict

from cta_core.topics import CONNECT_TOPIC_PREFIX

ConnectorKind = Literal["jdbc", "debezium"]

DEBEZIUM_CLASS = "io.debezium.connector.postgresql.PostgresConnector"
JDBC_CLASS = "io.confluent.connect.jdbc.JdbcSourceConnector"
CONNECTOR_NAME = "stations"
#: The JDBC connector cannot poll line_stations incrementally; it gets its own bulk connector.
JDBC_LINES_CONNECTOR_NAME = "stations-lines"
TABLES = ("stations", "line_stations")
PUBLICATION = "cta_stations"
SLOT = "cta_stations"
#: Debezium's own topic prefix; the RegexRouter maps ``cta.public.<table>`` to ours.
DEBEZIUM_TOPIC_PREFIX = "cta"

JSON_CONVERTERS = {
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "key.converter.schemas.enable": "false",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter.schemas.enable": "false",
}


class NoUsableConnector(ValueError):
    """The Connect worker has neither the Debezium nor the JDBC plugin."""


@dataclass(frozen=True)
class Database:
    host: str
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def from_dsn(cls, dsn: str, host_override: str | None = None) -> Database:
        info = conninfo_to_dict(dsn)
        return cls(
            host=host_override or str(info.get("host") or "127.0.0.1"),
            port=int(info.get("port") or 5432),
            user=str(info.get("user") or ""),
            password=str(info.get("password") or ""),
            dbname=str(info.get("dbname") or ""),
        )


def choose(plugins: Iterable[Mapping[str, object]], wanted: str = "auto") -> ConnectorKind:
    """Pick the connector kind from ``GET /connector-plugins``: Debezium when present."""
    classes = {str(p.get("class")) for p in plugins}
    if wanted == "debezium" or (wanted == "auto" and DEBEZIUM_CLASS in classes):
        if DEBEZIUM_CLASS not in classes:
            raise NoUsableConnector(f"the Connect worker has no {DEBEZIUM_CLASS}")
        return "debezium"
    if JDBC_CLASS not in classes:
        raise NoUsableConnector(
            f"the Connect worker has neither {DEBEZIUM_CLASS} nor {JDBC_CLASS}"
            if wanted == "auto"
            else f"the Connect worker has no {JDBC_CLASS}"
        )
    return "jdbc"


def debezium_config(db: Database) -> dict[str, str]:
    include = ",".join(f"public.{t}" for t in TABLES)
    return {
        "connector.class": DEBEZIUM_CLASS,
        "tasks.max": "1",
        "database.hostname": db.host,
        "database.port": str(db.port),
        "database.user": db.user,
        "database.password": db.password,
        "database.dbname": db.dbname,
        "topic.prefix": DEBEZIUM_TOPIC_PREFIX,
        "plugin.name": "pgoutput",
        "publication.name": PUBLICATION,
        "publication.autocreate.mode": "filtered",
        "slot.name": SLOT,
        "table.include.list": include,
        "snapshot.mode": "initial",
        # numbers as JSON numbers, not base64 bytes; booleans are JSON booleans already
        "decimal.handling.mode": "double",
        "time.precision.mode": "connect",
        "tombstones.on.delete": "false",
        **JSON_CONVERTERS,
        "transforms": "unwrap,route",
        "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
        # parity with the JDBC connector: rows only, deletes are not propagated
        "transforms.unwrap.delete.tombstone.handling.mode": "drop",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": rf"{DEBEZIUM_TOPIC_PREFIX}\.public\.(.*)",
        "transforms.route.replacement": f"{CONNECT_TOPIC_PREFIX}$1",
    }


def _jdbc_common(db: Database) -> dict[str, str]:
    return {
        "connector.class": JDBC_CLASS,
        "tasks.max": "1",
        "connection.url": f"jdbc:postgresql://{db.host}:{db.port}/{db.dbname}",
        "connection.user": db.user,
        "connection.password": db.password,
        "topic.prefix": CONNECT_TOPIC_PREFIX,
        "batch.max.rows": "500",
        **JSON_CONVERTERS,
    }


def jdbc_configs(db: Database) -> dict[str, dict[str, str]]:
    """The course project's JDBC source (incrementing on stop_id) plus a bulk one for line_stations."""
    return {
        CONNECTOR_NAME: {
            **_jdbc_common(db),
            "table.whitelist": "stations",
            "mode": "incrementing",
            "incrementing.column.name": "stop_id",
            "poll.interval.ms": "10000",
        },
        JDBC_LINES_CONNECTOR_NAME: {
            **_jdbc_common(db),
            "table.whitelist": "line_stations",
            "mode": "bulk",
            "poll.interval.ms": "3600000",
        },
    }


def configs(kind: ConnectorKind, db: Database) -> dict[str, dict[str, str]]:
    """Connector name -> config for ``PUT /connectors/<name>/config``."""
    if kind == "debezium":
        return {CONNECTOR_NAME: debezium_config(db)}
    return jdbc_configs(db)


def same_config(existing: Mapping[str, object], wanted: Mapping[str, str]) -> bool:
    """True when Connect's stored config equals ``wanted`` (Connect adds ``name``)."""
    stored = {k: str(v) for k, v in existing.items() if k != "name"}
    return stored == dict(wanted)
