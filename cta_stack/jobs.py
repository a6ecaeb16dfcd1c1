"""The pipeline's jobs: one catalogue (name -> command line) and how to run them.

``cta-tui up``, ``make demo`` and the dashboard's pipeline screen all read
:func:`catalogue`, so a job is defined once. Jobs run as the stack's apps
(:mod:`cta_stack.apps`: pid file ``run/app-<name>.json``, log ``logs/<name>.log``)
under :mod:`cta_stack.job_runner`, which records their exit codes, so they outlive
the dashboard that started them and show "exited with code N" when they end.

Starting is idempotent and locked per job (two dashboards pressing ``s`` at once
start one process). Every start and stop is written, with who asked, to the job's
log and to ``logs/job-requests.log``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cta_core import topics
from cta_core.log_limits import append_line
from cta_stack import apps
from cta_stack.paths import StackLayout
from cta_stack.secure_files import is_secure, secure_dir
from cta_stack.supervisor import running, uptime

#: Each job's Kafka principal on a secured stack (the one-shot jobs use no Kafka client).
JOB_PRINCIPALS = {"faust": "faust", "predict": "predict", "weather": "weather", "sim": "sim"}

#: The Faust worker's default app id (its consumer group).
FAUST_APP_ID = "cta-stations"

REQUESTS_LOG = "job-requests"

#: Exit codes of a job ended by SIGHUP, SIGINT or SIGTERM (128 + signal): it was stopped.
STOP_SIGNAL_CODES = frozenset({129, 130, 143})

# Job states as the pipeline screen and `cta-tui up` show them.
RUNNING = "running"
STOPPED = "stopped"
EXITED = "exited"
FAILED = "failed"
NEVER = "not started"
MISSING = "not installed"


@dataclass(frozen=True)
class Job:
    """One job of the pipeline."""

    name: str
    argv: tuple[str, ...]
    description: str
    #: runs to completion (setup steps) rather than until stopped
    oneshot: bool = False
    #: the consumer group whose lag belongs to this job
    group_id: str | None = None
    consumes: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()
    #: only started when a ksqlDB server answers
    needs_ksql: bool = False
    #: its Kafka principal on a secured stack (it runs with that principal's client config)
    principal: str | None = None

    def missing(self) -> str | None:
        """Why this job cannot run here (its program is not installed), else None."""
        program = self.argv[0]
        if not (Path(program).is_file() or shutil.which(program)):
            return f"{Path(program).name} is not installed"
        return None


def bin_dir() -> Path:
    """Where this installation's console scripts are (beside the running Python)."""
    return Path(sys.executable).parent


def catalogue(
    *,
    scripts: Path | None = None,
    topic_suffix: str = "",
    faust_app_id: str = FAUST_APP_ID,
    sim_speed: str = "60",
    sim_args: Sequence[str] = (),
) -> list[Job]:
    """Every job, in the order ``cta-tui up`` starts them.

    ``topic_suffix`` and ``faust_app_id`` isolate a trial run (tests, benchmarks)
    from the real pipeline on a shared broker: the simulator and the Faust
    summary then use their own topics and group.
    """
    b = scripts or bin_dir()
    jobs_cmd = str(b / "cta-jobs")
    s = topic_suffix
    argv = _job_argvs(b, s, faust_app_id, sim_speed, sim_args)
    jobs = [
        Job(
            "stations",
            (jobs_cmd, "load-stations"),
            "load the stations into PostgreSQL",
            oneshot=True,
        ),
        Job(
            "connector",
            (jobs_cmd, "connector"),
            "register the stations connector",
            oneshot=True,
            produces=(topics.STATIONS_RAW, topics.LINE_STATIONS_RAW),
        ),
        Job("ksql", (jobs_cmd, "ksql"), "ksqlDB summary table", oneshot=True, needs_ksql=True),
        Job(
            "faust",
            argv["faust"],
            "Faust: stations table" + ("" if s else ", turnstile summary"),
            group_id=faust_app_id,
            consumes=(topics.TURNSTILES + s,)
            + (() if s else (topics.STATIONS_RAW, topics.LINE_STATIONS_RAW)),
            produces=(topics.TURNSTILE_SUMMARY + s,) + (() if s else (topics.STATIONS_TABLE,)),
        ),
        Job(
            "predict",
            argv["predict"],
            "arrival predictions",
            group_id=f"cta-predict{s}",
            produces=(topics.PREDICTIONS + s,),
            consumes=(topics.ARRIVALS + s,),
        ),
        Job("weather", argv["weather"], "weather producer", produces=(topics.WEATHER + s,)),
        Job(
            "sim",
            argv["sim"],
            "the train simulator",
            produces=(topics.ARRIVALS + s, topics.TURNSTILES + s, topics.SIM_STATUS),
            consumes=(topics.SIM_CONTROL,),
        ),
    ]
    return [replace(j, principal=JOB_PRINCIPALS.get(j.name)) for j in jobs]


def _job_argvs(
    b: Path, s: str, faust_app_id: str, sim_speed: str, sim_args: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    """The long-running jobs' command lines; a topic suffix ``s`` puts them on copies of the topics."""
    jobs_cmd = str(b / "cta-jobs")
    faust = [jobs_cmd, "faust", "--group-id", faust_app_id]
    if s:
        faust += ["--no-stations", "--topic-suffix", s]
    # the weather job publishes the readings (and follows the simulator's clock)
    sim = [str(b / "cta-sim"), "--speed", sim_speed, "--no-weather"]
    weather = [str(b / "cta-weather"), "--speed", sim_speed]
    predict = [jobs_cmd, "predict"]
    if s:
        sim += ["--topic-suffix", s]
        weather += ["--topic-suffix", s]
        predict += ["--topic-suffix", s, "--group-id", f"cta-predict{s}"]
    sim += list(sim_args)
    return {"faust": tuple(faust), "sim": tuple(sim), "weather": tuple(weather), "predict": tuple(predict)}


def by_name(jobs: Sequence[Job]) -> dict[str, Job]:
    return {j.name: j for j in jobs}


# ---------------------------------------------------------------------- state files


def exit_file(layout: StackLayout, name: str) -> Path:
    return layout.run_dir / f"job-{apps.check_name(name)}.exit"


def refusal_file(layout: StackLayout, name: str) -> Path:
    """The last refusal (authentication or authorization) the job met, one line."""
    return layout.run_dir / f"job-{apps.check_name(name)}.refused"


def _refusal(layout: StackLayout, name: str) -> str:
    try:
        return refusal_file(layout, name).read_text().strip()
    except OSError:
        return ""


def _meta_file(layout: StackLayout, name: str) -> Path:
    return layout.run_dir / f"job-{apps.check_name(name)}.meta"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


@contextlib.contextmanager
def _locked(layout: StackLayout, name: str) -> Iterator[None]:
    """One starter or stopper of job ``name`` at a time (across processes)."""
    layout.create()
    with (layout.run_dir / f"job-{name}.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def audit(layout: StackLayout, job: str, action: str, sender: str, outcome: str) -> str:
    """Write who asked for what to the job's log and to ``logs/job-requests.log``."""
    layout.create()
    line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {action} {job} by {sender}: {outcome}"
    append_line(layout.log_file(REQUESTS_LOG), line)
    append_line(layout.log_file(job), f"=== {line}")
    return line


# ---------------------------------------------------------------------- status


@dataclass(frozen=True)
class JobStatus:
    name: str
    state: str
    pid: int | None = None
    uptime_s: float | None = None
    #: starts after the first one
    restarts: int = 0
    exit_code: int | None = None
    detail: str = ""
    log: Path | None = None

    @property
    def label(self) -> str:
        """``running``, ``stopped``, ``exited 0``, ``failed exit 1`` ..."""
        if self.state == EXITED:
            return f"exited {self.exit_code}"
        if self.state == FAILED and self.exit_code is not None:
            return f"failed exit {self.exit_code}"
        return self.state


def status(layout: StackLayout, job: Job) -> JobStatus:
    log = layout.log_file(job.name)
    meta = _read_json(_meta_file(layout, job.name))
    restarts = max(0, int(meta.get("starts", 0)) - 1)
    found = running(apps.pidfile(layout, job.name))
    if found is not None:
        record, _proc = found
        refused = _refusal(layout, job.name)  # a job still trying, refused: shown, not silent
        return JobStatus(job.name, RUNNING, record.pid, uptime(record), restarts, None, refused, log)
    missing = job.missing()
    if missing is not None:
        return JobStatus(job.name, MISSING, restarts=restarts, detail=missing, log=log)
    if not meta:
        return JobStatus(job.name, NEVER, log=log)
    ended = _read_json(exit_file(layout, job.name))
    code = ended.get("code")
    if meta.get("stopped_by"):
        return JobStatus(
            job.name, STOPPED, restarts=restarts, exit_code=code, detail=f"by {meta['stopped_by']}", log=log
        )
    if code in STOP_SIGNAL_CODES:
        # stopped by SIGTERM/SIGINT/SIGHUP from outside the dashboard (`cta-stack down`, kill)
        return JobStatus(
            job.name, STOPPED, restarts=restarts, exit_code=code, detail=f"signal (exit {code})", log=log
        )
    if code is None:
        # the runner itself was killed (SIGKILL, machine restart): no code recorded
        return JobStatus(job.name, FAILED, restarts=restarts, detail="ended without an exit code", log=log)
    detail = _refusal(layout, job.name) if code else ""
    return JobStatus(
        job.name,
        EXITED if code == 0 else FAILED,
        restarts=restarts,
        exit_code=int(code),
        detail=detail,
        log=log,
    )


def statuses(layout: StackLayout, jobs: Sequence[Job]) -> list[JobStatus]:
    return [status(layout, j) for j in jobs]


# ---------------------------------------------------------------------- control


@dataclass(frozen=True)
class Outcome:
    job: str
    action: str
    #: something changed (a process started or stopped)
    changed: bool
    message: str
    pid: int | None = None


def job_env(layout: StackLayout, job: Job) -> dict[str, str] | None:
    """On a secured stack, this environment with ``CTA_CLIENT_CONFIG`` naming the job's
    principal's client config; None (the environment as it is) otherwise."""
    if job.principal is None or not is_secure(layout.root):
        return None
    config = secure_dir(layout.root) / "clients" / f"{job.principal}.properties"
    return {**os.environ, "CTA_CLIENT_CONFIG": str(config)}


def runner_argv(layout: StackLayout, job: Job) -> list[str]:
    return [
        sys.executable,
        "-m",
        "cta_stack.job_runner",
        "--exit-file",
        str(exit_file(layout, job.name)),
        "--refusal-file",
        str(refusal_file(layout, job.name)),
        "--log-file",
        str(layout.log_file(job.name)),
        "--",
        *job.argv,
    ]


def start(layout: StackLayout, job: Job, sender: str, *, fresh: bool = False) -> Outcome:
    """Start ``job`` unless it runs; never two processes of one job.

    ``fresh`` (a pipeline brought up anew) counts restarts from zero again, so the
    pipeline screen's restart count means restarts since the pipeline came up, not
    since the stack directory was made."""
    missing = job.missing()
    if missing is not None:
        return Outcome(job.name, "start", False, f"{job.name}: {missing}")
    with _locked(layout, job.name):
        found = running(apps.pidfile(layout, job.name))
        if found is not None:
            out = Outcome(
                job.name, "start", False, f"{job.name}: already running (pid {found[0].pid})", found[0].pid
            )
        else:
            meta = _read_json(_meta_file(layout, job.name))
            with contextlib.suppress(FileNotFoundError):
                exit_file(layout, job.name).unlink()
            with contextlib.suppress(FileNotFoundError):
                refusal_file(layout, job.name).unlink()
            env = job_env(layout, job)
            record, _ = apps.start(layout, job.name, runner_argv(layout, job), env=env, copier=False)
            starts = 1 if fresh else int(meta.get("starts", 0)) + 1
            _write_json(
                _meta_file(layout, job.name),
                {"starts": starts, "started_by": sender, "started": time.time()},
            )
            out = Outcome(job.name, "start", True, f"{job.name}: started (pid {record.pid})", record.pid)
    audit(layout, job.name, "start", sender, out.message)
    return out


def stop(layout: StackLayout, job: Job, sender: str, timeout: float = 20.0) -> Outcome:
    """Stop ``job`` (SIGTERM, SIGKILL after ``timeout``) and remember it was stopped on purpose."""
    with _locked(layout, job.name):
        stopped = apps.stop_app(layout, job.name, timeout=timeout)
        meta = _read_json(_meta_file(layout, job.name))
        if stopped and meta:
            _write_json(_meta_file(layout, job.name), {**meta, "stopped_by": sender, "stopped": time.time()})
    message = f"{job.name}: stopped" if stopped else f"{job.name}: was not running"
    out = Outcome(job.name, "stop", stopped, message)
    audit(layout, job.name, "stop", sender, message)
    return out


def restart(layout: StackLayout, job: Job, sender: str, timeout: float = 20.0) -> Outcome:
    stop(layout, job, sender, timeout)
    out = start(layout, job, sender)
    return Outcome(job.name, "restart", out.changed, out.message.replace("started", "restarted"), out.pid)


# ---------------------------------------------------------------------- bring up


@dataclass
class UpReport:
    started: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


#: ``(job, state, detail)``: progress of :func:`bring_up`
Progress = Callable[[str, str, str], None]


def bring_up(
    layout: StackLayout,
    jobs: Sequence[Job],
    sender: str,
    *,
    ksql_available: bool,
    progress: Progress | None = None,
    oneshot_timeout: float = 180.0,
    poll: float = 0.2,
) -> UpReport:
    """Start every job that is not running, in order; wait for each one-shot job to
    finish before the next (a one-shot job that already succeeded is not run again).
    """
    say = progress or (lambda _j, _s, _d: None)
    report = UpReport()
    for job in jobs:
        current = status(layout, job)
        if current.state == MISSING:
            say(job.name, "skipped", current.detail)
            report.skipped.append(job.name)
            continue
        if job.needs_ksql and not ksql_available:
            say(job.name, "skipped", "no ksqlDB server answers (Faust writes the summary)")
            report.skipped.append(job.name)
            continue
        if job.oneshot and current.state == EXITED:
            say(job.name, "done", "succeeded earlier (restart it from the dashboard to run it again)")
            report.already.append(job.name)
            continue
        out = start(layout, job, sender, fresh=True)
        if not out.changed:
            say(job.name, "running", out.message)
            report.already.append(job.name)
            continue
        if not job.oneshot:
            say(job.name, "running", f"pid {out.pid}")
            report.started.append(job.name)
            continue
        say(job.name, "starting", f"pid {out.pid}")
        deadline = time.monotonic() + oneshot_timeout
        while (st := status(layout, job)).state == RUNNING and time.monotonic() < deadline:
            time.sleep(poll)
        if st.state == EXITED:
            say(job.name, "done", "exited 0")
            report.started.append(job.name)
        else:
            refused = f"; {st.detail}" if st.detail else ""
            say(job.name, "failed", f"{st.label}{refused}; log {layout.log_file(job.name)}")
            report.failed.append(job.name)
    return report
