"""Who may open the web dashboard (pure): the token, its cookie and the websocket's origin.

The token comes once as ``?token=...`` in the URL that ``cta-tui serve --web`` prints
(as Jupyter does). A page opened with it sets an HttpOnly, SameSite=Strict cookie, which
the browser sends with the page's script, style and websocket requests; the websocket
must also come from the page's own origin. Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict
from urllib.parse import urlsplit

#: Shortest token accepted from a --token-file (a generated one has 43 characters).
MIN_TOKEN_LENGTH = 16

#: The page may load only its own scripts, styles, fonts and websocket (no web fonts
#: from elsewhere, no frames). The page's few inline scripts need 'unsafe-inline'.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def read_token_file(path: Path) -> str:
    """The token in ``path`` (its first line, spaces stripped); ValueError saying what is wrong."""
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read the token file {path}: {exc.strerror or exc}") from None
    lines = text.strip().splitlines()
    token = lines[0].strip() if lines else ""
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(f"the token in {path} must have at least {MIN_TOKEN_LENGTH} characters")
    if not token.isascii() or not token.isprintable() or " " in token:
        raise ValueError(f"the token in {path} must be printable ASCII without spaces")
    return token


def cookie_name(port: int) -> str:
    """The cookie holding the token; named for the port (cookies are shared across ports)."""
    return f"cta_web_token_{port}"


def token_matches(given: str | None, token: str) -> bool:
    """``given`` is the token (constant-time comparison; a missing one never matches)."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode("utf-8"))


@dataclass(frozen=True)
class Verdict:
    """The answer to one request: allowed, and whether to set the cookie."""

    allowed: bool
    set_cookie: bool = False
    reason: str = ""


def check_request(
    token: str,
    *,
    query: Mapping[str, str],
    cookies: Mapping[str, str],
    cookie: str,
    websocket: bool = False,
    origin: str | None = None,
    host: str | None = None,
) -> Verdict:
    """May this request be served?

    A page or file: the token in the query (the cookie is then set) or in the cookie. The
    websocket: the cookie only (its URL is the page's script's, without the token) and an
    ``Origin`` naming the host the request was sent to.
    """
    if websocket:
        if not token_matches(cookies.get(cookie), token):
            return Verdict(False, reason="websocket without the token's cookie")
        if not same_origin(origin, host):
            return Verdict(False, reason=f"websocket from another origin ({origin or 'none'})")
        return Verdict(True)
    if token_matches(query.get("token"), token):
        return Verdict(True, set_cookie=True)
    if token_matches(cookies.get(cookie), token):
        return Verdict(True)
    if "token" in query:
        return Verdict(False, reason="wrong token")
    return Verdict(False, reason="no token")


def same_origin(origin: str | None, host: str | None) -> bool:
    """The ``Origin`` header names the host (and port) of the ``Host`` header."""
    if not origin or not host or origin == "null":
        return False
    netloc = urlsplit(origin).netloc
    return bool(netloc) and netloc.lower() == host.lower()


class CookieAttributes(TypedDict):
    httponly: bool
    samesite: str
    path: str
    secure: bool


def cookie_attributes(secure: bool) -> CookieAttributes:
    """aiohttp ``set_cookie`` keyword arguments: HttpOnly, SameSite=Strict, the whole site,
    Secure when the browser came over HTTPS (a TLS proxy)."""
    return {"httponly": True, "samesite": "Strict", "path": "/", "secure": secure}


def open_url(host: str, port: int, token: str, *, hostname: str) -> str:
    """The URL to open (printed at start): a wildcard address shows this machine's name."""
    shown = hostname if host in ("", "0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/?token={token}"
