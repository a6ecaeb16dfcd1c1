"""``python -m cta_stack.job_runner --exit-file F [--log-file L] -- PROGRAM ARGS...``:
runs one job and records how it ended.

The stack's supervisor starts processes detached and never reaps them, so it cannot
know a job's exit code. This small parent runs the job as its child, passes on the
signals that stop it (SIGTERM, SIGINT, SIGHUP), and when the child ends writes
``{"code": N, "ended": <epoch s>}`` to the exit file and a last line to the log
(its standard output), then exits with the same code (128+signal when killed).

With ``--log-file`` it also copies the job's output, and its own lines, to that file,
rotated by size (:mod:`cta_core.log_limits`), so the job needs no copier of its own.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import IO

from cta_core.log_limits import LogLimits, raw_lines_handler

#: what the shell says for "command not found"
NOT_FOUND = 127


def write_exit(path: Path, code: int) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"code": code, "ended": time.time()}))
    tmp.replace(path)


class Output:
    """Where the runner's lines and the job's output go: standard output, or a rotated file."""

    def __init__(self, log_file: Path | None):
        self.handler = raw_lines_handler(log_file, LogLimits.from_env()) if log_file else None

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
            self.handler.emit(logging.makeLogRecord({"msg": raw.decode("utf-8", "replace"), "args": None}))

    def close(self) -> None:
        if self.handler is not None:
            self.handler.close()


def run(exit_file: Path, argv: list[str], log_file: Path | None = None) -> int:
    child: subprocess.Popen[bytes] | None = None
    stop_signal: int | None = None
    out = Output(log_file)

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


USAGE = "usage: python -m cta_stack.job_runner --exit-file FILE [--log-file FILE] -- PROGRAM [ARGS...]"


def main(args: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if args is None else args)
    log_file = None
    if len(args) >= 4 and args[2] == "--log-file":
        log_file = Path(args[3])
        args = args[:2] + args[4:]
    if len(args) < 4 or args[0] != "--exit-file" or args[2] != "--":
        print(USAGE, file=sys.stderr)
        return 2
    return run(Path(args[1]), args[3:], log_file)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
