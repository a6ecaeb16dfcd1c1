"""The Faust worker: the stations transform and the turnstile summary.

The agents are thin: parsing, state changes and output formats are the pure
functions of :mod:`stream_jobs.transform`, :mod:`stream_jobs.summary` and
:mod:`cta_core.avro`. Nothing is built at import time: call
:func:`build_app`.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
from faust.types import TP

from cta_core import topics
from cta_core.avro import AvroDecoder, NotAvro, RegistryUnavailable, SchemaLookup, station_id_of
from cta_core.settings import Settings
from stream_jobs.faust_fastpath import EagerApp, QuietMonitor, RawSchema
from stream_jobs.summary import apply_batch, encode_key, encode_value, first_gap, next_offset, total
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
#: seconds before missing records that a re-read did not bring are re-read again
RESEEK_S = 5.0
#: seconds the fetch loop gets to let go of the record in hand once the flow is stopped
REREAD_SETTLE_S = 0.1

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
    batch_size: int = 5000
    batch_within: float = 0.2
    data_dir: Path = Path(".cta-stack/faust")
    #: replication factor of Faust's own topics (changelogs); prepare() sets it from the
    #: cluster's broker count (cta_core.topics.replication_for)
    replication: int = 1


@dataclass
class Counters:
    """What the worker skipped or did; logged as it changes."""

    malformed_stations: int = 0
    malformed_turnstiles: int = 0
    turnstiles_counted: int = 0
    stations_records: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def broker_urls(settings: Settings) -> list[str]:
    return [f"kafka://{hp.strip()}" for hp in settings.bootstrap_servers.split(",") if hp.strip()]


def broker_credentials(settings: Settings) -> Any:
    """Map the SASL/TLS settings onto Faust's credentials (None for PLAINTEXT)."""
    protocol = (settings.security_protocol or "").upper()
    context: ssl.SSLContext | None = None
    if protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=settings.ssl_ca_location)
    if protocol.startswith("SASL") or settings.sasl_username:
        mechanism = (settings.sasl_mechanism or "PLAIN").upper()
        if mechanism.startswith("SCRAM") or mechanism == "PLAIN":
            return faust.SASLCredentials(
                username=settings.sasl_username,
                password=settings.sasl_password,
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
        table_standby_replicas=0,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        # throughput (measured in bench/bench_jobs.py): bigger polls, fetches and stream buffers,
        # no per-event Monitor bookkeeping (only Faust's web views, which are off, read it)
        broker_max_poll_records=2 * opts.batch_size,
        consumer_max_fetch_size=16 * 1024 * 1024,
        stream_buffer_maxsize=8 * opts.batch_size,
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


def _summary_agent(app: faust.App, opts: WorkerOptions, counters: Counters, decoder: AvroDecoder) -> None:
    # RawSchema: the bytes as they are, without a trip through Faust's codec registry
    source = app.topic(opts.turnstiles_topic, schema=RawSchema())
    out = app.topic(opts.summary_topic, key_serializer="raw", value_serializer="raw")
    state = app.Table(
        "turnstile-counts",
        partitions=opts.turnstile_partitions,
    )

    async def decode(value: bytes | None) -> int | None:
        while True:
            try:
                return station_id_of(decoder.decode(value))
            except RegistryUnavailable as exc:
                log.warning("Schema Registry unavailable (%s); retrying in 1s", exc)
                await asyncio.sleep(1.0)

    async def count(stream: Any) -> None:
        async for events in stream.take_events(opts.batch_size, within=opts.batch_within):
            by_partition: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
            for event in events:
                msg = event.message
                try:
                    sid = await decode(event.value)
                except NotAvro as exc:
                    sid = None
                    counters.malformed_turnstiles += 1
                    log.warning(
                        "skipped malformed turnstile message (%s[%d]@%d): %s; malformed turnstile messages so far: %d",
                        msg.topic,
                        msg.partition,
                        msg.offset,
                        exc,
                        counters.malformed_turnstiles,
                    )
                by_partition[msg.partition].append((msg.offset, sid))
            changed_all: set[int] = set()
            written = []
            reread: list[tuple[int, int, str]] = []
            for partition, batch in by_partition.items():
                key = str(partition)
                old = state.data.get(key)
                gap = first_gap(await expected_offset(partition), (offset for offset, _ in batch))
                if gap is None:
                    sought.pop(partition, None)
                elif await gone(partition, gap):
                    log.warning(
                        "turnstile summary: partition %d offsets from %d are gone (retention); counting on",
                        partition,
                        gap,
                    )
                else:
                    batch = [e for e in batch if e[0] < gap]  # count up to the gap; the rest comes again
                    last = sought.get(partition)
                    now = time.monotonic()
                    if last is None or last[0] != gap or now - last[1] > RESEEK_S:
                        sought[partition] = (gap, now)
                        reread.append((partition, gap, "records before this batch were not delivered"))
                new, changed = apply_batch(old, batch)
                if old is not None and new["offset"] == old["offset"]:
                    continue  # a replay of offsets already counted
                counters.turnstiles_counted += sum(1 for _, sid in batch if sid is not None)
                # one changelog record per partition and batch: counts and offset move together
                state.data[key] = new
                # Topic.send, not Table.send_changelog (which goes through Faust's producer
                # buffer): the record is on its way when this returns, and awaited below
                written.append(
                    await state.changelog_topic.send(
                        key=key,
                        value=new,
                        partition=partition,  # (the topic has the table's serializers)
                        force=True,  # never held back until the event is acked: we wait for it first
                    )
                )
                changed_all |= changed
            # The changelog record must be durable before these events are acked (and their
            # offsets committed): after a crash in between, the restart would otherwise skip
            # the events and lose their counts. Faust attaches a table's own writes to their
            # event for this; our per-batch records are not tied to one event, so wait here.
            await asyncio.gather(*written)
            if changed_all:
                states = list(state.data.values())
                for sid in sorted(changed_all):
                    await out.send(key=encode_key(sid), value=encode_value(total(states, sid)))
            await reread_from(reread)

    async def earliest(partition: int) -> int:
        """The partition's first offset on the broker (its low watermark)."""
        tp = TP(opts.turnstiles_topic, partition)
        return (await app.consumer.earliest_offsets(tp)).get(tp) or 0

    async def expected_offset(partition: int) -> int:
        """The next offset to count in ``partition`` (the broker is asked only while the
        table holds nothing for it)."""
        st = state.data.get(str(partition))
        return next_offset(st, await earliest(partition) if st is None else 0)

    async def gone(partition: int, offset: int) -> bool:
        """Whether the broker no longer has ``offset`` (deleted by retention)."""
        return await earliest(partition) > offset

    async def reread_from(reasons: list[tuple[int, int, str]]) -> None:
        """Read each partition in ``reasons`` (partition, first offset missing, why) again
        from that offset. Not from the committed offsets: Faust treats a jump in the
        offsets it reads as a gap it may commit past, so the committed offset can already
        be beyond the missing records. The flow is stopped first (Faust's fetch loop then
        drops the batch in hand) and the loop given a moment to let go of the record it
        is handing over, so nothing fetched before the seek moves the read offset past the
        records about to be fetched again."""
        if not reasons:
            return
        consumer = app.consumer
        consumer.stop_flow()
        try:
            await asyncio.sleep(REREAD_SETTLE_S)
            for partition, offset, why in reasons:
                log.warning(
                    "turnstile summary: partition %d: %s; re-reading from offset %d", partition, why, offset
                )
                await consumer.seek(TP(opts.turnstiles_topic, partition), offset)
        finally:
            consumer.resume_flow()

    async def watch_stalls() -> None:
        """A partition with records beyond the counted offset and no progress over two
        checks is re-read from that offset. Faust can mark records read that never reach
        the stream around a rebalance (a restart with a backlog, after a crash); without
        this the summary would stop there, with nothing after them ever counted."""
        consumer = app.consumer
        tps = [tp for tp in consumer.assignment() if tp.topic == opts.turnstiles_topic]
        if not tps:
            return
        ends = await consumer.highwaters(*tps)
        reread: list[tuple[int, int, str]] = []
        for tp in tps:
            done = await expected_offset(tp.partition) - 1
            end = ends.get(tp)
            if end is None or end - 1 <= done:
                stalled.pop(tp.partition, None)
            elif stalled.get(tp.partition) == done:
                stalled.pop(tp.partition)
                reread.append(
                    (tp.partition, done + 1, f"no progress at offset {done} with {end - 1 - done} newer")
                )
            else:
                stalled[tp.partition] = done
        await reread_from(reread)

    #: partition -> (missing offset, when it was re-read): records already on their way
    #: after a seek do not trigger another one until RESEEK_S have passed
    sought: dict[int, tuple[int, float]] = {}
    #: partition -> counted offset at the last check, while records beyond it exist
    stalled: dict[int, int] = {}
    app.timer(interval=STALL_CHECK_S, name=f"{opts.app_id}.turnstile-stalls")(watch_stalls)
    app.agent(source, name=f"{opts.app_id}.turnstile-summary")(count)
