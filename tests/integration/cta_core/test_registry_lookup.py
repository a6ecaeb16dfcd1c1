"""cta_core.avro.RegistryLookup against the real local Schema Registry: a registered
schema comes back by id, an unknown id is a KeyError (skipped), and a registry that
does not answer is RegistryUnavailable (retried)."""

from __future__ import annotations

import json
import uuid

import pytest
from confluent_kafka.schema_registry import Schema

from cta_core import schemas, wire
from cta_core.avro import AvroDecoder, RegistryLookup, RegistryUnavailable
from cta_core.kafka_clients import make_registry_client
from cta_core.settings import Settings

pytestmark = pytest.mark.integration


def test_lookup_by_id_and_unknown_ids(stack: Settings) -> None:
    subject = f"cta-test-lookup-{uuid.uuid4().hex[:8]}-value"
    text = schemas.schema_text(schemas.TURNSTILE_VALUE)
    schema_id = make_registry_client(stack).register_schema(subject, Schema(text, "AVRO"))
    lookup = RegistryLookup(stack)
    try:
        assert json.loads(lookup(schema_id)) == json.loads(text)
        with pytest.raises(KeyError):
            lookup(987_654_321)
    finally:
        lookup.close()


def test_unreachable_registry_is_unavailable_not_malformed(stack: Settings) -> None:
    lookup = RegistryLookup(stack.with_overrides(schema_registry_url="http://127.0.0.1:1"), timeout=1.0)
    try:
        with pytest.raises(RegistryUnavailable, match="schema id 5"):
            AvroDecoder(lookup).decode(wire.frame(5, b"\x00"))
    finally:
        lookup.close()
