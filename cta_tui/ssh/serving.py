"""One ``cta-tui serve``: the SSH server, the web server (:mod:`cta_tui.web`) or both, on
one shared feed (a single set of Kafka consumers for every session of either), until
SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass, replace
from typing import Any

from cta_core.errors import CtaError
from cta_tui.ssh.hub import FEED_ENV
from cta_tui.ssh.server import (
    READ_ONLY_FLAG,
    ServeOptions,
    SSHDashboardServer,
    start_shared_feed,
    wait_for_stop_signal,
)
from cta_tui.ssh.session import SessionInfo, child_environment
from cta_tui.web.access import new_token
from cta_tui.web.server import WebDashboardServer, WebOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebPlan:
    """``--web HOST:PORT``, its token and whether its sessions may control the simulator."""

    host: str
    port: int
    token: str
    control: bool = False


def plan_web(address: tuple[str, int], token: str | None, control: bool) -> WebPlan:
    """The web server's plan: the token given (--web-token-file's) or a new random one."""
    return WebPlan(address[0], address[1], token or new_token(), control)


def web_options(options: ServeOptions, plan: WebPlan) -> WebOptions:
    """The web server's options: the SSH sessions' dashboard command and environment
    (allowlist, connection settings, shared feed), read-only unless the plan allows control."""
    argv = options.argv_for(SessionInfo(username="web", fingerprint="", control=plan.control, peer=""))
    return WebOptions(
        host=plan.host,
        port=plan.port,
        token=plan.token,
        argv=argv,
        env=child_environment("xterm-256color", {}, options.server_env, options.settings),
        control=READ_ONLY_FLAG not in argv,
        max_sessions=options.max_sessions,
        grace=options.grace,
    )


async def serve_all(options: ServeOptions, *, ssh: bool, web: WebPlan | None) -> None:
    """Serve until SIGINT or SIGTERM, then end every session and stop the shared feed."""
    servers: list[Any] = []
    hub = None
    feed_dir = None
    # Listening for the signals from the start: one during start-up stops the server after it.
    stop = asyncio.ensure_future(wait_for_stop_signal())
    await asyncio.sleep(0)
    try:
        if options.shared_feed and options.settings is not None:
            hub, feed_dir, path = await start_shared_feed(options)
            options = replace(options, server_env={**options.server_env, FEED_ENV: path})
        if ssh:
            servers.append(SSHDashboardServer(options))
            try:
                await servers[-1].start()
            except OSError as exc:
                raise CtaError(
                    f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}; "
                    "choose another address with --ssh"
                ) from None
        if web is not None:
            web_server = WebDashboardServer(web_options(options, web))
            servers.append(web_server)
            try:
                await web_server.start()
            except OSError as exc:
                raise CtaError(
                    f"cannot listen on {web.host}:{web.port} for browsers: {exc.strerror or exc}; "
                    "choose another address with --web"
                ) from None
            print(f"cta-tui serve: open {web_server.url}", flush=True)
        received = await stop
        log.info(
            "server shutting down (%s): ending %d session(s); an SSH one gets a notice and its terminal restored",
            received,
            sum(len(server.sessions) for server in servers),
        )
    finally:
        stop.cancel()
        await asyncio.gather(*(s.close() for s in servers), return_exceptions=True)
        if hub is not None:
            await hub.close()
        if feed_dir is not None:
            shutil.rmtree(feed_dir, ignore_errors=True)
