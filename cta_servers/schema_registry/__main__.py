"""``python -m cta_servers.schema_registry --port 8081 --bootstrap-servers 127.0.0.1:9092``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from cta_core import ports, topics
from cta_core.cli_options import KAFKA, connection_options, settings_from_options
from cta_servers.http_auth import registry_write
from cta_servers.schema_registry.app import SERVICE, make_app
from cta_servers.schema_registry.state import RegistryState
from cta_servers.schema_registry.store import KafkaStore
from cta_servers.web import Listen, configure_logging, listen_options, run_server, serve_until_signalled

log = logging.getLogger("cta_servers.schema_registry")


async def serve(store: KafkaStore, state: RegistryState, listen: Listen) -> None:
    """Read the store, serve until SIGTERM/SIGINT, then close cleanly."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, store.open)
    store.start(loop)
    try:
        what = f"schema registry (store topic {store.topic})"
        app = make_app(state, store)
        listen.secure(app, SERVICE, "schema-registry", registry_write)
        await serve_until_signalled(app, listen, log, what)
    finally:
        await loop.run_in_executor(None, store.close)


@click.command()
@listen_options(ports.SCHEMA_REGISTRY, "CTA_SCHEMA_REGISTRY_PORT")
@click.option("--topic", default=topics.SCHEMAS, show_default=True, help="Compacted store topic.")
@click.option("--replication-factor", type=click.IntRange(1), default=1, show_default=True)
@click.option(
    "--store-timeout", type=float, default=30.0, show_default=True, help="Seconds for store reads/writes."
)
@connection_options(KAFKA)
def main(
    host: str,
    port: int,
    topic: str,
    replication_factor: int,
    store_timeout: float,
    verbose: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
    users_file: Path | None,
    **options: object,
) -> None:
    """Serve a Confluent-compatible Schema Registry (Avro) stored in a Kafka topic."""
    kafka_log = configure_logging(verbose)
    settings = settings_from_options(dict(options))
    state = RegistryState()
    store = KafkaStore(
        settings.librdkafka(logger=kafka_log),
        topic,
        state,
        replication_factor=replication_factor,
        timeout=store_timeout,
    )
    listen = Listen(host, port, tls_cert, tls_key, users_file)
    run_server(serve(store, state, listen), SERVICE, listen, settings.bootstrap_servers)


if __name__ == "__main__":
    main()
