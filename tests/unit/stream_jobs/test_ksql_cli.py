"""`cta-jobs ksql` against a stand-in for ksqlDB.

A ksqlDB server cannot run here (it needs Docker), so these tests run a small
local aiohttp server that answers ``POST /ksql`` the way ksqlDB's REST API
documents it (docs.ksqldb.io, "/ksql endpoint"): ``currentStatus`` entities for
accepted statements, ``streams``/``tables``/``queries`` listings, and HTTP 400
``statement_error`` bodies (``error_code`` 40001) for refused ones, including
"already exists".
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from click.testing import CliRunner

from stream_jobs.cli import main

MEDIA = "application/vnd.ksql.v1+json"


class FakeKsql:
    """Keeps streams, tables and persistent queries like a one-node ksqlDB."""

    def __init__(self, *, refuse: str | None = None, race_exists: bool = False) -> None:
        self.streams: dict[str, str] = {}
        self.tables: dict[str, str] = {}
        self.queries: dict[str, dict[str, Any]] = {}
        self.statements: list[str] = []
        self.refuse = refuse
        self.race_exists = race_exists
        self.content_types: set[str] = set()

    def _error(self, text: str, message: str) -> web.Response:
        body = {
            "@type": "statement_error",
            "error_code": 40001,
            "message": message,
            "statementText": text,
            "entities": [],
        }
        return web.json_response(body, status=400, content_type=MEDIA)

    def _status(self, text: str, message: str, query_id: str | None = None) -> web.Response:
        body = [
            {
                "@type": "currentStatus",
                "statementText": text,
                "commandId": f"x/{len(self.statements)}/create",
                "commandStatus": {"status": "SUCCESS", "message": message, "queryId": query_id},
                "commandSequenceNumber": len(self.statements),
                "warnings": [],
            }
        ]
        return web.json_response(body, content_type=MEDIA)

    async def handle(self, request: web.Request) -> web.Response:
        self.content_types.add(request.headers.get("Content-Type", ""))
        body = await request.json()
        text = body["ksql"].strip()
        self.statements.append(text)
        upper = text.upper()
        if self.refuse and self.refuse in upper:
            return self._error(text, f"line 1:1: mismatched input '{self.refuse}'")
        if upper == "SHOW STREAMS;":
            rows = [
                {
                    "type": "STREAM",
                    "name": n,
                    "topic": t,
                    "keyFormat": "KAFKA",
                    "valueFormat": "AVRO",
                    "isWindowed": False,
                }
                for n, t in self.streams.items()
            ]
            return web.json_response(
                [{"@type": "streams", "statementText": text, "streams": rows, "warnings": []}],
                content_type=MEDIA,
            )
        if upper == "SHOW TABLES;":
            rows = [
                {
                    "type": "TABLE",
                    "name": n,
                    "topic": t,
                    "keyFormat": "KAFKA",
                    "valueFormat": "JSON",
                    "isWindowed": False,
                }
                for n, t in self.tables.items()
            ]
            return web.json_response(
                [{"@type": "tables", "statementText": text, "tables": rows, "warnings": []}],
                content_type=MEDIA,
            )
        if upper == "SHOW QUERIES;":
            return web.json_response(
                [
                    {
                        "@type": "queries",
                        "statementText": text,
                        "queries": list(self.queries.values()),
                        "warnings": [],
                    }
                ],
                content_type=MEDIA,
            )
        m = re.match(r"CREATE (STREAM|TABLE) (\w+)", upper)
        if m:
            kind, name = m.groups()
            store = self.streams if kind == "STREAM" else self.tables
            if name in store or (self.race_exists and kind == "STREAM"):
                return self._error(
                    text,
                    f"Cannot add {kind.lower()} '{name}': A {kind.lower()} with the same name already exists",
                )
            store[name] = name
            if " AS SELECT " in upper:
                qid = f"CTAS_{name}_{len(self.statements)}"
                self.queries[qid] = {
                    "queryString": text,
                    "sinks": [name],
                    "sinkKafkaTopics": [name],
                    "id": qid,
                    "statusCount": {"RUNNING": 1},
                    "queryType": "PERSISTENT",
                    "state": "RUNNING",
                }
                return self._status(text, "Created query with ID " + qid, qid)
            return self._status(text, f"{kind.title()} created")
        m = re.match(r"TERMINATE (\w+);", upper)
        if m:
            if self.queries.pop(m.group(1), None) is None:
                return self._error(text, f"Unknown queryId: {m.group(1)}")
            return self._status(text, "Query terminated.")
        m = re.match(r"DROP (STREAM|TABLE) IF EXISTS (\w+);", upper)
        if m:
            kind, name = m.groups()
            (self.streams if kind == "STREAM" else self.tables).pop(name, None)
            return self._status(text, f"Source `{name}` (topic: {name}) was dropped.")
        return self._error(text, "line 1:1: mismatched input")


def _serve(fake: FakeKsql) -> Iterator[str]:
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_post("/ksql", fake.handle)

    async def info(_request: web.Request) -> web.Response:
        return web.json_response({"KsqlServerInfo": {"version": "7.9.9"}})

    app.router.add_get("/info", info)
    runner = web.AppRunner(app)
    started = threading.Event()
    port: list[int] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        port.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield f"http://127.0.0.1:{port[0]}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@pytest.fixture
def fake() -> FakeKsql:
    return FakeKsql()


@pytest.fixture
def ksql_url(fake: FakeKsql) -> Iterator[str]:
    yield from _serve(fake)


def _run(url: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["ksql", "--ksql-url", url, *args])


def test_creates_stream_and_table_then_skips_them(fake: FakeKsql, ksql_url: str) -> None:
    first = _run(ksql_url)
    assert first.exit_code == 0, first.stderr
    assert "TURNSTILE: created" in first.stdout and "TURNSTILE_SUMMARY: created" in first.stdout
    assert "RUNNING" in first.stdout
    creates = [s for s in fake.statements if s.startswith("CREATE")]
    assert "VALUE_FORMAT='AVRO'" in creates[0] and "org.chicago.cta.turnstiles.v1" in creates[0]
    assert creates[1] == (
        "CREATE TABLE TURNSTILE_SUMMARY WITH (VALUE_FORMAT='JSON') AS SELECT STATION_ID AS STATION_ID_KEY, "
        "AS_VALUE(STATION_ID) AS STATION_ID, COUNT(STATION_ID) AS COUNT FROM TURNSTILE GROUP BY STATION_ID;"
    )
    assert fake.content_types == {MEDIA}
    second = _run(ksql_url)
    assert second.exit_code == 0
    assert "TURNSTILE: exists" in second.stdout and "TURNSTILE_SUMMARY: exists" in second.stdout
    assert len([s for s in fake.statements if s.startswith("CREATE")]) == 2


def test_drop_terminates_the_query_and_drops_both(fake: FakeKsql, ksql_url: str) -> None:
    assert _run(ksql_url).exit_code == 0
    result = _run(ksql_url, "--drop")
    assert result.exit_code == 0, result.stderr
    assert fake.queries == {} and fake.streams == {} and fake.tables == {}
    order = [s.split()[0] for s in fake.statements if s.split()[0] in ("TERMINATE", "DROP")]
    assert order == ["TERMINATE", "DROP", "DROP"]
    assert fake.statements[-1] == "DROP STREAM IF EXISTS TURNSTILE;"


def test_already_exists_answer_counts_as_existing() -> None:
    racing = FakeKsql(race_exists=True)
    for url in _serve(racing):
        result = _run(url)
        assert result.exit_code == 0, result.stderr
        assert "TURNSTILE: exists" in result.stdout


def test_a_refused_statement_is_an_error_with_ksqldbs_message() -> None:
    refusing = FakeKsql(refuse="CREATE TABLE")
    for url in _serve(refusing):
        result = _run(url)
        assert result.exit_code == 1
        assert "mismatched input" in result.stderr and "TURNSTILE_SUMMARY" in result.stderr


def test_no_ksqldb_is_one_line_and_exit_1() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = _run(f"http://127.0.0.1:{port}")
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "ksqlDB" in lines[0]
