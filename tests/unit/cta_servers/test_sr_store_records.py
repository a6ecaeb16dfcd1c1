"""Store record encoding (Confluent's key layout) and the log de-duplication filter."""

from __future__ import annotations

import json
import logging

from cta_servers.schema_registry.state import schema_key
from cta_servers.schema_registry.store import decode_record, encode_key, encode_value
from cta_servers.web import RepeatFilter


def test_keys_use_confluent_layout() -> None:
    key = encode_key(schema_key("w-value", 3))
    assert json.loads(key) == {"keytype": "SCHEMA", "subject": "w-value", "version": 3, "magic": 1}
    assert key.startswith(b'{"keytype":"SCHEMA"')  # field order as Confluent writes it


def test_round_trip_and_tombstone() -> None:
    value = {"subject": "w", "version": 1, "id": 7, "schema": '"int"', "deleted": False}
    assert decode_record(encode_key(schema_key("w", 1)), encode_value(value)) == (schema_key("w", 1), value)
    assert encode_value(None) is None
    assert decode_record(encode_key(schema_key("w", 1)), None) == (schema_key("w", 1), None)


def test_unreadable_records_are_skipped_not_fatal() -> None:
    assert decode_record(b"not json", b"{}") is None
    assert decode_record(b"[1]", b"{}") is None
    assert decode_record(b'{"keytype":"SCHEMA"}', b"[]") is None
    assert decode_record(None, b"{}") is None


def test_repeat_filter_drops_repeats_with_other_numbers() -> None:
    flt = RepeatFilter(window=60)

    def record(text: str) -> logging.LogRecord:
        return logging.LogRecord("librdkafka", logging.ERROR, __file__, 1, text, None, None)

    assert flt.filter(record("Connect to 127.0.0.1:9092 failed (after 3ms)"))
    assert not flt.filter(record("Connect to 127.0.0.1:9092 failed (after 41ms)"))
    assert flt.filter(record("Metadata request timed out"))
