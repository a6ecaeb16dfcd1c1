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
- a page's dashboard starts when the page is served, not when its websocket comes
  (:data:`MAX_SPARES`), and one that does not quit when its page closes is killed after
  ``grace`` seconds (:mod:`cta_tui.web.session`).
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import socket
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server, to_int

from cta_tui.control import SENDER_ENV
from cta_tui.web.access import (
    CONTENT_SECURITY_POLICY,
    check_request,
    cookie_attributes,
    cookie_name,
    open_url,
)
from cta_tui.web.session import DashboardService

log = logging.getLogger(__name__)

#: Dashboards started ahead, when a page is served, for its websocket to come: at most
#: this many waiting, each ended when no websocket took it within SPARE_LIFETIME seconds.
MAX_SPARES = 2
SPARE_LIFETIME = 30.0
#: The size a dashboard started ahead draws at until its page's terminal says its own.
SPARE_SIZE = (80, 24)
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


class WebDashboardServer(Server):
    """``start()`` then ``close()``; ``sessions`` are the dashboards running."""

    def __init__(self, options: WebOptions):
        super().__init__(
            "exec " + shlex.join(options.argv), host=options.host, port=options.port, title="cta-live"
        )
        self.options = options
        self.sessions: set[DashboardService] = set()
        self._spares: list[DashboardService] = []
        self._tasks: set[asyncio.Task[None]] = set()
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
        sessions = [*self.sessions, *self._spares]
        self._spares.clear()
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
        self._in_background(self._start_spare(request.remote))
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    def _in_background(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start_spare(self, remote: str | None) -> None:
        """Start the dashboard of the page just served, so that it is drawing by the time
        the page's websocket comes (a dashboard takes a second or two to start)."""
        if (
            len(self._spares) >= MAX_SPARES
            or len(self.sessions) + len(self._spares) >= self.options.max_sessions
        ):
            return
        service = self._new_service(remote)
        await service.start(*SPARE_SIZE)
        self._spares.append(service)
        await asyncio.sleep(SPARE_LIFETIME)
        if service in self._spares:  # no websocket came for it
            self._spares.remove(service)
            await service.stop_within(self.options.grace)

    def _new_service(self, remote: str | None) -> DashboardService:
        env = {**self.options.env, SENDER_ENV: f"web {remote}"}
        return DashboardService(self.command, env, download_manager=self.download_manager)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One dashboard for the websocket's life (refused with 503 when all are in use)."""
        if len(self.sessions) >= self.options.max_sessions:
            log.info("refused a session from %s: all %d in use", request.remote, self.options.max_sessions)
            raise web.HTTPServiceUnavailable(
                text=f"cta-live: too many sessions ({self.options.max_sessions} in use); try again later.\n"
            )
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        size = (to_int(request.query.get("width", "80"), 80), to_int(request.query.get("height", "24"), 24))
        service = self._spares.pop(0) if self._spares else None
        try:
            if service is None:
                service = self._new_service(request.remote)
                await service.start(*size)
            self.sessions.add(service)
            await service.attach(websocket)
            await service.resize_when_drawing(*size)  # a dashboard started ahead: the page's size
            log.info("session from %s: dashboard pid %s", request.remote, service.pid)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            log.exception("session from %s failed", request.remote)
        finally:
            if service is not None:
                await service.stop_within(self.options.grace)
                self.sessions.discard(service)
                log.info("session from %s ended (dashboard pid %s)", request.remote, service.pid)
        return websocket


def _scheme(request: web.Request) -> str:
    """http or https as the browser sees it (a TLS proxy says so in X-Forwarded-Proto)."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return forwarded if forwarded in ("http", "https") else request.scheme
