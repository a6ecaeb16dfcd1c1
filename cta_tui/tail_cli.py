"""``cta-tui tail TOPIC``: a topic's records decoded, one per line, for scripts, in
kcat's dialect (``kcat -C``): ``-o`` where to start, ``-p`` one partition, ``-c`` how
many, ``-e`` exit at the end, ``-f`` a format or ``--json``; ``-L`` lists the topics."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from cta_core.cli_base import CtaCommand
from cta_core.cli_options import KAFKA, REGISTRY, connection_options, count_option, merged_settings
from cta_tui.tail_offsets import OffsetSpec, caught_up, parse_offset


def _offset_cb(ctx: click.Context, param: click.Parameter, value: str | None) -> OffsetSpec | None:
    if value is None:
        return None
    try:
        return parse_offset(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("tail", cls=CtaCommand)
@click.argument("topic", required=False)
@click.option(
    "-o",
    "--offset",
    callback=_offset_cb,
    default="end",
    show_default=True,
    metavar="OFFSET",
    help="Where to start in each partition: beginning, end, <offset>, -<N> (N before the "
    "end) or s@<epoch ms> (the first record at or after that time).",
)
@click.option("-p", "--partition", type=click.IntRange(min=0), default=None, help="Read only this partition.")
@count_option("records")
@click.option("-e", "--exit-at-end", is_flag=True, help="Exit when every partition is read to its end.")
@click.option(
    "-f",
    "--format",
    "fmt",
    default=None,
    help="Each record by this format: %t topic, %p partition, %o offset, %k key, %s value, "
    "%T timestamp (epoch ms), %h headers, %K/%S key/value length; \\n, \\t.  "
    "[default: time, partition, offset, key and value, tab-separated]",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object per record: topic, partition, offset, timestamp, key, value, headers.",
)
@click.option(
    "--idle-exit",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Exit after this many seconds without a record.  [default: wait forever]",
)
@click.option("-L", "--list", "list_only", is_flag=True, help="List the topics and exit.")
@connection_options(KAFKA, REGISTRY)
@click.pass_context
def tail(ctx: click.Context, topic: str | None, **opts: Any) -> None:
    """Print TOPIC's records decoded (Avro through the Schema Registry, JSON, text, else
    hex), like `kcat -C`; ctrl+c stops it."""
    from cta_tui.feeds.tail_source import TailSource, list_topics

    settings = merged_settings(ctx, opts)
    if opts["list_only"]:
        for name in list_topics(settings):
            click.echo(name)
        return
    if topic is None:
        raise click.UsageError("missing TOPIC (or -L to list the topics)", ctx=ctx)
    if opts["fmt"] is not None and opts["as_json"]:
        raise click.UsageError("-f and --json are alternatives: give one", ctx=ctx)
    spec: OffsetSpec = opts["offset"]
    source = TailSource(settings, topic, strict=True)
    try:
        ends = source.start_at(spec, None if opts["partition"] is None else [opts["partition"]])
        _print_records(source, ends, opts)
    except KeyboardInterrupt:
        pass
    finally:
        source.close()


def _print_records(source: Any, ends: dict[int, int], opts: dict[str, Any]) -> None:
    from cta_tui.tail_format import default_line, format_record

    count, printed = opts["count"], 0
    idle_since = time.monotonic()
    while count is None or printed < count:
        if opts["exit_at_end"] and caught_up(source.positions, ends):
            return
        records = source.poll(500 if count is None else min(500, count - printed), 0.5)
        if not records:
            if opts["idle_exit"] is not None and time.monotonic() - idle_since >= opts["idle_exit"]:
                return
            continue
        idle_since = time.monotonic()
        for record in records:
            if opts["as_json"]:
                click.echo(json.dumps(record.to_json(), ensure_ascii=False, default=str))
            elif opts["fmt"] is not None:
                click.echo(format_record(opts["fmt"], record), nl=False)
            else:
                click.echo(default_line(record))
            printed += 1
            if count is not None and printed >= count:
                break
        sys.stdout.flush()
