"""``cta-tui up``: the local stack, every job of the pipeline, then the dashboard.

The stack's services and the jobs (:func:`cta_stack.jobs.catalogue`) are started
when not running, with one progress line each; one-shot jobs (stations, connector,
ksqlDB) are waited for. Everything keeps running when the dashboard quits:
``make down`` (``cta-stack down``) stops it. Run twice, it starts nothing twice.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import click

from cta_core.errors import CtaError
from cta_stack.jobs import catalogue as job_catalogue

JOB_NAMES = [j.name for j in job_catalogue()]
STOP_HINT = "the pipeline keeps running in the background: `make down` (or `cta-stack down`) stops it"


def _ksql_answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/info", timeout=2.0).status_code < 400
    except httpx.HTTPError:
        return False


@click.command("up")
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
    type=click.Choice(JOB_NAMES),
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
@click.pass_context
def up(
    ctx: click.Context, only: tuple[str, ...], job_names: tuple[str, ...], no_dashboard: bool, sim_speed: str
) -> None:
    """Bring up the local stack and every job (idempotent), then open the dashboard."""
    from rich.console import Console

    from cta_stack import jobs
    from cta_stack.cli import ProgressReporter, progress_display
    from cta_stack.services import SERVICES
    from cta_stack.stack import Stack
    from cta_tui.control import default_sender

    warnings.filterwarnings("ignore", module="authlib.*")
    settings = ctx.obj["settings"]
    known = [s.name for s in SERVICES]
    bad = [s for s in only if s not in known]
    if bad:
        raise click.BadParameter(f"{', '.join(bad)}: not one of {', '.join(known)}", param_hint="--only")
    stack = Stack(settings)
    chosen = [j for j in jobs.catalogue(sim_speed=sim_speed) if not job_names or j.name in job_names]
    console = Console(stderr=True)
    with progress_display(console) as progress:
        reporter = ProgressReporter(progress)
        try:
            result = stack.up(only=only or None, reporter=reporter)
        except CtaError as exc:
            progress.stop()
            console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            sys.exit(1)
        except KeyboardInterrupt:
            progress.stop()
            console.print("interrupted: what started keeps running (`make down` stops it)")
            sys.exit(130)
        report = jobs.bring_up(
            stack.layout,
            chosen,
            default_sender(),
            ksql_available=_ksql_answers(settings.ksql_url),
            progress=lambda name, state, detail: reporter.service(f"job {name}", state, detail),
        )
    _print_summary(console, result, report, stack.layout.logs_dir)
    if no_dashboard:
        console.print(STOP_HINT, highlight=False)
        sys.exit(1 if report.failed else 0)
    from cta_tui.cli import dashboard_source, run_dashboard

    source = dashboard_source(ctx.obj)
    try:
        run_dashboard(settings, source, read_only=ctx.obj["read_only"], theme=ctx.obj.get("theme"))
    finally:
        console.print(STOP_HINT, highlight=False)


def _print_summary(console: Any, result: Any, report: Any, logs_dir: Any) -> None:
    """What the stack and the jobs did, in two lines."""
    services = f"stack: started {', '.join(result.started) or 'nothing'}"
    if result.already_running:
        services += f"; already running: {', '.join(result.already_running)}"
    console.print(services, highlight=False, soft_wrap=True)
    parts = [f"started {', '.join(report.started) or 'nothing'}"]
    if report.already:
        parts.append(f"already done or running: {', '.join(report.already)}")
    if report.skipped:
        parts.append(f"skipped: {', '.join(report.skipped)}")
    if report.failed:
        parts.append(f"[red]failed: {', '.join(report.failed)}[/] (logs in {logs_dir})")
    console.print("jobs: " + "; ".join(parts), highlight=False, soft_wrap=True)
