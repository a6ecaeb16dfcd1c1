"""ConnectClient against canned Kafka Connect REST answers (httpx MockTransport).

A FAILED task cannot be produced on demand on the shared stack without breaking
its `stations` connector, so these answers follow the Connect REST API docs
(GET /connectors/<name>/status, GET/PUT /connectors/<name>/config).
"""

from __future__ import annotations

import json

import httpx
import pytest

from stream_jobs.connect_client import ConnectClient, ConnectorFailed

CONFIG = {"connector.class": "x", "tasks.max": "1"}


def _client(handler: object) -> ConnectClient:
    return ConnectClient("http://connect.test", transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


def test_failed_task_raises_with_its_trace() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "name": "stations",
                "connector": {"state": "RUNNING", "worker_id": "w:8083"},
                "tasks": [
                    {"id": 0, "state": "FAILED", "worker_id": "w:8083", "trace": "PSQLException: password"}
                ],
            },
        )

    with pytest.raises(ConnectorFailed) as info:
        _client(handler).wait_running("stations", timeout=5)
    assert "task 0: PSQLException: password" in str(info.value)


def test_ensure_puts_only_when_the_config_differs() -> None:
    stored: dict[str, str] = {}
    puts: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            if not stored:
                return httpx.Response(
                    404, json={"error_code": 404, "message": "Connector stations not found"}
                )
            return httpx.Response(200, json={**stored, "name": "stations"})
        body = json.loads(request.content)
        puts.append(body)
        stored.clear()
        stored.update(body)
        return httpx.Response(201, json={"name": "stations", "config": body, "tasks": []})

    client = _client(handler)
    assert client.ensure("stations", CONFIG) == "created"
    assert client.ensure("stations", CONFIG) == "unchanged"
    assert client.ensure("stations", {**CONFIG, "tasks.max": "2"}) == "updated"
    assert len(puts) == 2
