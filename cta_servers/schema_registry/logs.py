"""Logging for the registry and REST proxy processes (stderr; the stack redirects it to a file).

librdkafka's own log lines are routed through Python logging (the ``librdkafka``
logger) and repeats of the same line are dropped for a minute, so an absent
broker shows up as one line a minute per client instead of twenty a second.
"""

from __future__ import annotations

import logging
import re
import sys
import time

_NUMBERS = re.compile(r"\d+")


class RepeatFilter(logging.Filter):
    """Drop a message seen (digits ignored) within the last ``window`` seconds."""

    def __init__(self, window: float = 60.0) -> None:
        super().__init__()
        self.window = window
        self._seen: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = _NUMBERS.sub("#", record.getMessage())
        now = time.monotonic()
        last = self._seen.get(key)
        if last is not None and now - last < self.window:
            return False
        if len(self._seen) > 1000:
            self._seen.clear()
        self._seen[key] = now
        return True


def configure(verbose: bool) -> logging.Logger:
    """Set up stderr logging; return the logger to pass to confluent-kafka clients (``logger``)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    kafka_log = logging.getLogger("librdkafka")
    kafka_log.addFilter(RepeatFilter())
    return kafka_log
