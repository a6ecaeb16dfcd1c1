"""``python -m cta_stack.log_writer FILE``: copies its standard input to FILE, rotated by size.

The supervisor pipes every service's and job's standard output and error through one
of these (:func:`cta_stack.supervisor.spawn`), so no log grows without bound: the
limits are :class:`cta_core.log_limits.LogLimits` (``CTA_LOG_MAX_BYTES``,
``CTA_LOG_BACKUPS``). It ends when the last process writing to the pipe has ended.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Iterable
from pathlib import Path

from cta_core.log_limits import LogLimits, raw_lines_handler


def copy_lines(lines: Iterable[bytes], path: Path, limits: LogLimits) -> int:
    """Write ``lines`` to ``path`` with rotation; the number of lines written."""
    handler = raw_lines_handler(path, limits)
    count = 0
    try:
        for line in lines:
            handler.emit(logging.makeLogRecord({"msg": line.decode("utf-8", "replace"), "args": None}))
            count += 1
    finally:
        handler.close()
    return count


def main(args: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if args is None else args)
    if len(args) != 1:
        print("usage: python -m cta_stack.log_writer FILE  (copies stdin to FILE, rotated)", file=sys.stderr)
        return 2
    # stopping a service signals its process tree, not this copier: it ends at end of input
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    copy_lines(sys.stdin.buffer, Path(args[0]), LogLimits.from_env())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
