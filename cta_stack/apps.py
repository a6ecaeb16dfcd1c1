"""The product's own long-running processes beside the stack (the Faust worker, the
simulator), started in the background by ``make demo`` and stopped by ``make down``.

They live in the same stack directory as the services: a pid file
``run/app-<name>.json`` and a log ``logs/<name>.log``. Like the services, only
processes recorded here are ever signalled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cta_stack.paths import StackLayout
from cta_stack.supervisor import ProcessRecord, resident_memory, running, spawn, stop, uptime

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_PREFIX = "app-"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"app name must be lowercase letters, digits and '-', got {name!r}")
    return name


def pidfile(layout: StackLayout, name: str) -> Path:
    return layout.run_dir / f"{_PREFIX}{check_name(name)}.json"


@dataclass(frozen=True)
class AppStatus:
    name: str
    pid: int | None
    uptime_s: float | None
    rss_bytes: int | None
    log: Path
    argv: list[str]


def start(
    layout: StackLayout,
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    copier: bool = True,
) -> tuple[ProcessRecord, bool]:
    """Start ``argv`` as app ``name`` unless it already runs; return (record, started).
    ``copier=False``: ``argv`` rotates its own log (a job under :mod:`cta_stack.job_runner`)."""
    layout.create()
    found = running(pidfile(layout, name))
    if found is not None:
        return found[0], False
    record = spawn(
        name, argv, pidfile=pidfile(layout, name), log_file=layout.log_file(name), env=env, copier=copier
    )
    return record, True


def stop_app(layout: StackLayout, name: str, timeout: float = 20.0) -> bool:
    return stop(pidfile(layout, name), timeout=timeout)


def names(layout: StackLayout) -> list[str]:
    if not layout.run_dir.is_dir():
        return []
    return sorted(p.stem[len(_PREFIX) :] for p in layout.run_dir.glob(f"{_PREFIX}*.json"))


def stop_all(layout: StackLayout, timeout: float = 20.0) -> list[str]:
    return [n for n in names(layout) if stop_app(layout, n, timeout)]


def statuses(layout: StackLayout) -> list[AppStatus]:
    out = []
    for name in names(layout):
        found = running(pidfile(layout, name))
        if found is None:
            out.append(AppStatus(name, None, None, None, layout.log_file(name), []))
            continue
        record, proc = found
        out.append(
            AppStatus(
                name, record.pid, uptime(record), resident_memory(proc), layout.log_file(name), record.cmdline
            )
        )
    return out
