"""What other packages use of the stack: the dashboard's pipeline screen (the job
catalogue, job control and the stack's directory layout) and ``cta-tui up`` (the
launcher). Import these names from here rather than from the modules behind them;
never from :mod:`cta_stack.cli`, which is ``cta-stack``'s console entry only."""

from __future__ import annotations

from cta_stack.jobs import (
    EXITED,
    FAILED,
    MISSING,
    NEVER,
    RUNNING,
    STOPPED,
    Job,
    JobStatus,
    Outcome,
    catalogue,
    restart,
    start,
    status,
    statuses,
    stop,
)
from cta_stack.paths import StackLayout
from cta_stack.up import (
    STOP_HINT,
    Launched,
    dashboard_settings,
    job_names,
    launch,
    service_names,
    summary_lines,
    unknown_services,
)

__all__ = [
    "EXITED",
    "FAILED",
    "MISSING",
    "NEVER",
    "RUNNING",
    "STOPPED",
    "STOP_HINT",
    "Job",
    "JobStatus",
    "Launched",
    "Outcome",
    "StackLayout",
    "catalogue",
    "dashboard_settings",
    "job_names",
    "launch",
    "restart",
    "service_names",
    "start",
    "status",
    "statuses",
    "stop",
    "summary_lines",
    "unknown_services",
]
