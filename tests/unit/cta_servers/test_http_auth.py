"""Basic auth in front of the servers (a secured stack): 401 without valid credentials,
403 for a read-only user's write, both in Confluent's shape; served in process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import BasicAuth, web
from aiohttp.test_utils import TestClient, TestServer

from cta_servers.http_auth import credentials, registry_write
from cta_servers.web import Listen, Service, make_web_app
from cta_stack.secure_files import SecureFiles

SERVICE = Service("test registry", "application/vnd.schemaregistry.v1+json", 1024)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[tuple[TestClient, SecureFiles]]:
    files = SecureFiles.ensure(tmp_path)
    files.http_users.write_text(json.dumps(files.http_users_doc()))
    routes = web.RouteTableDef()

    @routes.get("/subjects")
    async def subjects(_request: web.Request) -> web.Response:
        return web.json_response([])

    @routes.post("/subjects/{subject}/versions")
    async def register(_request: web.Request) -> web.Response:
        return web.json_response({"id": 1})

    app = make_web_app(SERVICE, routes)
    Listen("127.0.0.1", 0, users_file=files.http_users).secure(
        app, SERVICE, "schema-registry", registry_write
    )
    async with TestClient(TestServer(app)) as test_client:
        yield test_client, files


def _auth(files: SecureFiles, principal: str) -> BasicAuth:
    return BasicAuth(principal, files.passwords[principal])


async def test_no_or_wrong_credentials_get_401_and_a_reader_403(
    client: tuple[TestClient, SecureFiles],
) -> None:
    http, files = client
    anonymous = await http.get("/subjects")
    assert anonymous.status == 401 and await anonymous.json() == {
        "error_code": 401,
        "message": "Unauthorized",
    }
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic ")
    assert (await http.get("/subjects", auth=BasicAuth("sim", "wrong"))).status == 401
    assert (await http.get("/subjects", auth=_auth(files, "dashboard"))).status == 200
    denied = await http.post("/subjects/x-value/versions", json={}, auth=_auth(files, "dashboard"))
    assert denied.status == 403
    assert await denied.json() == {
        "error_code": 40301,
        "message": "User dashboard is denied operation Write on Subject: x-value",
    }
    assert (await http.post("/subjects/x-value/versions", json={}, auth=_auth(files, "sim"))).status == 200


def test_credentials_parse_basic_headers_only() -> None:
    assert credentials("Basic c2ltOnA6dw==") == ("sim", "p:w")
    assert (
        credentials("Bearer abc") is None and credentials("Basic !!!") is None and credentials(None) is None
    )
