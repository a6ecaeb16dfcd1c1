"""``cta-tui tail -f``: kcat's format strings (pure).

``%t`` topic, ``%p`` partition, ``%o`` offset, ``%k`` key, ``%s`` value, ``%K`` key
length, ``%S`` value length, ``%T`` timestamp (epoch ms, -1 when none), ``%h`` headers
(``k=v`` comma-separated), ``%%`` a percent sign; ``\\n``, ``\\t`` and ``\\\\`` escapes.
Keys and values are shown decoded (Avro through the registry, JSON, text, else hex).
"""

from __future__ import annotations

import re

from cta_tui.state.tail import TailRecord

_TOKEN = re.compile(r"%[tpokKsSTh%]|\\[nt\\]")
_ESCAPES = {"\\n": "\n", "\\t": "\t", "\\\\": "\\"}


def headers_text(headers: tuple[tuple[str, str], ...]) -> str:
    return ",".join(f"{k}={v}" for k, v in headers)


def format_record(fmt: str, record: TailRecord) -> str:
    """``fmt`` with every token replaced by the record's field."""
    key, value = record.key_text, record.value_text

    def field(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in _ESCAPES:
            return _ESCAPES[token]
        return {
            "%t": record.topic,
            "%p": str(record.partition),
            "%o": str(record.offset),
            "%k": "" if record.key is None else key,
            "%s": "" if record.value is None else value,
            "%K": str(-1 if record.key is None else len(key)),
            "%S": str(-1 if record.value is None else len(value)),
            "%T": str(-1 if record.timestamp_ms is None else record.timestamp_ms),
            "%h": headers_text(record.headers),
            "%%": "%",
        }[token]

    return _TOKEN.sub(field, fmt)


def default_line(record: TailRecord) -> str:
    """Without ``-f``: time, partition, offset, key and value, tab-separated."""
    return "\t".join(
        (record.time_text(), str(record.partition), str(record.offset), record.key_text, record.value_text)
    )
