"""ksqlDB REST adapter: ``POST /ksql`` with ``application/vnd.ksql.v1+json``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import httpx

from cta_core.errors import CtaError
from cta_core.http_client import HttpClient
from stream_jobs.ksql_statements import TABLE, KsqlObject, already_exists, listed_names, objects, queries

KSQL_MEDIA = "application/vnd.ksql.v1+json"
KSQL_HINT = (
    "start ksqlDB with `docker compose up -d ksqldb-server` (the local stack has none: use `cta-jobs faust`)"
)

Step = Callable[[str], None]


class KsqlError(CtaError):
    pass


class KsqlClient(HttpClient):
    service = "ksqlDB"
    hint = KSQL_HINT

    def __init__(self, url: str, timeout: float = 10.0):
        super().__init__(url, timeout, headers={"Accept": KSQL_MEDIA, "Content-Type": KSQL_MEDIA})

    def available(self) -> bool:
        try:
            self._http.get("/info", timeout=2.0)
            return True
        except httpx.HTTPError:
            return False

    def run(self, statement: str, properties: dict[str, str] | None = None) -> tuple[int, Any]:
        body = {"ksql": statement, "streamsProperties": properties or {}}
        resp = self._request("POST", "/ksql", json=body)
        try:
            data = resp.json()
        except ValueError:
            raise KsqlError(f"ksqlDB {statement!r}: HTTP {resp.status_code} {resp.text[:200]}") from None
        return resp.status_code, data

    def ok(self, statement: str, properties: dict[str, str] | None = None) -> Any:
        status, data = self.run(statement, properties)
        if status >= 400:
            raise KsqlError(f"ksqlDB refused {statement!r}: {data.get('message', data)}")
        return data

    def existing(self) -> set[str]:
        return listed_names(self.ok("SHOW STREAMS;")) | listed_names(self.ok("SHOW TABLES;"))


Outcome = Literal["created", "exists"]


def create(
    client: KsqlClient, turnstiles_topic: str, step: Step, timeout: float = 60.0
) -> dict[str, Outcome]:
    """Create the missing objects, then wait for the summary's persistent query to run."""
    existing = client.existing()
    done: dict[str, Outcome] = {}
    for obj in objects(turnstiles_topic):
        done[obj.name] = _create_one(client, obj, existing)
        step(f"{obj.name}: {done[obj.name]}")
    deadline = time.monotonic() + timeout
    while True:
        mine = [q for q in queries(client.ok("SHOW QUERIES;")) if TABLE in q.sinks]
        if mine and all(q.state == "RUNNING" for q in mine):
            step(f"query {mine[0].id}: RUNNING")
            return done
        if any(q.state == "ERROR" for q in mine):
            raise KsqlError(f"ksqlDB query for {TABLE} is in ERROR state")
        if time.monotonic() > deadline:
            raise KsqlError(f"ksqlDB query for {TABLE} not RUNNING after {timeout:.0f}s")
        time.sleep(0.5)


def _create_one(client: KsqlClient, obj: KsqlObject, existing: set[str]) -> Outcome:
    if obj.name in existing:
        return "exists"
    status, data = client.run(obj.create, {"ksql.streams.auto.offset.reset": "earliest"})
    if status >= 400:
        if isinstance(data, dict) and already_exists(data):
            return "exists"
        message = data.get("message", data) if isinstance(data, dict) else data
        raise KsqlError(f"ksqlDB refused to create {obj.name}: {message}")
    return "created"


def drop(client: KsqlClient, turnstiles_topic: str, step: Step) -> list[str]:
    """Terminate the queries writing the objects, then drop them (table first)."""
    names = {o.name for o in objects(turnstiles_topic)}
    done = []
    for q in queries(client.ok("SHOW QUERIES;")):
        if names & set(q.sinks):
            client.ok(f"TERMINATE {q.id};")
            done.append(f"terminated {q.id}")
            step(done[-1])
    existing = client.existing()
    for obj in reversed(objects(turnstiles_topic)):
        if obj.name in existing:
            client.ok(obj.drop())
            done.append(f"dropped {obj.name}")
            step(done[-1])
    return done
