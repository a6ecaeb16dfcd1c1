"""``cta-tui serve --web`` in a real browser: the command a user runs (its own process, a
free port, the shared local stack), driven by Playwright through the machine's Chromium.
What the page shows is read from the frames the browser received (tests/support/browser.py).
Without Chromium these tests fail saying how to install it; they never skip.
"""

from __future__ import annotations

import http.client
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cta_core import topics
from cta_tui.ssh.session import settings_env
from tests.support.browser import ScreenTap, launch_args
from tests.support.control import ControlTopicWatcher
from tests.support.stations_table import ensure_stations_table

pytestmark = pytest.mark.integration

LINES = ("Red", "Blue", "Green", "Brown", "Purple", "Yellow", "Pink", "Orange")
NUMBERED = list(enumerate(LINES, start=1))
VIEWPORT = {"width": 1280, "height": 900}  # the whole network screen: 140 x 45 cells or so


@dataclass
class Served:
    url: str
    base: str
    token: str
    process: subprocess.Popen[str]
    log: Path


def _network_screen(text: str) -> bool:
    return "Kafka ok" in text and text.count(" trains · ") == 8


#: this module's own copies of the data topics (the control topic is never suffixed)
SUFFIX = f".webtest{os.getpid()}"


@pytest.fixture(scope="module", autouse=True)
def stations_table(stack: Any) -> None:
    """The panels need the stations table: this module's own, as `cta-jobs faust` writes it."""
    ensure_stations_table(stack, topics.STATIONS_TABLE + SUFFIX)


def start_serve(tmp_path: Path, settings: Any, *args: str) -> Served:
    """`cta-tui --topic-suffix SUFFIX serve --web 127.0.0.1:0 ARGS` until it prints the URL."""
    log = tmp_path / f"serve-{time.monotonic_ns()}.log"
    env = {**os.environ, **settings_env(settings), "XDG_STATE_HOME": str(tmp_path / "state")}
    process = subprocess.Popen(
        [sys.executable, "-m", "cta_tui", "--topic-suffix", SUFFIX, "serve", "--web", "127.0.0.1:0", *args],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        env=env,
    )
    assert process.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(process.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=60):
            stop_serve(process)
            pytest.fail(f"`cta-tui serve --web` printed no URL in 60 s:\n{log.read_text()}")
    line = process.stdout.readline()
    match = re.search(r"open (http://\S+)", line)
    assert match, f"unexpected first line {line!r}:\n{log.read_text()}"
    url = match.group(1)
    parts = urlsplit(url)
    return Served(url, f"{parts.scheme}://{parts.netloc}", parts.query.removeprefix("token="), process, log)


def stop_serve(process: subprocess.Popen[str]) -> int | None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return None
    return process.returncode


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**launch_args())
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def served(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The read-only web server (the default), one for this module's tests."""
    serve = start_serve(tmp_path_factory.mktemp("web"), stack)
    yield serve
    assert stop_serve(serve.process) == 0, serve.log.read_text()


def open_dashboard(browser: Any, url: str) -> tuple[Any, ScreenTap]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    tap = ScreenTap(page)
    response = page.goto(url)
    assert response is not None and response.status == 200
    page.wait_for_selector("body.-first-byte", timeout=30_000)  # the terminal drew its first frame
    return page, tap


def test_the_page_with_the_token_shows_the_eight_lines_and_1_opens_the_red_line(
    browser: Any, served: Served
) -> None:
    page, tap = open_dashboard(browser, served.url)
    try:
        tap.wait_for(
            lambda t: (
                _network_screen(t) and "READ-ONLY" in t and all(f" {n} {name} " in t for n, name in NUMBERED)
            ),
            "the read-only network screen's eight panels",
        )
        [cookie] = page.context.cookies()
        assert cookie["value"] == served.token and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

        tap.press("1")
        # (one condition for the whole screen: a frame can arrive in several websocket messages)
        tap.wait_for(
            lambda t: (
                "per min" in t
                and "entries" in t
                and "Howard" in t
                and " trains · " not in t
                and "READ-ONLY" in t
            ),
            "the read-only Red line's screen",
        )
    finally:
        page.context.close()


def _websocket_status(base: str, headers: dict[str, str]) -> int:
    """The status of a websocket handshake to ``/ws`` with these headers."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request(
            "GET",
            "/ws?width=80&height=24",
            headers={
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                **headers,
            },
        )
        return conn.getresponse().status
    finally:
        conn.close()


def test_without_the_token_there_is_no_page_and_no_websocket(browser: Any, served: Served) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    tap = ScreenTap(page)
    try:
        for url in (
            f"{served.base}/",
            f"{served.base}/?token=wrong-{served.token}",
            f"{served.base}/static/js/textual.js",
        ):
            response = page.goto(url)
            assert response is not None and response.status == 403, url
            assert "open the URL with the token" in page.content()
        page.wait_for_timeout(500)
        assert tap.websockets == [] and context.cookies() == []
    finally:
        context.close()

    port = urlsplit(served.base).port
    cookie = f"cta_web_token_{port}={served.token}"
    origin = served.base
    assert _websocket_status(served.base, {"Origin": origin}) == 403  # no cookie
    assert _websocket_status(served.base, {"Origin": origin, "Cookie": f"cta_web_token_{port}=wrong"}) == 403
    assert _websocket_status(served.base, {"Origin": "http://elsewhere.example", "Cookie": cookie}) == 403
    assert _websocket_status(served.base, {"Cookie": cookie}) == 403  # no Origin: not a browser page's
    assert "refused GET /ws" in served.log.read_text()


def test_a_read_only_page_refuses_space_and_sends_nothing(browser: Any, served: Served, stack: Any) -> None:
    watcher = ControlTopicWatcher(stack)
    page, tap = open_dashboard(browser, served.url)
    try:
        tap.wait_for(_network_screen, "the network screen")
        tap.press(" ")
        tap.wait_for(lambda t: "control keys are disabled" in t, "the read-only notice")
        seen = watcher.poll_for(3.0)
        assert [c for c in seen if str(c.get("sender", "")).startswith("web ")] == []
    finally:
        page.context.close()
        watcher.close()


def test_with_control_allowed_space_sends_a_command_named_for_the_web(
    browser: Any, stack: Any, tmp_path: Path
) -> None:
    """--web-control lets space pause (or resume) the simulator; the token comes from
    --web-token-file; --max-sessions 1 refuses a second page's dashboard."""
    token_file = tmp_path / "token"
    token_file.write_text("a-token-from-a-file-0123456789\n")
    serve = start_serve(
        tmp_path, stack, "--web-control", "--web-token-file", str(token_file), "--max-sessions", "1"
    )
    watcher = ControlTopicWatcher(stack)
    try:
        assert serve.token == "a-token-from-a-file-0123456789"
        page, tap = open_dashboard(browser, serve.url)
        tap.wait_for(_network_screen, "the network screen")
        assert "READ-ONLY" not in tap.text

        second = browser.new_context(viewport=VIEWPORT).new_page()
        second.goto(serve.url)
        second.wait_for_selector("body.-closed", timeout=15_000)  # its websocket was refused
        second.context.close()
        assert "all 1 in use" in serve.log.read_text()

        tap.press(" ")
        deadline = time.monotonic() + 30
        sent: list[dict[str, Any]] = []
        while not sent and time.monotonic() < deadline:
            sent = [c for c in watcher.poll_for(1.0) if str(c.get("sender", "")).startswith("web 127.0.0.1")]
        [command] = sent
        assert command["command"] in ("pause", "resume")
        tap.press(" ")  # leave the simulator as it was
        page.wait_for_timeout(500)
        page.context.close()
    finally:
        watcher.close()
        assert stop_serve(serve.process) == 0, serve.log.read_text()


def test_ssh_and_web_together_share_one_feed(stack: Any, tmp_path: Path) -> None:
    import asyncssh

    key = asyncssh.generate_private_key("ssh-ed25519")
    authorized = tmp_path / "authorized_keys"
    authorized.write_bytes(key.export_public_key())
    args = ("--ssh", "127.0.0.1:0", "--authorized-keys", str(authorized), "--host-key", str(tmp_path / "hk"))
    serve = start_serve(tmp_path, stack, *args)
    try:
        log = serve.log.read_text()
        assert log.count("shared feed: one set of Kafka consumers") == 1, log
        assert re.search(r"ssh\.server: serving the dashboard on 127\.0\.0\.1:\d+", log), log
        assert "web.server: serving the dashboard on http://127.0.0.1:" in log, log
    finally:
        assert stop_serve(serve.process) == 0, serve.log.read_text()
