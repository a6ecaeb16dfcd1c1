"""``cta-tui serve --web`` without a browser: the token, its cookie and the websocket's
origin (pure), the server's answers to requests (aiohttp's test client, no dashboard
started) and the web sessions' command and environment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from cta_core.settings import Settings
from cta_tui.ssh.hub import FEED_ENV
from cta_tui.ssh.keys import KeyRing
from cta_tui.ssh.server import READ_ONLY_FLAG, ServeOptions
from cta_tui.ssh.serving import WebPlan, plan_web, web_options
from cta_tui.web.access import (
    check_request,
    cookie_attributes,
    cookie_name,
    new_token,
    open_url,
    read_token_file,
    same_origin,
    token_matches,
)
from cta_tui.web.server import WebDashboardServer, WebOptions

TOKEN = "t" * 43
COOKIE = cookie_name(8000)


def test_new_tokens_are_long_and_different() -> None:
    tokens = {new_token() for _ in range(20)}
    assert len(tokens) == 20 and all(len(t) >= 43 for t in tokens)


def test_token_matches_only_the_token() -> None:
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches(None, TOKEN) and not token_matches("", TOKEN)
    assert not token_matches(TOKEN[:-1], TOKEN) and not token_matches(TOKEN + "x", TOKEN)
    assert not token_matches("é" * 43, TOKEN)


def test_the_page_needs_the_token_in_its_url_or_its_cookie() -> None:
    def verdict(query: dict[str, str], cookies: dict[str, str]):  # type: ignore[no-untyped-def]
        return check_request(TOKEN, query=query, cookies=cookies, cookie=COOKIE)

    assert verdict({"token": TOKEN}, {}).allowed and verdict({"token": TOKEN}, {}).set_cookie
    assert verdict({}, {COOKIE: TOKEN}).allowed and not verdict({}, {COOKIE: TOKEN}).set_cookie
    assert verdict({}, {}).reason == "no token"
    assert verdict({"token": "nope"}, {}).reason == "wrong token"
    assert not verdict({}, {cookie_name(8001): TOKEN}).allowed  # another port's cookie


def test_the_websocket_needs_the_cookie_and_its_own_origin() -> None:
    def verdict(cookies: dict[str, str], origin: str | None, host: str = "127.0.0.1:8000"):  # type: ignore[no-untyped-def]
        return check_request(
            TOKEN, query={}, cookies=cookies, cookie=COOKIE, websocket=True, origin=origin, host=host
        )

    assert verdict({COOKIE: TOKEN}, "http://127.0.0.1:8000").allowed
    assert verdict({COOKIE: TOKEN}, "https://dash.example.org", host="dash.example.org").allowed
    assert not verdict({}, "http://127.0.0.1:8000").allowed
    assert not verdict({COOKIE: "nope"}, "http://127.0.0.1:8000").allowed
    assert not verdict({COOKIE: TOKEN}, "http://evil.example").allowed
    assert not verdict({COOKIE: TOKEN}, "http://127.0.0.1:8001").allowed
    assert not verdict({COOKIE: TOKEN}, None).allowed and not verdict({COOKIE: TOKEN}, "null").allowed
    # The token in the websocket's query is not enough: its URL is the page script's.
    assert not check_request(
        TOKEN,
        query={"token": TOKEN},
        cookies={},
        cookie=COOKIE,
        websocket=True,
        origin="http://h:1",
        host="h:1",
    ).allowed


def test_same_origin_compares_host_and_port() -> None:
    assert same_origin("http://LOCALHOST:8000", "localhost:8000")
    assert not same_origin("http://localhost", "localhost:8000")
    assert not same_origin("localhost:8000", "localhost:8000")  # not an origin


def test_cookie_is_httponly_strict_and_secure_behind_tls() -> None:
    assert cookie_attributes(False) == {"httponly": True, "samesite": "Strict", "path": "/", "secure": False}
    assert cookie_attributes(True)["secure"] is True


def test_token_file(tmp_path: Path) -> None:
    good = tmp_path / "token"
    good.write_text("  abcdefghijklmnopqrstuvwxyz  \nsecond line ignored\n")
    assert read_token_file(good) == "abcdefghijklmnopqrstuvwxyz"
    short = tmp_path / "short"
    short.write_text("abc\n")
    with pytest.raises(ValueError, match="at least 16"):
        read_token_file(short)
    spaced = tmp_path / "spaced"
    spaced.write_text("abcdefgh ijklmnopqrstuvwxyz\n")
    with pytest.raises(ValueError, match="without spaces"):
        read_token_file(spaced)
    with pytest.raises(ValueError, match="cannot read the token file"):
        read_token_file(tmp_path / "missing")


def test_open_url_names_this_machine_for_a_wildcard_address() -> None:
    assert open_url("127.0.0.1", 8000, "T", hostname="box") == "http://127.0.0.1:8000/?token=T"
    assert open_url("0.0.0.0", 80, "T", hostname="box") == "http://box:80/?token=T"
    assert open_url("::1", 8000, "T", hostname="box") == "http://[::1]:8000/?token=T"


def _serve_options(tmp_path: Path, **extra: object) -> ServeOptions:
    return ServeOptions(
        host="127.0.0.1",
        port=0,
        host_key=tmp_path / "key",
        keyring=KeyRing(tmp_path / "authorized_keys"),
        settings=Settings.from_env({}, bootstrap_servers="broker:1"),
        server_env={"PATH": "/usr/bin", "SECRET": "s", "LD_PRELOAD": "x.so", FEED_ENV: "/run/feed.sock"},
        **extra,  # type: ignore[arg-type]
    )


def test_web_sessions_run_the_ssh_sessions_dashboard_read_only_unless_allowed(tmp_path: Path) -> None:
    read_only = web_options(_serve_options(tmp_path), WebPlan("127.0.0.1", 0, TOKEN))
    assert read_only.argv[-1] == READ_ONLY_FLAG and not read_only.control
    env = read_only.env
    assert env["CTA_BOOTSTRAP_SERVERS"] == "broker:1" and env[FEED_ENV] == "/run/feed.sock"
    assert "SECRET" not in env and "LD_PRELOAD" not in env
    control = web_options(_serve_options(tmp_path), WebPlan("127.0.0.1", 0, TOKEN, control=True))
    assert READ_ONLY_FLAG not in control.argv and control.control


def test_plan_web_takes_the_token_given_or_makes_one() -> None:
    assert len(plan_web(("127.0.0.1", 8000), None, False).token) >= 43
    assert plan_web(("h", 1), TOKEN, True) == WebPlan("h", 1, TOKEN, True)


def test_serve_with_an_unreadable_token_file_exits_2(tmp_path: Path) -> None:
    from cta_tui.cli import main

    result = CliRunner().invoke(main, ["serve", "--web", "--web-token-file", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "cannot read the token file" in result.output


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    server = WebDashboardServer(WebOptions("127.0.0.1", 8000, TOKEN, argv=["false"], max_sessions=0))
    async with TestClient(TestServer(await server._make_app())) as test_client:
        yield test_client


async def test_the_server_answers_403_without_the_token(client: TestClient) -> None:  # type: ignore[type-arg]
    for path in ("/", "/?token=nope", "/static/js/textual.js", "/ws", "/download/x"):
        response = await client.get(path)
        assert response.status == 403, path
        assert "open the URL with the token" in await response.text()


async def test_the_page_sets_the_cookie_and_points_its_websocket_at_the_browsers_address(
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    response = await client.get(
        f"/?token={TOKEN}", headers={"Host": "dash.example.org", "X-Forwarded-Proto": "https"}
    )
    assert response.status == 200
    page = await response.text()
    assert 'data-session-websocket-url="wss://dash.example.org/ws"' in page
    cookie = response.headers["Set-Cookie"]
    for attribute in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/"):
        assert attribute in cookie
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    # The cookie alone opens the page and its script, without setting it again.
    again = await client.get("/static/js/textual.js", cookies={COOKIE: TOKEN})
    assert again.status == 200 and "Set-Cookie" not in again.headers


async def test_a_websocket_beyond_the_session_limit_gets_503(client: TestClient) -> None:  # type: ignore[type-arg]
    host = f"{client.host}:{client.port}"
    response = await client.get(
        "/ws", headers={"Origin": f"http://{host}", "Cookie": f"{COOKIE}={TOKEN}", "Host": host}
    )
    assert response.status == 503
    assert "too many sessions" in await response.text()
