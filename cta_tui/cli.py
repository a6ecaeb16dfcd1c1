"""`cta-tui`: the live dashboard (default), `--once --json` for scripts.

A click group: without a subcommand it runs the dashboard; other modules add
subcommands (``cta-tui serve --ssh`` lives in :mod:`cta_tui.ssh`).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import click

from cta_core import topics
from cta_core.cli_base import CtaGroup
from cta_core.cli_options import ALL_SERVICES, connection_options, settings_from_options, topic_suffix_option
from cta_tui.feeds.topic_names import ARRIVALS_PATTERN, TopicNames
from cta_tui.run import dashboard_source, rewind_factory, run_dashboard


def _regex_cb(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise click.BadParameter(f"not a regular expression: {exc}") from None
    return value


@click.group("cta-tui", cls=CtaGroup, invoke_without_command=True)
@connection_options(*ALL_SERVICES)
@click.option(
    "--read-only",
    is_flag=True,
    help="Disable every key that changes something: the simulator's (space, +, -) and the "
    "pipeline screen's job control (start, stop, restart).",
)
@click.option("--once", is_flag=True, help="Read the pipeline once, print the state and exit (no UI).")
@click.option("--json", "as_json", is_flag=True, help="With --once: print the state as JSON.")
@click.option(
    "--once-timeout",
    type=click.FloatRange(min=0.5),
    default=15.0,
    show_default=True,
    help="With --once: give up reading after this many seconds and print what was read.",
)
@click.option(
    "--replay-minutes",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    envvar="CTA_REPLAY_MINUTES",
    show_envvar=True,
    help="Replay this many minutes of arrivals at start so trains show at once.",
)
@click.option(
    "--at",
    "at",
    default=None,
    metavar="TIME",
    help="Open at this simulated moment (HH:MM[:SS] of the run's day, or an ISO date and time) "
    "instead of live; with --once, print the state at that moment.",
)
@click.option(
    "--run",
    "run_id",
    default=None,
    metavar="RUN_ID",
    help="With --at: the simulator run to rewind (`cta-tui runs` lists them). [default: the current run]",
)
@topic_suffix_option
@click.option(
    "--theme",
    type=click.Choice(["default", "low"]),
    default=None,
    envvar="CTA_THEME",
    show_envvar=True,
    help="Colour theme; 'low' uses the 16 ANSI colours. Default: 'low' when NO_COLOR is set.",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="CTA_LOG_FILE",
    show_envvar=True,
    help="Where the dashboard's logs (librdkafka's included) go; never its screen. "
    "[default: $XDG_STATE_HOME/cta-live/cta-tui.log]",
)
@click.option(
    "--arrivals-pattern",
    default=ARRIVALS_PATTERN,
    show_default=True,
    envvar="CTA_ARRIVALS_PATTERN",
    show_envvar=True,
    callback=_regex_cb,
    help="Read every topic this regular expression matches as arrivals ('' = the contract's topic only).",
)
@click.option(
    "--stations-table-topic",
    default=topics.STATIONS_TABLE,
    show_default=True,
    envvar="CTA_STATIONS_TABLE_TOPIC",
    show_envvar=True,
    help="The stations table (one record per line and station).",
)
@click.option(
    "--summary-topic",
    default=topics.TURNSTILE_SUMMARY,
    show_default=True,
    envvar="CTA_SUMMARY_TOPIC",
    show_envvar=True,
    help="Turnstile counts per station (ksqlDB's or the Faust worker's).",
)
@click.option(
    "--weather-topic", default=topics.WEATHER, show_default=True, envvar="CTA_WEATHER_TOPIC", show_envvar=True
)
@click.option(
    "--status-topic",
    default=topics.SIM_STATUS,
    show_default=True,
    envvar="CTA_STATUS_TOPIC",
    show_envvar=True,
)
@click.option(
    "--predictions-topic",
    default=topics.PREDICTIONS,
    show_default=True,
    envvar="CTA_PREDICTIONS_TOPIC",
    show_envvar=True,
)
@click.pass_context
def main(
    ctx: click.Context,
    log_file: Path | None,
    read_only: bool,
    once: bool,
    as_json: bool,
    once_timeout: float,
    replay_minutes: float,
    at: str | None,
    run_id: str | None,
    topic_suffix: str,
    theme: str | None,
    arrivals_pattern: str,
    stations_table_topic: str,
    summary_topic: str,
    weather_topic: str,
    status_topic: str,
    predictions_topic: str,
    **connection: Any,
) -> None:
    """The cta-live dashboard: trains, stations, weather and the pipeline's health, live.
    Its logs go to --log-file (-v: more, -q: less), never to its screen."""
    settings = settings_from_options(connection)
    ctx.ensure_object(dict)
    ctx.obj["settings"] = settings
    ctx.obj["read_only"] = read_only
    ctx.obj["replay_minutes"] = replay_minutes
    ctx.obj["theme"] = theme
    names = TopicNames(
        arrivals_pattern, stations_table_topic, summary_topic, weather_topic, status_topic, predictions_topic
    ).with_suffix(topic_suffix)
    ctx.obj["topic_names"] = names  # `up` and `serve` read the same topics
    ctx.obj["log_file"] = log_file
    if ctx.invoked_subcommand is not None:
        return
    if as_json and not once:
        raise click.UsageError("--json needs --once")
    if run_id is not None and at is None:
        raise click.UsageError("--run needs --at")
    source = dashboard_source(ctx.obj)
    if once:
        _print_once(ctx.obj, source, once_timeout, as_json, at, run_id)
        return
    run_dashboard(
        settings,
        source,
        read_only=read_only,
        theme=theme,
        rewind=rewind_factory(ctx.obj),
        start_at=(at, run_id),
    )


def _print_once(
    obj: dict[str, Any], source: Any, timeout: float, as_json: bool, at: str | None, run_id: str | None
) -> None:
    """`--once`: the state now (or ``--at`` a past moment), as JSON or one line."""
    from cta_core.http_client import require_service

    # without the registry every Avro record (arrivals, predictions) would be skipped
    settings = obj["settings"]
    require_service(
        "Schema Registry", settings.schema_registry_url, "/subjects", http=settings.registry_http()
    )
    if at is not None:
        from cta_tui.rewind_cli import once_at

        source.close()
        once_at(obj, at, run_id, as_json)
        return
    from cta_tui.once import read_once
    from cta_tui.state.snapshot import snapshot_json

    state = read_once(source, timeout=timeout)
    if as_json:
        click.echo(snapshot_json(state, time.time()))
    else:
        trains = sum(1 for t in state.trains.values() if t.in_service)
        click.echo(
            f"{len(state.lines)} lines, {trains} trains, {len(state.turnstile_counts)} stations counted"
        )


# `cta-tui serve --ssh`: the dashboard over SSH (cta_tui/ssh). Imported last so the
# group exists; cta_tui.ssh.cli loads asyncssh only when `serve` runs.
from cta_tui.ssh.cli import serve  # noqa: E402

main.add_command(serve)

# `cta-tui tail TOPIC` (cta_tui/tail_cli.py) and `cta-tui up` (cta_tui/up_cli.py)
from cta_tui.rewind_cli import runs  # noqa: E402
from cta_tui.tail_cli import tail  # noqa: E402
from cta_tui.up_cli import up  # noqa: E402

__all__ = ["main"]

main.add_command(runs)
main.add_command(tail)
main.add_command(up)
