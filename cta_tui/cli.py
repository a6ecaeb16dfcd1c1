"""`cta-tui`: the live dashboard (default), `--once --json` for scripts.

A click group: without a subcommand it runs the dashboard; other modules add
subcommands (``cta-tui serve --ssh`` lives in :mod:`cta_tui.ssh`).
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import click

from cta_core.cli_options import connection_options, settings_from_options
from cta_core.errors import CtaError


@click.group(invoke_without_command=True)
@connection_options
@click.option("--read-only", is_flag=True, help="Disable the simulator control keys (space, +, -).")
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
    envvar="CTA_TUI_REPLAY_MINUTES",
    show_envvar=True,
    help="Replay this many minutes of arrivals at start so trains show at once.",
)
@click.option(
    "--theme",
    type=click.Choice(["default", "low"]),
    default=None,
    envvar="CTA_TUI_THEME",
    show_envvar=True,
    help="Colour theme; 'low' uses the 16 ANSI colours. Default: 'low' when NO_COLOR is set.",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="CTA_TUI_LOG_FILE",
    show_envvar=True,
    help="Where the dashboard's logs (librdkafka's included) go; never its screen. "
    "[default: $XDG_STATE_HOME/cta-live/cta-tui.log]",
)
@click.option("-v", "--verbose", count=True, help="More in the log file (-vv for debug).")
@click.pass_context
def main(
    ctx: click.Context,
    log_file: Path | None,
    verbose: int,
    read_only: bool,
    once: bool,
    as_json: bool,
    once_timeout: float,
    replay_minutes: float,
    theme: str | None,
    **connection: Any,
) -> None:
    """The cta-live dashboard: trains, stations, weather and the pipeline's health, live."""
    # confluent-kafka's registry client imports authlib, which warns about its httpx module
    warnings.filterwarnings("ignore", module="authlib.*")
    settings = settings_from_options(connection)
    ctx.ensure_object(dict)
    ctx.obj["settings"] = settings
    ctx.obj["read_only"] = read_only
    ctx.obj["replay_minutes"] = replay_minutes
    if ctx.invoked_subcommand is not None:
        return
    if as_json and not once:
        raise click.UsageError("--json needs --once")
    from cta_tui.logs import default_log_file, log_to_file

    log_to_file(log_file or default_log_file(), verbose)
    from cta_tui.feeds.kafka_source import KafkaSource

    source = KafkaSource(settings, replay_minutes=replay_minutes)
    if once:
        from cta_tui.once import read_once
        from cta_tui.state.views import snapshot_json

        try:
            state = read_once(source, timeout=once_timeout)
        except CtaError as exc:
            click.echo(f"cta-tui: {exc}", err=True)
            sys.exit(1)
        if as_json:
            click.echo(snapshot_json(state, time.time()))
        else:
            trains = sum(1 for t in state.trains.values() if t.in_service)
            click.echo(
                f"{len(state.lines)} lines, {trains} trains, {len(state.turnstile_counts)} stations counted"
            )
        return
    from cta_tui.app import make_app
    from cta_tui.feeds.health import HttpHealthProbe

    chosen = theme or ("low" if os.environ.get("NO_COLOR") is not None else "default")
    app = make_app(settings, source, read_only=read_only, health=HttpHealthProbe(settings), theme=chosen)
    from cta_tui.terminal import exit_cleanly_on_signals

    exit_cleanly_on_signals(app)
    app.run()
    if app.return_code:
        sys.exit(app.return_code)


# `cta-tui serve --ssh`: the dashboard over SSH (cta_tui/ssh). Imported last so the
# group exists; cta_tui.ssh.cli loads asyncssh only when `serve` runs.
from cta_tui.ssh.cli import serve  # noqa: E402

main.add_command(serve)
