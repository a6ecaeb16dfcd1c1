"""The servers' shared web base and the registry's config and mode routes, served in
process (aiohttp's test server; the registry's store is an in-memory stand-in)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from cta_servers.errors import ConfluentError
from cta_servers.schema_registry.app import make_app
from cta_servers.schema_registry.state import RegistryState, StoreRecord
from cta_servers.web import Service, make_web_app

SERVICE = Service("test server", "application/vnd.test+json", 1024, internal_code=50001)


class MemoryStore:
    """What the app needs of the Kafka store: records applied once written."""

    def __init__(self, state: RegistryState) -> None:
        self.state = state

    async def put(self, records: list[StoreRecord]) -> None:
        for key, value in records:
            self.state.apply(key, value)


async def _client(app: web.Application) -> AsyncIterator[TestClient[Any, Any]]:
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def base() -> AsyncIterator[TestClient[Any, Any]]:
    routes = web.RouteTableDef()

    @routes.get("/refused")
    async def refused(request: web.Request) -> web.Response:
        raise ConfluentError(422, 42201, "no")

    @routes.get("/broken")
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("bug")

    @routes.post("/echo")
    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    async for client in _client(make_web_app(SERVICE, routes)):
        yield client


@pytest.fixture
async def registry() -> AsyncIterator[TestClient[Any, Any]]:
    state = RegistryState()
    async for client in _client(make_app(state, MemoryStore(state))):  # type: ignore[arg-type]
        yield client


async def test_every_failure_is_answered_in_confluents_shape(base: TestClient[Any, Any]) -> None:
    root = await base.get("/")
    assert root.status == 200 and await root.json() == {}
    assert root.content_type == SERVICE.content_type
    expected = {
        "/refused": (422, 42201),
        "/broken": (500, 50001),
        "/nowhere": (404, 404),
    }
    for path, (status, code) in expected.items():
        resp = await base.get(path)
        assert (resp.status, (await resp.json(content_type=None))["error_code"]) == (status, code), path
    too_large = await base.post("/echo", data=b"x" * 2048)
    assert too_large.status == 413 and (await too_large.json(content_type=None))["error_code"] == 413
    assert (await base.post("/echo", data=b"x" * 10)).status == 200


async def test_compatibility_per_subject_with_the_global_default(registry: TestClient[Any, Any]) -> None:
    assert await (await registry.get("/config")).json(content_type=None) == {"compatibilityLevel": "BACKWARD"}
    put = await registry.put("/config/s", json={"compatibility": "full"})
    assert await put.json(content_type=None) == {"compatibility": "FULL"}
    assert await (await registry.get("/config/s")).json(content_type=None) == {"compatibilityLevel": "FULL"}
    unset = await registry.get("/config/t")
    assert unset.status == 404 and (await unset.json(content_type=None))["error_code"] == 40408
    fallback = await registry.get("/config/t", params={"defaultToGlobal": "true"})
    assert await fallback.json(content_type=None) == {"compatibilityLevel": "BACKWARD"}
    deleted = await registry.delete("/config/s")
    assert await deleted.json(content_type=None) == {"compatibilityLevel": "FULL"}
    assert (await registry.delete("/config/s")).status == 404
    bad = await registry.put("/config", json={"compatibility": "SIDEWAYS"})
    assert bad.status == 422 and (await bad.json(content_type=None))["error_code"] == 42203


async def test_mode_per_subject_with_the_global_default(registry: TestClient[Any, Any]) -> None:
    assert await (await registry.get("/mode")).json(content_type=None) == {"mode": "READWRITE"}
    put = await registry.put("/mode", json={"mode": "import"})
    assert await put.json(content_type=None) == {"mode": "IMPORT"}
    assert await (await registry.put("/mode/s", json={"mode": "READONLY"})).json(content_type=None) == {
        "mode": "READONLY"
    }
    assert await (await registry.get("/mode/s")).json(content_type=None) == {"mode": "READONLY"}
    unset = await registry.get("/mode/t")
    assert unset.status == 404 and (await unset.json(content_type=None))["error_code"] == 40409
    fallback = await registry.get("/mode/t", params={"defaultToGlobal": "true"})
    assert await fallback.json(content_type=None) == {"mode": "IMPORT"}
    assert await (await registry.delete("/mode/s")).json(content_type=None) == {"mode": "READONLY"}
    assert (await registry.delete("/mode/s")).status == 404


async def test_a_repeated_register_or_lookup_is_answered_from_the_cache(
    registry: TestClient[Any, Any],
) -> None:
    from cta_servers.schema_registry.app import ANSWERS

    schema = {"schema": '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}'}
    first = await (await registry.post("/subjects/s/versions", json=schema)).json(content_type=None)
    again = await (await registry.post("/subjects/s/versions", json=schema)).json(content_type=None)
    assert first == again == {"id": 1}
    found = await (await registry.post("/subjects/s", json=schema)).json(content_type=None)
    assert (found["subject"], found["version"], found["id"]) == ("s", 1, 1)
    answers = registry.app[ANSWERS]  # the repeated register and the lookup were remembered
    assert {path for path, _body in answers} == {"/subjects/s/versions", "/subjects/s"}
    missing = await registry.post("/subjects/t", json=schema)
    assert missing.status == 404 and (await missing.json(content_type=None))["error_code"] == 40401
