"""``cta-tui up``'s launcher: the stack's services, then every job of the catalogue
(:func:`cta_stack.jobs.catalogue`), with one progress line each, and the two summary
lines. The command (in the dashboard's CLI) only parses its options, calls
:func:`launch` and opens the dashboard.

Services and jobs are started when not running; one-shot jobs (stations, connector,
ksqlDB) are waited for. Everything keeps running after the launcher returns:
``cta-stack down`` stops it. Run twice, it starts nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cta_core.settings import Settings
from cta_stack import jobs
from cta_stack.paths import StackLayout
from cta_stack.summary import listed

if TYPE_CHECKING:  # the stack, rich and httpx load when `launch` runs, not with `cta-tui --help`
    from rich.console import Console

    from cta_stack.stack import UpResult

#: the dashboard's principal on a secured stack
DASHBOARD = "dashboard"
STOP_HINT = "the pipeline keeps running in the background: `make down` (or `cta-stack down`) stops it"


def job_names() -> list[str]:
    """The catalogue's jobs, in start order (what ``--job`` accepts)."""
    return [j.name for j in jobs.catalogue()]


def service_names() -> list[str]:
    """What a user may name with ``--only``: the (single-broker) stack's services."""
    from cta_stack.services import SERVICES

    return [s.name for s in SERVICES]


def unknown_services(names: Sequence[str]) -> list[str]:
    """The names among ``names`` that are not services of the stack."""
    known = service_names()
    return [n for n in names if n not in known]


def ksql_answers(url: str) -> bool:
    """Whether a ksqlDB server answers at ``url`` (the ksql job is skipped otherwise)."""
    import httpx

    try:
        return httpx.get(f"{url}/info", timeout=2.0).status_code < 400
    except httpx.HTTPError:
        return False


@dataclass(frozen=True)
class Launched:
    """What :func:`launch` did: the stack's services and the jobs."""

    stack: UpResult
    jobs: jobs.UpReport
    logs_dir: Path

    @property
    def failed(self) -> bool:
        return bool(self.jobs.failed)


def launch(
    settings: Settings,
    console: Console,
    sender: str,
    *,
    only: Sequence[str] = (),
    chosen_jobs: Sequence[str] = (),
    sim_speed: str = "60",
    secure: bool = False,
) -> Launched:
    """Bring up the stack's services (``only`` these and what they need, else all) and the
    catalogue's jobs (``chosen_jobs``, else all), one progress line each on ``console``;
    ``secure``: the stack secured (``cta-stack up --secure``; a stack made secured stays
    so), each job with its principal's client config. ``sender`` names who asked in the
    jobs' logs. The stack's errors (CtaError) and KeyboardInterrupt pass on, the progress
    display stopped first."""
    from cta_stack.progress import ProgressReporter, progress_display
    from cta_stack.stack import Stack

    stack = Stack(settings)
    if secure:
        stack = stack.secured()
    chosen = [j for j in jobs.catalogue(sim_speed=sim_speed) if not chosen_jobs or j.name in chosen_jobs]
    with progress_display(console) as progress:
        reporter = ProgressReporter(progress)
        result = stack.up(only=list(only) or None, reporter=reporter)
        report = jobs.bring_up(
            stack.layout,
            chosen,
            sender,
            ksql_available=ksql_answers(settings.ksql_url),
            progress=lambda name, state, detail: reporter.service(f"job {name}", state, detail),
        )
    return Launched(result, report, stack.layout.logs_dir)


def dashboard_settings(settings: Settings) -> Settings:
    """The dashboard's settings after :func:`launch`: on a secured stack, as the
    ``dashboard`` principal (SASL_SSL, the registry over HTTPS), with ``CTA_CLIENT_CONFIG``
    naming its client config for what it starts (SSH and browser sessions); else as given."""
    import os
    from dataclasses import replace

    from cta_stack.secure_files import SecureFiles
    from cta_stack.stack import as_principal, local_view

    root = StackLayout.at(settings.stack_dir).root
    secure = SecureFiles.load(root)
    if secure is None:
        return settings
    os.environ["CTA_CLIENT_CONFIG"] = str(secure.client_config(DASHBOARD))
    local = as_principal(local_view(settings), secure, DASHBOARD)
    return replace(local, kafka_config=settings.kafka_config)


def summary_lines(launched: Launched) -> list[str]:
    """What the stack and the jobs did, in two lines (rich markup)."""
    result, report = launched.stack, launched.jobs
    services = [f"started {', '.join(result.started) or 'nothing'}"]
    services += listed(("already running: ", result.already_running))
    parts = [f"started {', '.join(report.started) or 'nothing'}"]
    parts += listed(("already done or running: ", report.already), ("skipped: ", report.skipped))
    parts += [f"[red]{line}[/] (logs in {launched.logs_dir})" for line in listed(("failed: ", report.failed))]
    return ["stack: " + "; ".join(services), "jobs: " + "; ".join(parts)]
