"""``python -m cta_servers.rest_proxy --port 8082 --bootstrap-servers ... --schema-registry-url ...``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import click

from cta_core import ports
from cta_core.cli_options import KAFKA, REGISTRY, connection_options, settings_from_options
from cta_core.settings import Settings
from cta_servers.http_auth import rest_proxy_write
from cta_servers.rest_proxy.app import SERVICE, make_app
from cta_servers.rest_proxy.kafka_io import KafkaBridge
from cta_servers.rest_proxy.registry import RegistryClient
from cta_servers.web import Listen, configure_logging, listen_options, run_server, serve_until_signalled

log = logging.getLogger("cta_servers.rest_proxy")


async def serve(settings: Settings, listen: Listen, kafka_log: logging.Logger) -> None:
    """Serve until SIGTERM/SIGINT, then deliver what is queued and stop."""
    loop = asyncio.get_running_loop()
    bridge = KafkaBridge(settings.librdkafka(logger=kafka_log))
    await loop.run_in_executor(None, bridge._fetch_partitions)  # fail fast when Kafka is down
    bridge.start(loop)
    auth = None
    if settings.registry_auth:
        user, _, password = settings.registry_auth.partition(":")
        auth = aiohttp.BasicAuth(user, password)
    session = aiohttp.ClientSession(
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=30),
        connector=aiohttp.TCPConnector(limit=32, ssl=settings.registry_http().get("verify", True)),
    )
    try:
        app = make_app(bridge, RegistryClient(settings.schema_registry_url, session))
        listen.secure(app, SERVICE, "rest-proxy", rest_proxy_write)
        what = f"REST proxy (registry {settings.schema_registry_url})"
        await serve_until_signalled(app, listen, log, what)
    finally:
        left = await loop.run_in_executor(None, bridge.close)
        if left:
            log.warning("%d messages were not delivered before shutdown", left)
        await session.close()


@click.command()
@listen_options(ports.REST_PROXY, "CTA_REST_PROXY_PORT")
@connection_options(KAFKA, REGISTRY)
def main(
    host: str,
    port: int,
    verbose: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
    users_file: Path | None,
    **options: object,
) -> None:
    """Serve a Confluent-compatible Kafka REST Proxy (API v2)."""
    kafka_log = configure_logging(verbose)
    settings = settings_from_options(dict(options))
    listen = Listen(host, port, tls_cert, tls_key, users_file)
    run_server(serve(settings, listen, kafka_log), SERVICE, listen, settings.bootstrap_servers)


if __name__ == "__main__":
    main()
