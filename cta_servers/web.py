"""The web-service base of the Schema Registry and the REST Proxy: what both servers do
alike, written once.

- :class:`Service`: a server's name, response type, request size limit and the error
  code of an unexpected failure;
- :func:`make_web_app`: an aiohttp application with the error middleware (every
  failure answered in Confluent's shape ``{"error_code", "message"}``), the body size
  limit and the root route (``GET /`` answers ``{}``, as Confluent's servers do);
- :func:`configure_logging`: stderr logging (the stack redirects it to a file), with
  librdkafka's repeated lines dropped for a minute, so an absent broker shows up as one
  line a minute per client instead of twenty a second;
- :func:`listen_options`: the ``--host``, ``--port`` and ``-v`` options of both commands;
- :func:`serve_until_signalled` and :func:`run_server`: listen until SIGTERM or SIGINT
  (the server's own clean-up runs after), and one line on stderr and exit 1 when Kafka
  cannot be reached or the port cannot be bound.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import ssl
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import uvloop
from aiohttp import web
from confluent_kafka import KafkaException

from cta_core.errors import ServiceUnavailable
from cta_core.ports import LOCALHOST
from cta_servers.errors import ConfluentError
from cta_servers.http_auth import basic_auth, load_users, server_ssl_context

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
F = TypeVar("F", bound=Callable[..., Any])

_NUMBERS = re.compile(r"\d+")


@dataclass(frozen=True)
class Service:
    """What differs between the two servers' web layers."""

    #: in log lines and error messages ("schema registry", "REST proxy")
    name: str
    #: the type of JSON answers (errors included)
    content_type: str
    #: requests with a larger body are answered 413
    max_body: int
    #: ``error_code`` of an unexpected failure (HTTP 500)
    internal_code: int = 500
    #: the root route's answer type for a request (content negotiation); default ``content_type``
    root_type: Callable[[web.Request], str] | None = None


def json_reply(data: Any, content_type: str, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(data).encode(), status=status, content_type=content_type)


def confluent_errors(service: Service) -> Any:
    """The middleware answering every failure in Confluent's shape."""

    def answer(status: int, code: int, message: str) -> web.Response:
        return json_reply(ConfluentError(status, code, message).body(), service.content_type, status)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ConfluentError as exc:
            return json_reply(exc.body(), service.content_type, exc.status)
        except web.HTTPRequestEntityTooLarge as exc:
            return answer(413, 413, f"Request body too large: {exc.text}")
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return answer(exc.status, exc.status, f"HTTP {exc.status} {exc.reason}")
        except Exception:
            log.exception("%s: internal error on %s %s", service.name, request.method, request.path)
            return answer(500, service.internal_code, "Internal Server Error")

    return middleware


def make_web_app(service: Service, routes: web.RouteTableDef) -> web.Application:
    """An application serving ``routes`` on the shared base (errors, limit, root route)."""

    async def root(request: web.Request) -> web.Response:
        return json_reply({}, service.root_type(request) if service.root_type else service.content_type)

    app = web.Application(middlewares=[confluent_errors(service)], client_max_size=service.max_body)
    app.router.add_get("/", root)
    app.add_routes(routes)
    return app


class RepeatFilter(logging.Filter):
    """Drop a message seen (digits ignored) within the last ``window`` seconds."""

    def __init__(self, window: float = 60.0) -> None:
        super().__init__()
        self.window = window
        self._seen: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = _NUMBERS.sub("#", record.getMessage())
        now = time.monotonic()
        last = self._seen.get(key)
        if last is not None and now - last < self.window:
            return False
        if len(self._seen) > 1000:
            self._seen.clear()
        self._seen[key] = now
        return True


def configure_logging(verbose: bool) -> logging.Logger:
    """Set up stderr logging; return the logger to pass to confluent-kafka clients (``logger``)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    kafka_log = logging.getLogger("librdkafka")
    kafka_log.addFilter(RepeatFilter())
    return kafka_log


@dataclass(frozen=True)
class Listen:
    """Where a server listens and how: HTTPS with ``tls_cert``/``tls_key``, basic auth
    against ``users_file`` (both or neither, as a secured stack starts them)."""

    host: str
    port: int
    tls_cert: Path | None = None
    tls_key: Path | None = None
    users_file: Path | None = None

    def ssl_context(self) -> ssl.SSLContext | None:
        if self.tls_cert is None:
            return None
        return server_ssl_context(self.tls_cert, self.tls_key or self.tls_cert)

    def secure(self, app: web.Application, service: Service, section: str, writes: Any = None) -> None:
        """Put basic auth in front of ``app``'s routes when there is a users file."""
        if self.users_file is not None:
            users = load_users(self.users_file, section)
            app.middlewares.insert(0, basic_auth(users, service.content_type, writes))


async def serve_until_signalled(app: web.Application, listen: Listen, log: logging.Logger, what: str) -> None:
    """Listen (HTTP or HTTPS) and return once SIGTERM or SIGINT arrives and the
    server has stopped accepting requests."""
    loop = asyncio.get_running_loop()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        context = listen.ssl_context()
        site = web.TCPSite(runner, listen.host, listen.port, backlog=1024, ssl_context=context)
        await site.start()
        scheme = "https" if context else "http"
        log.info("%s listening on %s://%s:%d", what, scheme, listen.host, listen.port)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("stopping")
    finally:
        await runner.cleanup()


def listen_options(default_port: int, port_envvar: str) -> Callable[[F], F]:
    """A server command's ``--host``, ``--port``, ``--tls-cert``, ``--tls-key``,
    ``--users-file`` and ``-v/--verbose`` options."""

    def decorate(command: F) -> F:
        command = click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")(command)
        file = click.Path(exists=True, dir_okay=False, path_type=Path)
        command = click.option(
            "--users-file", type=file, default=None, help="Basic auth: the users (cta-stack up --secure's)."
        )(command)
        command = click.option("--tls-key", type=file, default=None, help="HTTPS: the key (PEM).")(command)
        command = click.option(
            "--tls-cert", type=file, default=None, help="HTTPS: the certificate chain (PEM)."
        )(command)
        command = click.option(
            "--port",
            type=click.IntRange(1, 65535),
            default=default_port,
            show_default=True,
            envvar=port_envvar,
            show_envvar=True,
            help="Port to listen on.",
        )(command)
        return click.option("--host", default=LOCALHOST, show_default=True, help="Address to listen on.")(
            command
        )

    return decorate


def run_server(serve: Coroutine[Any, Any, None], service: Service, listen: Listen, bootstrap: str) -> None:
    """Run a server's ``serve`` coroutine to its end; exit 1 with one line on stderr when
    Kafka (``bootstrap``) cannot be reached or the address cannot be bound."""
    host, port = listen.host, listen.port
    try:
        # uvloop: about a fifth more requests per second than asyncio's own loop here
        uvloop.run(serve)
    except (KafkaException, TimeoutError) as exc:
        print(ServiceUnavailable("Kafka", bootstrap, cause=str(exc)), file=sys.stderr)
        sys.exit(1)
    except OSError as exc:
        print(f"{service.name} cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        sys.exit(1)
