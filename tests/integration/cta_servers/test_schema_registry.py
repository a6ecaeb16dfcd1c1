"""The own_registry against confluent-kafka's own SchemaRegistryClient, AvroSerializer
and AvroDeserializer, and its REST API's error answers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from cta_core.schemas import schema_text
from cta_core.settings import Settings
from cta_stack.service_process import ServiceProcess, registry_process

pytestmark = pytest.mark.integration

SR_JSON = "application/vnd.schemaregistry.v1+json"


def reading(name: str, fields: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "org.test", "fields": fields})


V1 = reading("Reading", [{"name": "station", "type": "int"}, {"name": "temp", "type": "float"}])
V2 = reading(
    "Reading",
    [
        {"name": "station", "type": "int"},
        {"name": "temp", "type": "double"},  # promoted
        {"name": "status", "type": ["null", "string"], "default": None},  # added with default
    ],
)
INCOMPATIBLE = reading(
    "Reading",
    [{"name": "station", "type": "int"}, {"name": "temp", "type": "float"}, {"name": "wind", "type": "int"}],
)


def consume_all(bootstrap: str, topic: str, count: int, timeout: float = 30.0) -> list[Any]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"t-{uuid.uuid4().hex}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    out: list[Any] = []
    try:
        import time

        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                out.append(msg)
    finally:
        consumer.close()
    return out


def test_serializers_register_evolve_reject_and_read(
    own_registry: ServiceProcess, bootstrap: str, topic_factory: Callable[..., str]
) -> None:
    topic = topic_factory()
    subject = f"{topic}-value"
    client = SchemaRegistryClient({"url": own_registry.url})
    ser_v1 = AvroSerializer(client, V1)
    ser_v2 = AvroSerializer(client, V2)
    producer = Producer({"bootstrap.servers": bootstrap})
    ctx = SerializationContext(topic, MessageField.VALUE)
    producer.produce(topic, ser_v1({"station": 1, "temp": 20.5}, ctx))
    producer.produce(topic, ser_v2({"station": 2, "temp": 21.25, "status": "windy"}, ctx))
    assert producer.flush(15) == 0

    versions = client.get_versions(subject)
    assert versions == [1, 2]
    v1, v2 = client.get_version(subject, 1), client.get_latest_version(subject)
    assert v2.version == 2 and v2.schema_id != v1.schema_id
    assert client.lookup_schema(subject, Schema(V1, "AVRO")).schema_id == v1.schema_id
    # the same schema registered again keeps its id
    assert client.register_schema(subject, Schema(V2, "AVRO")) == v2.schema_id

    with pytest.raises(SchemaRegistryError) as info:
        client.register_schema(subject, Schema(INCOMPATIBLE, "AVRO"))
    assert info.value.http_status_code == 409 and info.value.error_code == 409
    assert client.test_compatibility(subject, Schema(INCOMPATIBLE, "AVRO")) is False
    assert client.test_compatibility(subject, Schema(V2, "AVRO")) is True

    # A fresh client (no caches) decodes old and new records with the writer's schema...
    reader_client = SchemaRegistryClient({"url": own_registry.url})
    deserializer = AvroDeserializer(reader_client)
    records = [deserializer(m.value(), ctx) for m in consume_all(bootstrap, topic, 2)]
    assert records == [{"station": 1, "temp": 20.5}, {"station": 2, "temp": 21.25, "status": "windy"}]
    # ...and with the new schema as reader, old records resolve (default filled, float promoted).
    evolved = AvroDeserializer(reader_client, V2)
    first = evolved(consume_all(bootstrap, topic, 1)[0].value(), ctx)
    assert first == {"station": 1, "temp": 20.5, "status": None}


def test_config_and_level_changes(own_registry: ServiceProcess) -> None:
    client = SchemaRegistryClient({"url": own_registry.url})
    subject = f"cfg-{uuid.uuid4().hex[:8]}-value"
    client.register_schema(subject, Schema(V1, "AVRO"))
    with pytest.raises(SchemaRegistryError) as info:
        client.get_compatibility(subject)
    assert info.value.error_code == 40408
    assert client.set_compatibility(subject, "NONE") == {"compatibility": "NONE"}
    assert client.get_compatibility(subject) == "NONE"
    assert client.register_schema(subject, Schema(INCOMPATIBLE, "AVRO")) > 0
    assert client.get_compatibility() == "BACKWARD"


def test_delete_soft_and_permanent(own_registry: ServiceProcess) -> None:
    client = SchemaRegistryClient({"url": own_registry.url})
    subject = f"del-{uuid.uuid4().hex[:8]}-value"
    schema_id = client.register_schema(subject, Schema(V1, "AVRO"))
    assert client.delete_subject(subject) == [1]
    assert subject not in client.get_subjects()
    assert subject in client.get_subjects(deleted=True)
    assert json.loads(client.get_schema(schema_id).schema_str or "null") == json.loads(V1)
    assert client.delete_subject(subject, permanent=True) == [1]
    assert subject not in client.get_subjects(deleted=True)


def test_project_schemas_register(own_registry: ServiceProcess) -> None:
    client = SchemaRegistryClient({"url": own_registry.url})
    for name in ("arrival_key", "arrival_value", "turnstile_value", "weather_value"):
        subject = f"proj-{uuid.uuid4().hex[:6]}-{name}"
        schema_id = client.register_schema(subject, Schema(schema_text(name), "AVRO"))
        assert client.get_schema(schema_id).schema_str
        assert client.lookup_schema(subject, Schema(schema_text(name), "AVRO")).version == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status", "code"),
    [
        ("GET", "/subjects/nope-{u}/versions", None, SR_JSON, 404, 40401),
        ("GET", "/subjects/{s}/versions/9", None, SR_JSON, 404, 40402),
        ("GET", "/schemas/ids/987654", None, SR_JSON, 404, 40403),
        ("POST", "/subjects/{s}", {"schema": '"string"'}, SR_JSON, 404, 40403),
        ("POST", "/subjects/{s}/versions", {"schema": '{"type":"nope"}'}, SR_JSON, 422, 42201),
        ("POST", "/subjects/{s}/versions", {"schema": "{not json"}, "application/json", 422, 42201),
        ("GET", "/subjects/{s}/versions/0", None, SR_JSON, 422, 42202),
        ("GET", "/subjects/{s}/versions/x", None, SR_JSON, 422, 42202),
        ("PUT", "/config/{s}", {"compatibility": "SIDEWAYS"}, SR_JSON, 422, 42203),
        ("PUT", "/mode", {"mode": "FAST"}, SR_JSON, 422, 42204),
        ("POST", "/subjects/{s}/versions", {"schema": '"int"'}, "text/plain", 415, 415),
        ("POST", "/subjects/{s}/versions", "{broken", SR_JSON, 400, 400),
        ("POST", "/subjects/{s}/versions", {"schema": INCOMPATIBLE}, SR_JSON, 409, 409),
        ("POST", "/compatibility/subjects/{s}/versions/9", {"schema": V2}, SR_JSON, 404, 40402),
        ("DELETE", "/subjects/{s}?permanent=true", None, SR_JSON, 404, 40405),
    ],
)
def test_error_answers(
    own_registry: ServiceProcess,
    method: str,
    path: str,
    body: Any,
    content_type: str,
    status: int,
    code: int,
) -> None:
    subject = f"err-{uuid.uuid4().hex[:8]}"
    httpx.post(
        f"{own_registry.url}/subjects/{subject}/versions",
        json={"schema": V1},
        headers={"Content-Type": SR_JSON},
    ).raise_for_status()
    content = None if body is None else (body if isinstance(body, str) else json.dumps(body))
    response = httpx.request(
        method,
        own_registry.url + path.format(s=subject, u=uuid.uuid4().hex),
        content=content,
        headers={"Content-Type": content_type},
    )
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code
    assert response.json()["message"]


@pytest.mark.parametrize(
    "content_type",
    ["application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json", "application/json"],
)
def test_content_types(own_registry: ServiceProcess, content_type: str) -> None:
    subject = f"ct-{uuid.uuid4().hex[:8]}"
    response = httpx.post(
        f"{own_registry.url}/subjects/{subject}/versions",
        content=json.dumps({"schema": V1}),
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 200 and isinstance(response.json()["id"], int)
    assert response.headers["content-type"].startswith("application/vnd.schemaregistry.v1+json")
    raw = httpx.get(f"{own_registry.url}/subjects/{subject}/versions/latest/schema")
    assert raw.json() == json.loads(V1)
    assert httpx.get(f"{own_registry.url}/schemas/types").json() == ["AVRO"]
    assert httpx.get(f"{own_registry.url}/").json() == {}


def test_restart_keeps_ids(bootstrap: str, tmp_path: Path) -> None:
    """Stop our own own_registry and start it again on the same store topic: same ids."""
    topic = f"_schemas_restart_{uuid.uuid4().hex[:8]}"
    schemas = {f"r{i}-value": reading(f"R{i}", [{"name": "f", "type": "int"}]) for i in range(5)}
    first = registry_process(bootstrap, topic, tmp_path / "reg.log").start()
    try:
        client = SchemaRegistryClient({"url": first.url})
        ids = {s: client.register_schema(s, Schema(t, "AVRO")) for s, t in schemas.items()}
        client.delete_subject("r4-value")  # a soft delete survives too
    finally:
        assert first.stop() == 0  # SIGTERM is a clean shutdown
    # The store uses Confluent's record layout, so either registry can read the other's topic.
    stored = consume_all(bootstrap, topic, len(schemas) + 1)
    keys = [json.loads(m.key()) for m in stored]
    assert keys[0] == {"keytype": "SCHEMA", "subject": "r0-value", "version": 1, "magic": 1}
    assert json.loads(stored[0].value())["id"] == ids["r0-value"]
    assert json.loads(stored[-1].value())["deleted"] is True  # the soft delete of r4-value
    second = registry_process(bootstrap, topic, tmp_path / "reg.log").start()
    try:
        client = SchemaRegistryClient({"url": second.url})
        for subject, text in schemas.items():
            if subject == "r4-value":
                assert subject not in client.get_subjects()
                assert subject in client.get_subjects(deleted=True)
                continue
            assert client.lookup_schema(subject, Schema(text, "AVRO")).schema_id == ids[subject]
            assert client.register_schema(subject, Schema(text, "AVRO")) == ids[subject]
        assert json.loads(client.get_schema(ids["r0-value"]).schema_str or "null") == json.loads(
            schemas["r0-value"]
        )
        new_id = client.register_schema("other-value", Schema('"string"', "AVRO"))
        assert new_id == max(ids.values()) + 1
    finally:
        second.stop()


def test_shared_stack_services_answer(stack: Settings) -> None:
    """The registry and REST proxy that `cta-stack up` runs pass their health checks."""
    assert httpx.get(f"{stack.schema_registry_url}/subjects", timeout=10).status_code == 200
    assert httpx.get(f"{stack.rest_proxy_url}/topics", timeout=10).status_code == 200


def test_compatibility_endpoint(own_registry: ServiceProcess) -> None:
    subject = f"compat-{uuid.uuid4().hex[:8]}"
    url = f"{own_registry.url}/compatibility/subjects/{subject}/versions/latest?verbose=true"
    headers = {"Content-Type": SR_JSON}
    # nothing registered yet: anything is compatible with "latest"
    assert httpx.post(url, json={"schema": V1}, headers=headers).json()["is_compatible"] is True
    httpx.post(f"{own_registry.url}/subjects/{subject}/versions", json={"schema": V1}, headers=headers)
    verdict = httpx.post(url, json={"schema": INCOMPATIBLE}, headers=headers).json()
    assert verdict["is_compatible"] is False and any("wind" in m for m in verdict["messages"])
    assert httpx.post(url, json={"schema": V2}, headers=headers).json() == {
        "is_compatible": True,
        "messages": [],
    }


def test_repeated_lookup_follows_changes(own_registry: ServiceProcess) -> None:
    """Repeated lookups are answered from a cache that a new store record invalidates."""
    subject = f"cache-{uuid.uuid4().hex[:8]}"
    headers = {"Content-Type": SR_JSON}
    url = f"{own_registry.url}/subjects/{subject}"
    httpx.post(f"{url}/versions", json={"schema": V1}, headers=headers).raise_for_status()
    for _ in range(3):
        assert httpx.post(url, json={"schema": V1}, headers=headers).json()["version"] == 1
    httpx.delete(url).raise_for_status()
    gone = httpx.post(url, json={"schema": V1}, headers=headers)
    assert (gone.status_code, gone.json()["error_code"]) == (404, 40401)
    again = httpx.post(f"{url}/versions", json={"schema": V1}, headers=headers).json()["id"]
    assert httpx.post(url, json={"schema": V1}, headers=headers).json() == {
        "subject": subject,
        "version": 2,
        "id": again,
        "schema": json.dumps(json.loads(V1), separators=(",", ":")),
    }
