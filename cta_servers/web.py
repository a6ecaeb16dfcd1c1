"""Serving an aiohttp application until SIGTERM or SIGINT: shared by the Schema
Registry and the REST Proxy, whose own clean-up runs after this returns."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web


async def serve_until_signalled(
    app: web.Application, host: str, port: int, log: logging.Logger, what: str
) -> None:
    """Listen on ``host:port`` and return once SIGTERM or SIGINT arrives and the
    server has stopped accepting requests."""
    loop = asyncio.get_running_loop()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, backlog=1024)
        await site.start()
        log.info("%s listening on http://%s:%d", what, host, port)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("stopping")
    finally:
        await runner.cleanup()
