"""Starting and stopping the stack's processes, tracked by pid files.

A pid file records the pid, the process's start time and its command line, so
a pid the kernel has since given to another process is never mistaken for ours
(and never signalled). Processes run detached (their own session), so they
outlive ``cta-stack up``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import psutil

#: Tolerance when comparing a recorded start time with the kernel's (float rounding).
_START_TIME_SLACK = 1.0


@dataclass(frozen=True)
class ProcessRecord:
    service: str
    pid: int
    create_time: float
    cmdline: list[str]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ProcessRecord:
        raw = json.loads(text)
        return cls(
            service=str(raw["service"]),
            pid=int(raw["pid"]),
            create_time=float(raw["create_time"]),
            cmdline=[str(a) for a in raw["cmdline"]],
        )


def read_record(pidfile: Path) -> ProcessRecord | None:
    try:
        return ProcessRecord.from_json(pidfile.read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_record(pidfile: Path, record: ProcessRecord) -> None:
    tmp = pidfile.with_suffix(".tmp")
    tmp.write_text(record.to_json())
    tmp.replace(pidfile)


def live_process(record: ProcessRecord) -> psutil.Process | None:
    """The process of ``record`` if it still runs and is the one we started, else None."""
    try:
        proc = psutil.Process(record.pid)
        if abs(proc.create_time() - record.create_time) > _START_TIME_SLACK:
            return None
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        if proc.cmdline() != record.cmdline:
            return None
        return proc
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def running(pidfile: Path) -> tuple[ProcessRecord, psutil.Process] | None:
    record = read_record(pidfile)
    if record is None:
        return None
    proc = live_process(record)
    return (record, proc) if proc is not None else None


def spawn(
    service: str,
    argv: Sequence[str],
    *,
    pidfile: Path,
    log_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
    copier: bool = True,
) -> ProcessRecord:
    """Start ``argv`` detached, its output appended to ``log_file`` through a rotating
    copier (:mod:`cta_stack.log_writer`), or straight (``copier=False``: for a process
    that rotates its own log and prints next to nothing); write and return its record."""
    started = f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {service}\n".encode()
    if not copier:
        with log_file.open("ab") as log:
            log.write(started)
            log.flush()
            popen = _detached(argv, log, env, cwd, user)
    else:
        log_file.touch()  # there from the start, as readers expect; the copier appends to it
        writer = _log_writer(log_file, env)
        assert writer.stdin is not None
        try:
            writer.stdin.write(started)
            writer.stdin.flush()
            popen = _detached(argv, writer.stdin, env, cwd, user)
        finally:
            writer.stdin.close()  # the child holds the pipe now: the copier ends when it does
    # The child is not ours to reap: once it exits a later `cta-stack` reads its pid file.
    record = ProcessRecord(service, popen.pid, time.time(), list(argv))
    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
        proc = psutil.Process(popen.pid)
        record = ProcessRecord(service, popen.pid, proc.create_time(), _exec_cmdline(proc, list(argv)))
    write_record(pidfile, record)
    return record


def _detached(
    argv: Sequence[str], out: IO[bytes], env: Mapping[str, str] | None, cwd: Path | None, user: str | None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        env=dict(env) if env is not None else None,
        cwd=str(cwd) if cwd else None,
        start_new_session=True,
        user=user,
    )


def _log_writer(log_file: Path, env: Mapping[str, str] | None) -> subprocess.Popen[bytes]:
    """The copier that appends a child's output to ``log_file``, rotated by size; detached
    like the child, it outlives ``cta-stack`` and ends at the end of its input."""
    return subprocess.Popen(
        [sys.executable, "-m", "cta_stack.log_writer", str(log_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(env) if env is not None else None,
        start_new_session=True,
    )


def _exec_cmdline(proc: psutil.Process, argv: list[str], timeout: float = 5.0) -> list[str]:
    """The command line once the child has exec'd ``argv`` (until then it still shows
    the forked Python's), so later checks compare against what really runs."""
    deadline = time.monotonic() + timeout
    cmdline = proc.cmdline()
    while cmdline != argv and time.monotonic() < deadline and proc.is_running():
        time.sleep(0.01)
        cmdline = proc.cmdline()
    return cmdline


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return [proc]


def stop(pidfile: Path, *, sig: int = signal.SIGTERM, timeout: float = 30.0) -> bool:
    """Stop the process recorded in ``pidfile`` (``sig``, then SIGKILL after ``timeout``).

    Returns True when a process of ours was stopped. The pid file is removed in
    every case; a process that is not ours (pid reused) is left alone.
    """
    found = running(pidfile)
    stopped = False
    if found is not None:
        _, proc = found
        tree = _tree(proc)
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(sig)
        _, alive = psutil.wait_procs([proc], timeout=timeout)
        if alive:
            for p in tree:
                with contextlib.suppress(psutil.NoSuchProcess):
                    p.kill()
            psutil.wait_procs(tree, timeout=5)
        else:
            # Children left behind by a clean exit (PostgreSQL's are gone by now).
            leftovers = [p for p in tree[1:] if p.is_running()]
            for p in leftovers:
                with contextlib.suppress(psutil.NoSuchProcess):
                    p.terminate()
            psutil.wait_procs(leftovers, timeout=5)
        stopped = True
    with contextlib.suppress(FileNotFoundError):
        pidfile.unlink()
    return stopped


def resident_memory(proc: psutil.Process) -> int:
    """RSS of a process and all its children, in bytes."""
    total = 0
    for p in _tree(proc):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


def uptime(record: ProcessRecord) -> float:
    return max(0.0, time.time() - record.create_time)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
