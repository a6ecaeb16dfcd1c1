"""Where the dashboard's logs go: a file, never the terminal the dashboard draws on.

librdkafka writes its log lines (``%3|...|FAIL|...``) to stderr unless the client is
given a Python ``logger``: confluent-kafka then turns on ``log.queue`` and hands each
line to that logger from the client's own poll/consume calls. :func:`kafka_logger` is
that logger; :func:`log_to_file` gives the whole process (librdkafka, httpx, asyncio,
warnings ...) one file handler, so Python's "last resort" handler, which prints to
stderr, never runs. What matters to the user (Kafka down, reachable again) is shown by
the dashboard itself (the status bar and notifications).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from platformdirs import user_state_path

from cta_core.log_limits import rotating_handler

#: the same logger as every command's (cta_core.cli_base.LIBRDKAFKA_LOGGER)
KAFKA_LOGGER = "cta.librdkafka"
LOG_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


def default_log_file() -> Path:
    """``cta-tui.log`` in the user's state directory's ``cta-live`` (platformdirs:
    ``$XDG_STATE_HOME``, else ``~/.local/state`` on Linux)."""
    return user_state_path("cta-live", appauthor=False) / "cta-tui.log"


def level_for(verbose: int) -> int:
    """Quiet by default (warnings and errors); ``-v`` info, ``-vv`` debug."""
    return logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG


def kafka_logger() -> logging.Logger:
    """The logger every confluent-kafka client of the dashboard gets (``logger=`` config)."""
    return logging.getLogger(KAFKA_LOGGER)


def log_to_file(path: Path | None, verbose: int = 0) -> Path | None:
    """Send every log record of this process to ``path`` (appending; several dashboards
    may share one file) and none to the terminal. Returns the file, or None when it
    cannot be opened (logs are then dropped rather than drawn over the dashboard)."""
    root = logging.getLogger()
    terminals = {id(s) for s in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__) if s is not None}
    for old in list(root.handlers):  # a handler writing to the terminal would draw over the dashboard
        if isinstance(old, logging.StreamHandler) and id(getattr(old, "stream", None)) in terminals:
            root.removeHandler(old)
    root.setLevel(level_for(verbose))
    kafka_logger().setLevel(logging.NOTSET)  # a command's stderr logging silences it: not here
    logging.getLogger("py.warnings").setLevel(logging.NOTSET)
    logging.captureWarnings(True)
    handler: logging.Handler = logging.NullHandler()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = rotating_handler(path)  # bounded: CTA_LOG_MAX_BYTES, CTA_LOG_BACKUPS
        except OSError:
            path = None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    return path
