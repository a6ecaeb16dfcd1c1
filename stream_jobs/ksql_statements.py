"""The ksqlDB statements of the course project's step 5, and pure readers of
ksqlDB's REST responses (https://docs.ksqldb.io/en/latest/developer-guide/ksqldb-rest-api/ksql-endpoint/).

TURNSTILE is a STREAM (each message is one entry); the course project declared a
TABLE, which modern ksqlDB only allows with a PRIMARY KEY and which would count the
latest row per key rather than every event.

TURNSTILE_SUMMARY copies the grouping key into the value (``AS_VALUE``) so its values
read ``{"STATION_ID": id, "COUNT": n}`` as the course project's consumers expect
(since ksqlDB 0.10 a GROUP BY column is otherwise only in the key); the key column is
renamed because one name cannot be both. The Faust summary writes the same shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cta_core import topics

STREAM = "TURNSTILE"
TABLE = "TURNSTILE_SUMMARY"


@dataclass(frozen=True)
class KsqlObject:
    kind: str  # "STREAM" or "TABLE"
    name: str
    create: str

    def drop(self) -> str:
        return f"DROP {self.kind} IF EXISTS {self.name};"


def objects(turnstiles_topic: str = topics.TURNSTILES) -> list[KsqlObject]:
    """In creation order (the table reads the stream)."""
    return [
        KsqlObject(
            "STREAM",
            STREAM,
            f"CREATE STREAM {STREAM} (STATION_ID INT, STATION_NAME VARCHAR, LINE VARCHAR) "
            f"WITH (KAFKA_TOPIC='{turnstiles_topic}', VALUE_FORMAT='AVRO');",
        ),
        KsqlObject(
            "TABLE",
            TABLE,
            f"CREATE TABLE {TABLE} WITH (VALUE_FORMAT='JSON') AS "
            f"SELECT STATION_ID AS STATION_ID_KEY, AS_VALUE(STATION_ID) AS STATION_ID, "
            f"COUNT(STATION_ID) AS COUNT FROM {STREAM} GROUP BY STATION_ID;",
        ),
    ]


def listed_names(response: Iterable[Mapping[str, Any]]) -> set[str]:
    """Names in a ``SHOW STREAMS;`` / ``SHOW TABLES;`` response."""
    names: set[str] = set()
    for entity in response:
        for key in ("streams", "tables"):
            for obj in entity.get(key) or []:
                names.add(str(obj.get("name", "")).upper())
    return names


@dataclass(frozen=True)
class Query:
    id: str
    sinks: tuple[str, ...]
    state: str


def queries(response: Iterable[Mapping[str, Any]]) -> list[Query]:
    """Persistent queries in a ``SHOW QUERIES;`` response."""
    out = []
    for entity in response:
        for q in entity.get("queries") or []:
            state = q.get("state")
            if not state and isinstance(q.get("statusCount"), Mapping):
                counts = q["statusCount"]
                state = "RUNNING" if counts.get("RUNNING") else next(iter(counts), "UNKNOWN")
            out.append(
                Query(
                    str(q.get("id")),
                    tuple(str(s).upper() for s in q.get("sinks") or []),
                    str(state or "UNKNOWN"),
                )
            )
    return out


def already_exists(error: Mapping[str, Any]) -> bool:
    return "already exists" in str(error.get("message", "")).lower()
