"""``python -m cta_stack.job_runner --exit-file F -- PROGRAM ARGS...``: runs one job
and records how it ended.

The stack's supervisor starts processes detached and never reaps them, so it cannot
know a job's exit code. This small parent runs the job as its child, passes on the
signals that stop it (SIGTERM, SIGINT, SIGHUP), and when the child ends writes
``{"code": N, "ended": <epoch s>}`` to the exit file and a last line to the log
(its standard output), then exits with the same code (128+signal when killed).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

#: what the shell says for "command not found"
NOT_FOUND = 127


def write_exit(path: Path, code: int) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"code": code, "ended": time.time()}))
    tmp.replace(path)


def run(exit_file: Path, argv: list[str]) -> int:
    child: subprocess.Popen[bytes] | None = None
    stop_signal: int | None = None

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stop_signal
        stop_signal = signum
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    try:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    except OSError as exc:
        print(f"=== cannot start {argv[0]}: {exc}", flush=True)
        write_exit(exit_file, NOT_FOUND)
        return NOT_FOUND
    if stop_signal is not None:  # asked to stop while starting
        child.send_signal(stop_signal)
    print(f"=== running pid {child.pid}: {' '.join(argv)}", flush=True)
    code = child.wait()
    if code < 0:  # killed by a signal: report it as a shell would
        code = 128 - code
    print(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} exited with code {code}", flush=True)
    write_exit(exit_file, code)
    return code


def main(args: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if args is None else args)
    if len(args) < 4 or args[0] != "--exit-file" or args[2] != "--":
        print("usage: python -m cta_stack.job_runner --exit-file FILE -- PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    return run(Path(args[1]), args[3:])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
