"""``python -m cta_stack.schema_registry --port 8081 --bootstrap-servers 127.0.0.1:9092``."""

from __future__ import annotations

import asyncio
import logging
import sys

import click
import uvloop
from confluent_kafka import KafkaException

from cta_core import ports, topics
from cta_core.cli_options import connection_options, settings_from_options
from cta_core.errors import ServiceUnavailable
from cta_core.ports import LOCALHOST
from cta_stack.http_service import serve_until_signalled
from cta_stack.schema_registry import logs
from cta_stack.schema_registry.app import make_app
from cta_stack.schema_registry.state import RegistryState
from cta_stack.schema_registry.store import KafkaStore

log = logging.getLogger("cta_stack.schema_registry")


async def serve(store: KafkaStore, state: RegistryState, host: str, port: int) -> None:
    """Read the store, serve until SIGTERM/SIGINT, then close cleanly."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, store.open)
    store.start(loop)
    try:
        what = f"schema registry (store topic {store.topic})"
        await serve_until_signalled(make_app(state, store), host, port, log, what)
    finally:
        await loop.run_in_executor(None, store.close)


@click.command()
@click.option("--host", default=LOCALHOST, show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=ports.SCHEMA_REGISTRY,
    show_default=True,
    envvar="CTA_SCHEMA_REGISTRY_PORT",
    show_envvar=True,
    help="Port to listen on.",
)
@click.option("--topic", default=topics.SCHEMAS, show_default=True, help="Compacted store topic.")
@click.option("--replication-factor", type=click.IntRange(1), default=1, show_default=True)
@click.option(
    "--store-timeout", type=float, default=30.0, show_default=True, help="Seconds for store reads/writes."
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@connection_options
def main(
    host: str,
    port: int,
    topic: str,
    replication_factor: int,
    store_timeout: float,
    verbose: bool,
    **options: object,
) -> None:
    """Serve a Confluent-compatible Schema Registry (Avro) stored in a Kafka topic."""
    kafka_log = logs.configure(verbose)
    settings = settings_from_options(dict(options))
    state = RegistryState()
    store = KafkaStore(
        settings.librdkafka(logger=kafka_log),
        topic,
        state,
        replication_factor=replication_factor,
        timeout=store_timeout,
    )
    try:
        # uvloop: about a fifth more requests per second than asyncio's own loop here
        uvloop.run(serve(store, state, host, port))
    except (KafkaException, TimeoutError) as exc:
        print(ServiceUnavailable("Kafka", settings.bootstrap_servers, cause=str(exc)), file=sys.stderr)
        sys.exit(1)
    except OSError as exc:
        print(f"schema registry cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
