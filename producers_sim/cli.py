"""cta-sim: simulate the 'L' and publish arrivals, turnstile entries and weather."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import queue
import re
import signal
import uuid
from collections.abc import Iterator
from datetime import datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

import click

from cta_core.cli_base import CtaCommand, verbosity
from cta_core.cli_options import (
    KAFKA,
    REGISTRY,
    REST_PROXY,
    aliased,
    broker_wait_option,
    connection_options,
    count_option,
    deprecated_alias,
    settings_from_options,
    topic_suffix_option,
)
from cta_core.errors import CtaError
from cta_core.records.control import Command, Rejected, parse_speed
from cta_core.topics import WEATHER
from producers_sim.clock import CHICAGO, SimClock
from producers_sim.engine import EngineOptions, new_seed
from producers_sim.engine_pipe import EngineFailed, EnginePipe, EngineSpec, InlinePipe, ProcessPipe
from producers_sim.movement import MovementOptions
from producers_sim.network import LINES
from producers_sim.prepare import Preparer
from producers_sim.runner import Runner, RunSummary
from producers_sim.schedule import HeadwayPlan

log = logging.getLogger("producers_sim")

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(h|m|s)", re.IGNORECASE)
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> float:
    """'30m', '2h', '90s', '1h30m' → seconds. Raises ValueError."""
    s = text.strip().lower().replace(" ", "")
    if not s:
        raise ValueError("empty duration")
    pos, total = 0, 0.0
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or total <= 0:
        raise ValueError(f"{text!r} is not a duration like 30m, 2h, 90s or 1h30m")
    return total


def parse_start(text: str | None, today: datetime | None = None) -> datetime:
    """An ISO datetime (naive = Chicago time) or HH:MM today in Chicago. Raises ValueError."""
    base = today or datetime.now(CHICAGO)
    if text is None:
        return datetime.combine(base.date(), dtime(5, 0), CHICAGO)
    s = text.strip()
    if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", s):
        t = dtime.fromisoformat(s.zfill(5) if len(s) in (4, 7) else s)
        return datetime.combine(base.date(), t, CHICAGO)
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO datetime (2026-11-30T07:30) or HH:MM") from None
    return dt.replace(tzinfo=CHICAGO) if dt.tzinfo is None else dt


def _lines_cb(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    wanted = [v.strip().lower() for v in value.split(",") if v.strip()]
    unknown = [v for v in wanted if v not in LINES]
    if unknown or not wanted:
        raise click.BadParameter(
            f"unknown line(s): {', '.join(unknown) or '(none given)'}; valid lines: {', '.join(LINES)}"
        )
    return [ln for ln in LINES if ln in wanted]


def speed_cb(ctx: click.Context, param: click.Parameter, value: str) -> float | None:
    """--speed as a number (None: as fast as possible); cta-sim and cta-weather share it."""
    try:
        return parse_speed(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def start_cb(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime:
    try:
        return parse_start(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _duration_cb(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("cta-sim", cls=CtaCommand)
@click.option(
    "--lines",
    default=",".join(LINES),
    show_default=True,
    callback=_lines_cb,
    help="Comma-separated lines to simulate (red,blue,green is the course project's set).",
)
@click.option(
    "--speed",
    default="1",
    show_default=True,
    callback=speed_cb,
    help="Simulated seconds per wall second (60 = a minute per second), or 'max'.",
)
@click.option(
    "--start",
    default=None,
    callback=start_cb,
    help="Simulated start: ISO datetime (naive = Chicago time) or HH:MM.  [default: today 05:00 Chicago]",
)
@click.option(
    "--duration",
    default=None,
    callback=_duration_cb,
    help="Stop after this much simulated time (30m, 2h, 90s).  [default: run until stopped]",
)
@count_option("events")
@deprecated_alias("--max-events", "--count", type=click.IntRange(min=1))
@click.option("--seed", type=int, default=None, help="Random seed; the same seed and options repeat a run.")
@click.option("--dry-run", is_flag=True, help="Write events to stdout as JSON lines; no Kafka.")
@click.option("--disruptions", is_flag=True, help="Trains may break down and hold the trains behind them.")
@click.option("--paused", is_flag=True, help="Start paused (resume from the dashboard or with space).")
@click.option(
    "--partitions",
    type=click.IntRange(min=1),
    default=None,
    help="Partitions for topics created when missing.  [default: per topic contract]",
)
@click.option(
    "--replication",
    type=click.IntRange(min=1),
    default=None,
    help="Replication factor for topics created when missing.  "
    "[default: 3 with min.insync.replicas=2 on three or more brokers, else one per broker]",
)
@click.option(
    "--headway-peak",
    type=click.FloatRange(min=0.5),
    default=None,
    help="Minutes between trains at peak on every line.  [default: per line, 4-10]",
)
@click.option(
    "--headway-offpeak",
    type=click.FloatRange(min=0.5),
    default=None,
    help="Minutes between trains off-peak on every line.  [default: per line, 7-15]",
)
@click.option(
    "--headway-overnight",
    type=click.FloatRange(min=0.5),
    default=None,
    help="Minutes between trains overnight on every line.  [default: per line, 15-20]",
)
@broker_wait_option
@topic_suffix_option
@click.option(
    "--control/--no-control",
    default=True,
    show_default=True,
    help="Obey commands on the control topic (off: benchmarks that must not be paused).",
)
@click.option(
    "--engine-process/--no-engine-process",
    default=True,
    show_default=True,
    help="Simulate and encode in a second process, so producing gets a core of its own "
    "(off: everything in one process).",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="At exit, write what the run produced as JSON to this file (per topic, and "
    "turnstile entries per station).",
)
@click.option(
    "--weather/--no-weather",
    default=True,
    show_default=True,
    help="Publish hourly weather through the REST Proxy (off: `cta-weather` runs it as its own job).",
)
@click.option("--run-id", default=None, help="Id of this run in status messages.  [default: random]")
@connection_options(KAFKA, REGISTRY, REST_PROXY)
@click.pass_context
def main(ctx: click.Context, **kwargs: Any) -> None:
    """Simulate the Chicago 'L': train arrivals and turnstile entries to Kafka (Avro),
    hourly weather through the REST Proxy, controlled from the dashboard."""
    kwargs["count"] = aliased(ctx, "count", kwargs["count"])
    settings = settings_from_options(kwargs)
    if verbosity(ctx) < 2:
        # librdkafka logs every failed connection attempt; -vv shows them
        settings = settings.with_overrides(kafka_config={"log_level": "0", **settings.kafka_config})
    start: datetime = kwargs["start"]
    duration: float | None = kwargs["duration"]
    plan = HeadwayPlan().with_overrides(
        kwargs["headway_peak"], kwargs["headway_offpeak"], kwargs["headway_overnight"]
    )
    options = EngineOptions(
        plan=plan, movement=MovementOptions(disruptions=kwargs["disruptions"]), weather=kwargs["weather"]
    )
    seed = kwargs["seed"] if kwargs["seed"] is not None else new_seed()
    spec = EngineSpec(tuple(kwargs["lines"]), start.timestamp(), seed, options)
    clock = SimClock(spec.start, kwargs["speed"], paused=kwargs["paused"])
    end_t = spec.start + duration if duration is not None else None
    commands: queue.Queue[Command | Rejected] = queue.Queue()
    run_id = kwargs["run_id"] or uuid.uuid4().hex[:8]
    in_process = not kwargs["engine_process"]
    try:
        if kwargs["dry_run"]:
            summary = _run_dry(spec, in_process, clock, end_t, kwargs["count"], commands, run_id)
        else:
            summary = _run_kafka(settings, spec, in_process, clock, end_t, kwargs, commands, run_id)
    except EngineFailed as exc:
        raise CtaError(f"the simulation failed: {exc}; run again with -vv and report the log") from None
    for line in summary.lines():
        click.echo(line, err=True)
    if kwargs["report"] is not None:
        from producers_sim.run_report import write_report

        write_report(kwargs["report"], summary)


@contextlib.contextmanager
def _stop_on_signals(runner: Runner) -> Iterator[None]:
    """Ctrl+C and SIGTERM end the run cleanly (flush, summary, exit 0)."""

    def handler(signum: int, frame: Any) -> None:
        runner.request_stop()

    previous: dict[signal.Signals, Any] = {}
    try:
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def _engine_pipe(spec: EngineSpec, preparer: Preparer, in_process: bool) -> Iterator[EnginePipe]:
    pipe: EnginePipe = InlinePipe(spec.build(), preparer) if in_process else ProcessPipe(spec, preparer)
    try:
        yield pipe
    finally:
        pipe.close()


def _run_dry(
    spec: EngineSpec,
    in_process: bool,
    clock: SimClock,
    end_t: float | None,
    max_events: int | None,
    commands: queue.Queue[Command | Rejected],
    run_id: str,
) -> RunSummary:
    from producers_sim.prepare import JsonPreparer
    from producers_sim.publishers.stdout_publisher import StdoutPublisher

    sink = StdoutPublisher(click.get_text_stream("stdout"))
    with _engine_pipe(spec, JsonPreparer(), in_process) as pipe:
        runner = Runner(
            pipe, clock, sink, end_t=end_t, max_events=max_events, commands=commands, run_id=run_id
        )
        with _stop_on_signals(runner):
            return _with_terminal(runner, clock, commands)


def _with_terminal(runner: Runner, clock: SimClock, commands: queue.Queue[Command | Rejected]) -> RunSummary:
    from producers_sim.terminal import TerminalUI

    ui = TerminalUI(clock, commands)
    runner.on_status = ui.update
    with ui.running():
        return runner.run()


def _run_kafka(
    settings: Any,
    spec: EngineSpec,
    in_process: bool,
    clock: SimClock,
    end_t: float | None,
    kwargs: dict[str, Any],
    commands: queue.Queue[Command | Rejected],
    run_id: str,
) -> RunSummary:
    from cta_core.kafka_clients import make_registry_client, wait_for_broker
    from producers_sim.control_listener import ControlListener
    from producers_sim.prepare import KafkaPreparer
    from producers_sim.publishers.base import CompositeSink
    from producers_sim.publishers.kafka_publisher import KafkaPublisher, create_topics, register_schemas
    from producers_sim.publishers.weather_publisher import WeatherPublisher
    from producers_sim.run_report import StationTally

    admin = wait_for_broker(settings, timeout=kwargs["broker_wait"])
    suffix = kwargs["topic_suffix"]
    created = create_topics(admin, kwargs["partitions"], kwargs["replication"], suffix)
    if created:
        log.info("created topics: %s", ", ".join(created))
    ids = register_schemas(make_registry_client(settings), settings.schema_registry_url, suffix)
    kafka = KafkaPublisher.from_settings(settings, suffix)
    sink: Any = kafka
    if kwargs["weather"]:
        sink = CompositeSink(
            kafka,
            WeatherPublisher(
                settings.rest_proxy_url, topic=WEATHER + suffix, http=settings.rest_proxy_http()
            ),
        )
    tally = StationTally(sink) if kwargs["report"] is not None else None
    listener = ControlListener.from_settings(settings, run_id, commands) if kwargs["control"] else None
    if listener is not None:
        listener.start()
    try:
        with _engine_pipe(spec, KafkaPreparer(ids), in_process) as pipe:
            runner = Runner(
                pipe,
                clock,
                tally or sink,
                end_t=end_t,
                max_events=kwargs["count"],
                commands=commands,
                status=kafka,
                run_id=run_id,
            )
            with _stop_on_signals(runner):
                summary = _with_terminal(runner, clock, commands)
        if tally is not None:
            summary = dataclasses.replace(summary, turnstile_entries_by_station=tally.by_station())
        return summary
    finally:
        if listener is not None:
            listener.stop()
        sink.close()
