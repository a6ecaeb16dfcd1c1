"""The Faust worker: the stations transform and the turnstile summary.

The agents are thin: parsing, state changes and output formats are the pure
functions of :mod:`stream_jobs.transform`, :mod:`stream_jobs.summary` and
:mod:`cta_core.avro`. Nothing is built at import time: call
:func:`build_app`.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import faust

from cta_core import topics
from cta_core.avro import AvroDecoder, SchemaLookup
from cta_core.client_config import aiokafka_kwargs
from cta_core.settings import Settings
from stream_jobs.faust_fastpath import BatchSink, EagerApp, QuietMonitor, RawSchema
from stream_jobs.faust_summary import SummaryConsumer, SummaryCounters, SummaryIO, TurnstileSummary
from stream_jobs.summary import PartitionState
from stream_jobs.transform import (
    MalformedRow,
    apply_line_station,
    apply_station,
    encode,
    parse_line_station,
    parse_station,
)

log = logging.getLogger("stream_jobs.faust")

#: seconds between checks for a turnstile partition that stopped making progress
STALL_CHECK_S = 3.0

DEFAULT_APP_ID = "cta-stations"


@dataclass(frozen=True)
class WorkerOptions:
    app_id: str = DEFAULT_APP_ID
    stations: bool = True
    turnstile_summary: bool = True
    stations_topic: str = topics.STATIONS_RAW
    line_stations_topic: str = topics.LINE_STATIONS_RAW
    stations_table_topic: str = topics.STATIONS_TABLE
    turnstiles_topic: str = topics.TURNSTILES
    summary_topic: str = topics.TURNSTILE_SUMMARY
    #: partitions of the turnstile topic (the counting table's changelog has as many)
    turnstile_partitions: int = 3
    #: records per poll at most (the summary's batches: whole fetches, several joined
    #: when the agent is busy) and bytes per partition and fetch (measured in
    #: bench/bench_jobs.py: 40,000 and 4 MiB beat 10,000 and 1 MiB by about a quarter)
    poll_records: int = 40_000
    fetch_bytes: int = 4 * 1024 * 1024
    #: seconds between TURNSTILE_SUMMARY writes (ksqlDB's commit interval): each writes
    #: the latest count of the stations that changed
    commit_interval: float = 1.0
    data_dir: Path = Path(".cta-stack/faust")
    #: replication factor of Faust's own topics (changelogs); prepare() sets it from the
    #: cluster's broker count (cta_core.topics.replication_for)
    replication: int = 1


@dataclass
class Counters:
    """What the worker skipped or did; logged as it changes."""

    malformed_stations: int = 0
    stations_records: int = 0
    summary: SummaryCounters = field(default_factory=SummaryCounters)
    extra: dict[str, int] = field(default_factory=dict)


def broker_urls(settings: Settings) -> list[str]:
    return [f"kafka://{hp.strip()}" for hp in settings.bootstrap_servers.split(",") if hp.strip()]


def broker_credentials(settings: Settings) -> Any:
    """Map the SASL/TLS settings (flags, variables, the client config file) onto Faust's
    credentials, through aiokafka's arguments (an SSL context trusting the CA); None for
    PLAINTEXT."""
    kafka = settings.librdkafka()
    if settings.sasl_username and not kafka.get("security.protocol"):
        kafka["security.protocol"] = "SASL_PLAINTEXT"
    kwargs = aiokafka_kwargs(kafka)
    context: ssl.SSLContext | None = kwargs.get("ssl_context")
    if "sasl_mechanism" in kwargs:
        mechanism = kwargs["sasl_mechanism"]
        if mechanism.startswith("SCRAM") or mechanism == "PLAIN":
            return faust.SASLCredentials(
                username=kwargs["sasl_plain_username"],
                password=kwargs["sasl_plain_password"],
                mechanism=mechanism,
                ssl_context=context,
            )
        raise ValueError(f"SASL mechanism {mechanism} is not supported by the Faust worker")
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def build_app(
    settings: Settings, opts: WorkerOptions, lookup: SchemaLookup | None = None
) -> tuple[faust.App, Counters]:
    """The Faust app with its agents; ``lookup`` finds Avro schemas by id."""
    counters = Counters()
    app = EagerApp(
        opts.app_id,
        broker=broker_urls(settings),
        broker_credentials=broker_credentials(settings),
        store="memory://",
        datadir=str(opts.data_dir / opts.app_id),
        web_enabled=False,
        topic_replication_factor=opts.replication,
        topic_partitions=1,
        # a second worker on the same app id keeps a copy of the partitions it does not
        # count, so each worker's totals cover every partition (docs/jobs.md)
        table_standby_replicas=1,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        # throughput (measured in bench/bench_jobs.py): bigger polls and stream buffers,
        # no per-event Monitor bookkeeping (only Faust's web views, which are off, read it)
        broker_max_poll_records=opts.poll_records,
        # 4 MiB (about 50,000 turnstile records) per partition and fetch: behind a backlog
        # the partitions take turns within a second or so (16 MiB held one back for
        # seconds while the others' buffers drained, long enough to look stalled)
        consumer_max_fetch_size=opts.fetch_bytes,
        stream_buffer_maxsize=opts.poll_records,
        Monitor=QuietMonitor,
        # a crashed worker's partitions move to its restart after 10 s, not Faust's default 60 s
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
    )
    if opts.stations:
        _stations_agent(app, opts, counters)
    if opts.turnstile_summary:
        if lookup is None:
            raise ValueError("the turnstile summary needs a schema lookup")
        _summary_agent(app, opts, counters, AvroDecoder(lookup))
    return app, counters


def _stations_agent(app: faust.App, opts: WorkerOptions, counters: Counters) -> None:
    raw = app.topic(
        opts.stations_topic, opts.line_stations_topic, key_serializer="raw", value_serializer="raw"
    )
    out = app.topic(opts.stations_table_topic, key_serializer="raw", value_serializer="raw")
    names = app.Table("station-names", partitions=1)
    lines = app.Table("station-lines", partitions=1)

    async def stations(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            try:
                if msg.topic == opts.stations_topic:
                    records = apply_station(names, lines, parse_station(event.value))
                else:
                    records = apply_line_station(names, lines, parse_line_station(event.value))
            except MalformedRow as exc:
                counters.malformed_stations += 1
                log.warning(
                    "skipped malformed station row (%s[%d]@%d): %s; malformed station rows so far: %d",
                    msg.topic,
                    msg.partition,
                    msg.offset,
                    exc,
                    counters.malformed_stations,
                )
                continue
            for rec in records:
                key, value = encode(rec)
                await out.send(key=key, value=value)
                counters.stations_records += 1

    app.agent(raw, name=f"{opts.app_id}.stations")(stations)


def _summary_agent(app: EagerApp, opts: WorkerOptions, counters: Counters, decoder: AvroDecoder) -> None:
    # RawSchema: the bytes as they are, without a trip through Faust's codec registry
    source = app.topic(opts.turnstiles_topic, schema=RawSchema())
    out = app.topic(opts.summary_topic, key_serializer="raw", value_serializer="raw")
    # standby_buffer_size=1: a standby copy (the partitions another worker counts) is
    # applied as each changelog record arrives, so this worker's totals follow it
    table = app.Table("turnstile-counts", partitions=opts.turnstile_partitions, standby_buffer_size=1)

    async def write_changelog(key: str, value: PartitionState, partition: int) -> Any:
        # Topic.send, not Table.send_changelog (which goes through Faust's producer
        # buffer): the record is on its way when this returns; force: never held back
        # until the event is acked (the summary waits for it first)
        return await table.changelog_topic.send(key=key, value=value, partition=partition, force=True)

    async def send(key: bytes, value: bytes) -> Any:
        return await out.send(key=key, value=value)

    # whole fetches of the turnstile topic go to the agent as one batch, past Faust's
    # per-record streams (stream_jobs/faust_fastpath.py); the agent commits their offsets
    sink = BatchSink(opts.turnstiles_topic)
    app.batch_sinks[opts.turnstiles_topic] = sink
    summary = TurnstileSummary(
        opts.turnstiles_topic,
        decoder,
        SummaryIO(
            table.data,
            write_changelog,
            send,
            lambda: cast(SummaryConsumer, app.consumer),
            pending=lambda: sink.pending,
        ),
        counters.summary,
    )

    async def watch_stalls() -> None:
        await summary.watch_stalls(STALL_CHECK_S)

    app.task(watch_stalls)
    app.timer(interval=opts.commit_interval, name=f"{opts.app_id}.turnstile-flush")(summary.flush)

    async def final_flush(sender: Any, /, *_args: Any, signal: Any, **_kw: Any) -> None:
        # a graceful stop (after the consumer stopped, before the producer's last flush)
        # writes what changed since the last interval; a killed worker's restart writes
        # every station on its first flush instead
        log.info("turnstile summary: %d records written at shutdown", await summary.flush())

    app.on_before_shutdown.connect(final_flush)

    async def count(stream: Any) -> None:
        # the stream subscribes the topic; its records arrive through the sink
        await summary.run(sink.batches())

    app.agent(source, name=f"{opts.app_id}.turnstile-summary")(count)
