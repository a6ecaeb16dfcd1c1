"""``python -m cta_stack.job_runner --exit-file F [--log-file L] -- PROGRAM ARGS...``:
runs one job and records how it ended.

The stack's supervisor starts processes detached and never reaps them, so it cannot
know a job's exit code. This small parent runs the job as its child, passes on the
signals that stop it (SIGTERM, SIGINT, SIGHUP), and when the child ends writes
``{"code": N, "ended": <epoch s>}`` to the exit file and a last line to the log
(its standard output), then exits with the same code (128+signal when killed).
With ``--refusal-file`` it keeps there the last line of the job's output that says it
was refused (credentials, ACLs: :mod:`cta_stack.refusals`), for the job's row.

With ``--log-file`` it also copies the job's output, and its own lines, to that file,
rotated by size (:mod:`cta_core.log_limits`), so the job needs no copier of its own.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import IO

from cta_core.log_limits import LogLimits, raw_lines_handler
from cta_stack.refusals import refusal_line

#: what the shell says for "command not found"
NOT_FOUND = 127


def write_exit(path: Path, code: int) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"code": code, "ended": time.time()}))
    tmp.replace(path)


class Output:
    """Where the runner's lines and the job's output go: standard output, or a rotated file."""

    def __init__(self, log_file: Path | None, refusal_file: Path | None = None):
        self.handler = raw_lines_handler(log_file, LogLimits.from_env()) if log_file else None
        self.refusal_file = refusal_file
        config = os.environ.get("CTA_CLIENT_CONFIG")
        #: the job's principal: its client config's name (a secured stack's clients/<principal>.properties)
        self.principal = Path(config).stem if config else None

    def check(self, text: str) -> None:
        """Keep ``text`` when it is a refusal (the last one wins)."""
        if self.refusal_file is None:
            return
        line = refusal_line(text, self.principal)
        if line is not None:
            tmp = self.refusal_file.with_suffix(".tmp")
            tmp.write_text(line + "\n")
            tmp.replace(self.refusal_file)

    def line(self, text: str) -> None:
        if self.handler is None:
            print(text, flush=True)
        else:
            self.handler.emit(logging.makeLogRecord({"msg": text + "\n", "args": None}))

    def copy(self, stream: IO[bytes] | None) -> None:
        """The job's output, line by line, until it closes (the file only)."""
        if self.handler is None or stream is None:
            return
        for raw in stream:
            text = raw.decode("utf-8", "replace")
            self.check(text)
            self.handler.emit(logging.makeLogRecord({"msg": text, "args": None}))

    def close(self) -> None:
        if self.handler is not None:
            self.handler.close()


def run(
    exit_file: Path, argv: list[str], log_file: Path | None = None, refusal_file: Path | None = None
) -> int:
    child: subprocess.Popen[bytes] | None = None
    stop_signal: int | None = None
    out = Output(log_file, refusal_file)

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stop_signal
        stop_signal = signum
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    piped = subprocess.PIPE if log_file else None
    try:
        child = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=piped, stderr=subprocess.STDOUT if piped else None
        )
    except OSError as exc:
        out.line(f"=== cannot start {argv[0]}: {exc}")
        write_exit(exit_file, NOT_FOUND)
        out.close()
        return NOT_FOUND
    if stop_signal is not None:  # asked to stop while starting
        child.send_signal(stop_signal)
    out.line(f"=== running pid {child.pid}: {' '.join(argv)}")
    out.copy(child.stdout)
    code = child.wait()
    if code < 0:  # killed by a signal: report it as a shell would
        code = 128 - code
    out.line(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} exited with code {code}")
    write_exit(exit_file, code)
    out.close()
    return code


USAGE = (
    "usage: python -m cta_stack.job_runner --exit-file FILE [--refusal-file FILE] [--log-file FILE] "
    "-- PROGRAM [ARGS...]"
)
OPTIONS = ("--exit-file", "--refusal-file", "--log-file")


def main(args: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if args is None else args)
    found: dict[str, Path] = {}
    while len(args) >= 2 and args[0] in OPTIONS and args[0] not in found:
        found[args[0]] = Path(args[1])
        args = args[2:]
    if "--exit-file" not in found or len(args) < 2 or args[0] != "--":
        print(USAGE, file=sys.stderr)
        return 2
    return run(found["--exit-file"], args[1:], found.get("--log-file"), found.get("--refusal-file"))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
