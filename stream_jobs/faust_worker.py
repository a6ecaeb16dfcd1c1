"""Start the Faust worker: check the services, create the topics, run until stopped."""

from __future__ import annotations

import dataclasses
import logging

from rich.progress import Progress

from cta_core.errors import Refused
from cta_core.http_client import require_service
from cta_core.kafka_clients import ensure_topics, wait_for_broker
from cta_core.settings import Settings
from cta_core.topics import SPECS, TopicSpec, replication_for
from stream_jobs.faust_app import WorkerOptions, build_app
from stream_jobs.faust_refusals import RefusalGuard


def _spec(name: str, default: TopicSpec) -> TopicSpec:
    spec = SPECS.get(name)
    return spec if spec is not None else dataclasses.replace(default, name=name)


def prepare(
    settings: Settings, opts: WorkerOptions, progress: Progress, broker_timeout: float = 15.0
) -> WorkerOptions:
    """Check Kafka (and the registry), create missing topics; return the options
    with the turnstile topic's partition count filled in."""
    task = progress.add_task(f"faust {opts.app_id}: Kafka {settings.bootstrap_servers}", total=3)
    admin = wait_for_broker(settings, timeout=broker_timeout)
    progress.advance(task)
    specs = []
    if opts.stations:
        specs += [
            _spec(opts.stations_topic, TopicSpec("", partitions=1)),
            _spec(opts.line_stations_topic, TopicSpec("", partitions=1)),
            _spec(opts.stations_table_topic, TopicSpec("", partitions=1, compacted=True)),
        ]
    if opts.turnstile_summary:
        specs += [
            _spec(opts.turnstiles_topic, TopicSpec("", partitions=3)),
            _spec(opts.summary_topic, TopicSpec("", partitions=1, compacted=True)),
        ]
    progress.update(task, description=f"faust {opts.app_id}: topics")
    ensure_topics(admin, specs)
    replication, _ = replication_for(len(admin.list_topics(timeout=10).brokers))
    opts = dataclasses.replace(opts, replication=replication)
    progress.advance(task)
    if opts.turnstile_summary:
        meta = admin.list_topics(opts.turnstiles_topic, timeout=10)
        opts = dataclasses.replace(
            opts, turnstile_partitions=len(meta.topics[opts.turnstiles_topic].partitions)
        )
        progress.update(
            task, description=f"faust {opts.app_id}: Schema Registry {settings.schema_registry_url}"
        )
        require_service(
            "Schema Registry", settings.schema_registry_url, "/subjects", http=settings.registry_http()
        )
    progress.update(task, description=f"faust {opts.app_id}: starting worker")
    progress.advance(task)
    return opts


def run_worker(settings: Settings, opts: WorkerOptions, loglevel: str = "info") -> None:
    """Run the worker in this process until SIGINT/SIGTERM."""
    import asyncio

    import faust
    import uvloop

    from cta_core.avro import RegistryLookup

    opts.data_dir.mkdir(parents=True, exist_ok=True)
    lookup = RegistryLookup(settings) if opts.turnstile_summary else None
    app, _counters = build_app(settings, opts, lookup)
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # ~1.5x events/s for the summary
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)

    def stop(line: str) -> None:  # a refusal: stop now, retrying cannot help
        worker.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(worker.stop()))

    guard = RefusalGuard(settings, stop, group=opts.app_id)

    async def watch_refusals() -> None:
        # once the worker has set its logging up (which replaces the root's handlers)
        logging.getLogger().addHandler(guard)

    app.task(watch_refusals)
    try:
        worker.execute_from_commandline()
    except SystemExit:
        if guard.line is not None:
            raise Refused(guard.line) from None
        raise
    finally:
        logging.getLogger().removeHandler(guard)
