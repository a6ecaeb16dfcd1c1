"""HTTPS and HTTP basic auth for the Schema Registry and the REST Proxy (a secured stack).

The users file (written by ``cta-stack up --secure``) holds one section per server, each
user with a salted SHA-256 of the password and whether it may write. A request without
valid credentials is answered 401, a read-only user's write (registering a schema,
producing through the proxy) 403, both in Confluent's
error shape (``{"error_code", "message"}``) as Confluent's servers answer them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from cta_servers.errors import ConfluentError

REALM = "cta-live"
#: Confluent's error code of a denied operation
FORBIDDEN = 40301


@dataclass(frozen=True)
class User:
    salt: str
    sha256: str
    write: bool = False

    def accepts(self, password: str) -> bool:
        digest = hashlib.sha256(f"{self.salt}:{password}".encode()).hexdigest()
        return hmac.compare_digest(digest, self.sha256)


def load_users(path: Path, section: str) -> dict[str, User]:
    """The users of ``section`` (``schema-registry`` or ``rest-proxy``) in ``path``."""
    doc = json.loads(path.read_text())
    return {
        name: User(str(u["salt"]), str(u["sha256"]), bool(u.get("write", False)))
        for name, u in doc.get(section, {}).items()
    }


def credentials(header: str | None) -> tuple[str, str] | None:
    """``(user, password)`` of an ``Authorization: Basic ...`` header, else None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def registry_write(request: web.Request) -> str | None:
    """The subject (or ``*``) a Schema Registry request changes, None for a read."""
    parts = [p for p in request.path.split("/") if p]
    if request.method in ("PUT", "DELETE") or (request.method == "POST" and parts[-1:] == ["versions"]):
        return parts[1] if len(parts) > 1 and parts[0] in ("subjects", "config", "mode") else "*"
    return None


def rest_proxy_write(request: web.Request) -> str | None:
    """The topic a REST Proxy request produces to (``POST /topics/{topic}[/partitions/..]``),
    None for a read."""
    parts = [p for p in request.path.split("/") if p]
    if request.method == "POST" and parts[:1] == ["topics"] and len(parts) > 1:
        return parts[1]
    return None


def basic_auth(users: dict[str, User], content_type: str, writes: Any = None) -> Any:
    """The middleware: 401 without valid credentials; 403 when ``writes(request)`` names
    what a user without the write right would change."""

    def answer(status: int, code: int, message: str) -> web.Response:
        body = json.dumps(ConfluentError(status, code, message).body()).encode()
        headers = {"WWW-Authenticate": f'Basic realm="{REALM}"'} if status == 401 else None
        return web.Response(body=body, status=status, content_type=content_type, headers=headers)

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        given = credentials(request.headers.get("Authorization"))
        user = users.get(given[0]) if given else None
        if given is None or user is None or not user.accepts(given[1]):
            return answer(401, 401, "Unauthorized")
        target = writes(request) if writes is not None else None
        if target is not None and not user.write:
            what = "Topic" if writes is rest_proxy_write else "Subject"
            return answer(403, FORBIDDEN, f"User {given[0]} is denied operation Write on {what}: {target}")
        return await handler(request)

    return middleware


def server_ssl_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context
