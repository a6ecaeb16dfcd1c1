"""Decode Confluent wire-format Avro (magic 0, 4-byte schema id, payload) with fastavro.

Writer schemas are fetched from the Schema Registry by id once and cached.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import fastavro

from cta_core import wire


class NotAvro(ValueError):
    """The bytes are not a decodable Confluent Avro message (counted and skipped)."""


class RegistryUnavailable(RuntimeError):
    """The registry did not answer; the message must be retried, not skipped."""


SchemaLookup = Callable[[int], str]


def split(data: bytes | None) -> tuple[int, bytes]:
    try:
        return wire.split(data)
    except wire.NotFramed as exc:
        raise NotAvro(str(exc)) from None


class AvroDecoder:
    """Decode values; ``lookup(schema_id)`` returns the schema text or raises.

    ``lookup`` raising :class:`KeyError` means the id is unknown (message skipped);
    anything else is treated as the registry being unavailable.
    """

    def __init__(self, lookup: SchemaLookup):
        self._lookup = lookup
        self._schemas: dict[int, Any] = {}

    def schema(self, schema_id: int) -> Any:
        parsed = self._schemas.get(schema_id)
        if parsed is None:
            try:
                text = self._lookup(schema_id)
            except KeyError:
                raise NotAvro(f"schema id {schema_id} is not in the registry") from None
            except Exception as exc:
                raise RegistryUnavailable(str(exc)) from exc
            parsed = fastavro.parse_schema(json.loads(text))
            self._schemas[schema_id] = parsed
        return parsed

    def decode(self, data: bytes | None) -> Any:
        schema_id, payload = split(data)
        schema = self.schema(schema_id)
        buf = io.BytesIO(payload)
        try:
            value = fastavro.schemaless_reader(buf, schema, None)
        except Exception as exc:  # fastavro raises many types on garbage
            raise NotAvro(f"payload does not match schema {schema_id}: {type(exc).__name__}") from None
        if buf.tell() != len(payload):
            raise NotAvro(f"{len(payload) - buf.tell()} trailing bytes after the schema {schema_id} record")
        return value


def station_id_of(value: Any) -> int:
    """The ``station_id`` of a decoded turnstile value."""
    sid = value.get("station_id") if isinstance(value, dict) else None
    if isinstance(sid, bool) or not isinstance(sid, int):
        raise NotAvro(f"record has no int station_id: {sid!r}")
    return sid


def registry_lookup(settings: Any) -> SchemaLookup:
    """A lookup backed by confluent-kafka's SchemaRegistryClient."""
    from confluent_kafka.schema_registry.error import SchemaRegistryError

    from cta_core.kafka_clients import make_registry_client

    client = make_registry_client(settings)

    def lookup(schema_id: int) -> str:
        try:
            return str(client.get_schema(schema_id).schema_str)
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:
                raise KeyError(schema_id) from None
            raise

    return lookup
