"""How large a log may grow: every log of cta-live is rotated by size.

One limit for every service, job and dashboard log: when a file would pass
``CTA_LOG_MAX_BYTES`` (default 10 MB) it is renamed ``<file>.1`` (``.1`` to ``.2`` ...)
and at most ``CTA_LOG_BACKUPS`` (default 3) old files are kept, so one log takes at
most ``max_bytes * (backups + 1)``. Python's :class:`~logging.handlers.RotatingFileHandler`
does the rotating; the JVMs use log4j2's RollingFile with the same limits.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_BACKUPS = 3
MAX_BYTES_VAR = "CTA_LOG_MAX_BYTES"
BACKUPS_VAR = "CTA_LOG_BACKUPS"


@dataclass(frozen=True)
class LogLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    backups: int = DEFAULT_BACKUPS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LogLimits:
        """``CTA_LOG_MAX_BYTES`` and ``CTA_LOG_BACKUPS``; a missing or bad value keeps the default."""
        env = os.environ if env is None else env
        return cls(
            max_bytes=_positive(env.get(MAX_BYTES_VAR), DEFAULT_MAX_BYTES),
            backups=_positive(env.get(BACKUPS_VAR), DEFAULT_BACKUPS),
        )

    def to_env(self) -> dict[str, str]:
        return {MAX_BYTES_VAR: str(self.max_bytes), BACKUPS_VAR: str(self.backups)}


def _positive(text: str | None, default: int) -> int:
    try:
        value = int(text or "")
    except ValueError:
        return default
    return value if value > 0 else default


def rotating_handler(path: Path, limits: LogLimits | None = None) -> RotatingFileHandler:
    """A handler appending to ``path``, rotated at ``limits`` (default: from the environment)."""
    limits = limits or LogLimits.from_env()
    return RotatingFileHandler(
        path, maxBytes=limits.max_bytes, backupCount=limits.backups, encoding="utf-8", delay=False
    )


def raw_lines_handler(path: Path, limits: LogLimits | None = None) -> logging.Handler:
    """A rotating handler that writes each record's message as it is (a copied line
    carries its own newline)."""
    handler = rotating_handler(path, limits)
    handler.terminator = ""
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler


def append_line(path: Path, line: str, limits: LogLimits | None = None) -> None:
    """Append one line to a log another process may also write, rotating it at ``limits``."""
    handler = raw_lines_handler(path, limits)
    try:
        handler.emit(
            logging.makeLogRecord({"msg": line if line.endswith("\n") else line + "\n", "args": None})
        )
    finally:
        handler.close()
