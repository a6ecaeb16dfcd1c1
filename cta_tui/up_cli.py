"""``cta-tui up``: the local stack, every job of the pipeline, then the dashboard.

The launching is the stack's (:func:`cta_stack.api.launch`: services and jobs started
when not running, one progress line each); this command parses its options, prints
the launcher's summary and opens the dashboard. Everything keeps running when the
dashboard quits: ``make down`` (``cta-stack down``) stops it.
"""

from __future__ import annotations

import sys

import click

from cta_core.cli_base import OwnLoggingCommand
from cta_stack import api as stack


@click.command("up", cls=OwnLoggingCommand)
@click.option(
    "--only",
    "only",
    multiple=True,
    help="Start only this stack service and what it needs (repeatable; default: all).",
)
@click.option(
    "--job",
    "job_names",
    multiple=True,
    type=click.Choice(stack.job_names()),
    help="Start only this job (repeatable; default: every job).",
)
@click.option("--no-dashboard", is_flag=True, help="Bring everything up and exit (scripts, CI).")
@click.option(
    "--sim-speed",
    default="60",
    show_default=True,
    envvar="CTA_SIM_SPEED",
    show_envvar=True,
    help="The simulator's speed when this starts it.",
)
@click.option(
    "--secure",
    is_flag=True,
    help="Run the whole pipeline secured: the stack as `cta-stack up --secure` makes it "
    "(SASL_SSL, ACLs, HTTPS), each job and the dashboard as its own principal.",
)
@click.pass_context
def up(
    ctx: click.Context,
    only: tuple[str, ...],
    job_names: tuple[str, ...],
    no_dashboard: bool,
    sim_speed: str,
    secure: bool,
) -> None:
    """Bring up the local stack and every job (idempotent), then open the dashboard."""
    from rich.console import Console

    from cta_tui.control import default_sender
    from cta_tui.run import dashboard_source, run_dashboard

    settings = ctx.obj["settings"]
    bad = stack.unknown_services(only)
    if bad:
        known = ", ".join(stack.service_names())
        raise click.BadParameter(f"{', '.join(bad)}: not one of {known}", param_hint="--only")
    console = Console(stderr=True)
    try:
        launched = stack.launch(
            settings,
            console,
            default_sender(),
            only=only,
            chosen_jobs=job_names,
            sim_speed=sim_speed,
            secure=secure,
        )
    except KeyboardInterrupt:
        console.print("interrupted: what started keeps running (`make down` stops it)")
        sys.exit(130)
    for line in stack.summary_lines(launched):
        console.print(line, highlight=False, soft_wrap=True)
    if no_dashboard:
        console.print(stack.STOP_HINT, highlight=False)
        sys.exit(1 if launched.failed else 0)
    settings = stack.dashboard_settings(settings)
    ctx.obj["settings"] = settings
    source = dashboard_source(ctx.obj)
    try:
        run_dashboard(settings, source, read_only=ctx.obj["read_only"], theme=ctx.obj.get("theme"))
    finally:
        console.print(stack.STOP_HINT, highlight=False)
