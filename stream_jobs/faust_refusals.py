"""The Faust worker's refusals: aiokafka's authorization and authentication errors,
however Faust or aiokafka reports them (an exception in a log record, or its class name
in the text), become the one-line refusal (:mod:`cta_core.refusals`); the worker logs it
once and stops instead of retrying, and ``cta-jobs faust`` exits 1 with that line (the
pipeline screen shows the job failed, with its log's last line)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from cta_core import refusals
from cta_core.settings import Settings

log = logging.getLogger("stream_jobs.faust")

_NAMES = re.compile("|".join(sorted(refusals.AIOKAFKA_ERRORS, key=len, reverse=True)))
_TOPICS = re.compile(r"(?:\{'|\('|: )([\w.\-]+)")
#: words of a failed send (else the worker was reading)
_SENDING = ("_on_published", "send", "produce")


def refusal_line(text: str, settings: Settings, group: str | None = None) -> str | None:
    """The one-line refusal an aiokafka error's text means (class name, e.g.
    ``TopicAuthorizationFailedError: {'TURNSTILE_SUMMARY'}``; ``group``: the worker's
    consumer group); None for other text."""
    found = _NAMES.search(text)
    if found is None:
        return None
    code = refusals.AIOKAFKA_ERRORS[found.group(0)]
    principal = settings.kafka_principal()
    if code in refusals.AUTHENTICATION_ERRORS:
        return refusals.authentication_message(settings.bootstrap_servers, principal, settings.sasl_mechanism)
    kind = refusals.AUTHORIZATION_ERRORS[code]
    operation = "WRITE" if any(word in text for word in _SENDING) else "READ"
    topic = _TOPICS.search(text[found.end() :])
    name = group if kind == "group" else (topic.group(1) if topic else None)
    return refusals.authorization_message(principal, operation, kind, name, code)


class RefusalGuard(logging.Handler):
    """A handler on the root logger: the first refusal seen is logged in one line and
    ``on_refused`` called (the worker stops)."""

    def __init__(
        self, settings: Settings, on_refused: Callable[[str], None], group: str | None = None
    ) -> None:
        super().__init__(logging.WARNING)
        self.settings = settings
        self.group = group
        self.on_refused = on_refused
        self.line: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.line is not None or record.name == log.name:
            return
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text += f" {type(exc).__name__}: {exc}"
        line = refusal_line(text, self.settings, group=self.group)
        if line is None:
            return
        self.line = line
        log.error("%s", line)
        self.on_refused(line)
