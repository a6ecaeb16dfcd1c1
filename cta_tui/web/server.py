"""The web server of ``cta-tui serve --web``: textual-serve's, behind the token.

textual-serve's :class:`~textual_serve.server.Server` builds the aiohttp app (the page,
its static files and the websocket) and runs one dashboard process per websocket with
Textual's web driver. This subclass adds what a dashboard open to a network needs:

- every request passes :func:`cta_tui.web.access.check_request` first (403 otherwise:
  no page, no script, no websocket); the page sets the token's cookie;
- the page's websocket URL follows the address the browser used (a reverse proxy's
  ``Host`` and ``X-Forwarded-Proto``), its content may load nothing from elsewhere;
- at most ``max_sessions`` dashboards at once; each gets the environment the caller
  built (an allowlist, the connection settings, the shared feed), not the server's own;
- a dashboard that does not quit when its page closes is killed after ``grace`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from cta_tui.control import SENDER_ENV
from cta_tui.web.access import (
    CONTENT_SECURITY_POLICY,
    check_request,
    cookie_attributes,
    cookie_name,
    open_url,
)

log = logging.getLogger(__name__)

#: What textual-serve sets for its child (the web driver, its frame rate, the size) and
#: the only variables of its making a dashboard gets.
TEXTUAL_VARIABLES = (
    "TEXTUAL_DRIVER",
    "TEXTUAL_FPS",
    "TEXTUAL_COLOR_SYSTEM",
    "TERM_PROGRAM",
    "COLUMNS",
    "ROWS",
)
REFUSED = "cta-live: open the URL with the token that `cta-tui serve --web` printed.\n"


@dataclass
class WebOptions:
    host: str
    port: int
    token: str
    #: The dashboard of one session (``python -m cta_tui [--read-only]``).
    argv: list[str]
    #: The whole environment of a session's dashboard (textual-serve's variables are added).
    env: Mapping[str, str] = field(default_factory=dict)
    control: bool = False
    max_sessions: int = 8
    #: Seconds a dashboard has to quit after its page closed before it is killed.
    grace: float = 3.0


class DashboardService(AppService):
    """One browser session's dashboard process, in the environment it was given."""

    def __init__(self, command: str, env: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self._env = dict(env)

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        theirs = super()._build_environment(width, height)
        env = dict(self._env)
        env.update({k: theirs[k] for k in TEXTUAL_VARIABLES if k in theirs})
        env["TERM_PROGRAM_VERSION"] = theirs.get("TERM_PROGRAM_VERSION", "")
        return env

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def stop_within(self, grace: float) -> None:
        """Ask the dashboard to quit; kill it when it has not after ``grace`` seconds."""
        try:
            await asyncio.wait_for(self.stop(), grace)
        except TimeoutError:
            log.warning("dashboard pid %s did not quit within %.0f s: killed", self.pid, grace)
        process = self._process
        if process is None or process.returncode is not None:
            return
        try:
            await asyncio.wait_for(process.wait(), 1.0)  # its output closed: it is exiting
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


class WebDashboardServer(Server):
    """``start()`` then ``close()``; ``sessions`` are the dashboards running."""

    def __init__(self, options: WebOptions):
        super().__init__(
            "exec " + shlex.join(options.argv), host=options.host, port=options.port, title="cta-live"
        )
        self.options = options
        self.sessions: set[DashboardService] = set()
        self._cookie = cookie_name(options.port)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen (a port of 0 picks a free one, then ``port`` is it)."""
        app = await self._make_app()
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.options.port)
        await site.start()
        if self.options.port == 0:
            self.port = int(self._runner.addresses[0][1])
            self._cookie = cookie_name(self.port)
        log.info(
            "serving the dashboard on http://%s:%d (%s, at most %d sessions)",
            self.options.host,
            self.port,
            "control allowed" if self.options.control else "read-only",
            self.options.max_sessions,
        )

    @property
    def url(self) -> str:
        """The URL to open, with the token."""
        return open_url(self.options.host, self.port, self.options.token, hostname=socket.gethostname())

    async def close(self) -> None:
        """Stop listening and end every session's dashboard."""
        sessions = list(self.sessions)
        if sessions:
            await asyncio.gather(
                *(s.stop_within(self.options.grace) for s in sessions), return_exceptions=True
            )
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """(textual-serve prints a banner on stdout here; the start is logged instead.)"""

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        verdict = check_request(
            self.options.token,
            query=request.query,
            cookies=request.cookies,
            cookie=self._cookie,
            websocket=request.path == "/ws",
            origin=request.headers.get("Origin"),
            host=request.host,
        )
        if not verdict.allowed:
            log.info(
                "refused %s %s from %s: %s", request.method, request.path, request.remote, verdict.reason
            )
            raise web.HTTPForbidden(text=REFUSED)
        response = await handler(request)
        if response.prepared:  # the websocket: its headers are sent
            return response
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the page's URL
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        if verdict.set_cookie:
            response.set_cookie(
                self._cookie, self.options.token, **cookie_attributes(_scheme(request) == "https")
            )
        return response

    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        """The page, its websocket URL made from the address the browser used."""
        ws_scheme = "wss" if _scheme(request) == "https" else "ws"
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{ws_scheme}://{request.host}/ws",
            "config": {"static": {"url": "/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One dashboard for the websocket's life (refused with 503 when all are in use)."""
        if len(self.sessions) >= self.options.max_sessions:
            log.info("refused a session from %s: all %d in use", request.remote, self.options.max_sessions)
            raise web.HTTPServiceUnavailable(
                text=f"cta-live: too many sessions ({self.options.max_sessions} in use); try again later.\n"
            )
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        env = {**self.options.env, SENDER_ENV: f"web {request.remote}"}
        service = DashboardService(
            self.command,
            env,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        self.sessions.add(service)
        try:
            await service.start(
                to_int(request.query.get("width", "80"), 80), to_int(request.query.get("height", "24"), 24)
            )
            log.info("session from %s: dashboard pid %s", request.remote, service.pid)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            log.exception("session from %s failed", request.remote)
        finally:
            await service.stop_within(self.options.grace)
            self.sessions.discard(service)
            log.info("session from %s ended (dashboard pid %s)", request.remote, service.pid)
        return websocket


def _scheme(request: web.Request) -> str:
    """http or https as the browser sees it (a TLS proxy says so in X-Forwarded-Proto)."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return forwarded if forwarded in ("http", "https") else request.scheme
