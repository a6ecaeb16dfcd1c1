"""``cta-tui tail TOPIC``: a topic's records decoded, one per line, for scripts (like
``kcat -C``). Exits after ``--max`` records, or on ctrl+c."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from cta_core.errors import CtaError


@click.command("tail")
@click.argument("topic")
@click.option("--from-beginning", is_flag=True, help="Start at the oldest record (default: the newest).")
@click.option(
    "--last",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Without --from-beginning: also print each partition's last N records first.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per record (topic, partition, offset ...)."
)
@click.option("--max", "max_records", type=click.IntRange(min=1), default=None, help="Exit after N records.")
@click.option(
    "--idle-exit",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Exit after this many seconds without a record (default: wait forever).",
)
@click.pass_context
def tail(
    ctx: click.Context,
    topic: str,
    from_beginning: bool,
    last: int,
    as_json: bool,
    max_records: int | None,
    idle_exit: float | None,
) -> None:
    """Print TOPIC's records decoded (Avro through the Schema Registry, JSON, text,
    else hex): time, partition, offset, key and value, or --json lines."""
    from cta_tui.feeds.tail_source import TailSource

    settings = ctx.obj["settings"]
    try:
        source = TailSource(settings, topic, last=last)
    except CtaError as exc:
        click.echo(f"cta-tui tail: {exc}", err=True)
        sys.exit(1)
    printed = 0
    try:
        if from_beginning:
            source.seek_start()
        else:
            source.seek_end(last)
        idle_since = time.monotonic()
        while max_records is None or printed < max_records:
            want = 500 if max_records is None else min(500, max_records - printed)
            records = source.poll(want, 0.5)
            if not records:
                if idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
                    break
                continue
            idle_since = time.monotonic()
            for record in records:
                click.echo(_line(record, as_json))
                printed += 1
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        source.close()


def _line(record: Any, as_json: bool) -> str:
    if as_json:
        return json.dumps(record.to_json(), ensure_ascii=False, default=str)
    return (
        f"{record.time_text()}\t{record.partition}\t{record.offset}\t{record.key_text}\t{record.value_text}"
    )
