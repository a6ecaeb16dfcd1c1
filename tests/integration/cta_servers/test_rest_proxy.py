"""The REST Proxy v2: produce in each format, consume with confluent-kafka and decode
with the own_registry; bad input answered in Confluent's shape with nothing produced."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from cta_core.schemas import schema_text
from cta_stack.service_process import ServiceProcess, rest_proxy_process

pytestmark = pytest.mark.integration

AVRO = "application/vnd.kafka.avro.v2+json"
JSON = "application/vnd.kafka.json.v2+json"
BINARY = "application/vnd.kafka.binary.v2+json"
V2 = "application/vnd.kafka.v2+json"


def consume(bootstrap: str, topic: str, count: int, timeout: float = 30.0) -> list[Any]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"t-{uuid.uuid4().hex}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    out: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                out.append(msg)
    finally:
        consumer.close()
    return out


def end_offsets(bootstrap: str, topic: str, partitions: int = 1) -> list[int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"w-{uuid.uuid4().hex}"})
    try:
        return [
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)
        ]
    finally:
        consumer.close()


def post(proxy: ServiceProcess, topic: str, content_type: str, body: Any) -> httpx.Response:
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return httpx.post(
        f"{proxy.url}/topics/{topic}",
        content=content,
        headers={"Content-Type": content_type, "Accept": V2},
        timeout=30,
    )


def test_avro_produce_then_decode_with_registry(
    own_rest_proxy: ServiceProcess,
    own_registry: ServiceProcess,
    bootstrap: str,
    topic_factory: Callable[..., str],
) -> None:
    topic = topic_factory(partitions=2)
    body = {
        "key_schema": schema_text("weather_key"),
        "value_schema": schema_text("weather_value"),
        "records": [
            {"key": {"timestamp": 1000}, "value": {"temperature": 70.5, "status": "sunny"}, "partition": 0},
            {
                "key": {"timestamp": 2000},
                "value": {"temperature": -3.0, "status": "windy", "sim_time": {"long": 5}},
                "partition": 1,
            },
        ],
    }
    response = post(own_rest_proxy, topic, AVRO, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert response.headers["content-type"].startswith(V2)
    assert isinstance(answer["key_schema_id"], int) and isinstance(answer["value_schema_id"], int)
    assert [o["error_code"] for o in answer["offsets"]] == [None, None]
    assert [(o["partition"], o["offset"]) for o in answer["offsets"]] == [(0, 0), (1, 0)]

    # second request by schema id only
    again = post(
        own_rest_proxy,
        topic,
        AVRO,
        {
            "value_schema_id": answer["value_schema_id"],
            "records": [{"value": {"temperature": 1, "status": "cloudy"}}],
        },
    )
    assert again.status_code == 200, again.text
    assert again.json()["key_schema_id"] is None

    client = SchemaRegistryClient({"url": own_registry.url})
    keys = AvroDeserializer(client)
    values = AvroDeserializer(client)
    messages = consume(bootstrap, topic, 3)
    decoded = [
        (
            keys(m.key(), SerializationContext(topic, MessageField.KEY)) if m.key() else None,
            values(m.value(), SerializationContext(topic, MessageField.VALUE)),
        )
        for m in messages
    ]
    assert len(decoded) == 3
    by_temp = {v["temperature"]: (k, v) for k, v in decoded}
    assert by_temp[70.5] == ({"timestamp": 1000}, {"temperature": 70.5, "status": "sunny", "sim_time": None})
    assert by_temp[-3.0][1]["sim_time"] is not None
    assert by_temp[1.0] == (None, {"temperature": 1.0, "status": "cloudy", "sim_time": None})
    assert client.get_latest_version(f"{topic}-value").schema_id == answer["value_schema_id"]
    assert client.get_latest_version(f"{topic}-key").schema_id == answer["key_schema_id"]


def test_json_produce(
    own_rest_proxy: ServiceProcess, bootstrap: str, topic_factory: Callable[..., str]
) -> None:
    topic = topic_factory()
    records = [{"key": "a", "value": {"n": 1, "list": [1, 2]}}, {"value": "plain"}]
    response = post(own_rest_proxy, topic, JSON, {"records": records})
    assert response.status_code == 200, response.text
    assert response.json()["value_schema_id"] is None
    assert [o["offset"] for o in response.json()["offsets"]] == [0, 1]
    messages = consume(bootstrap, topic, 2)
    assert [json.loads(m.value()) for m in messages] == [{"n": 1, "list": [1, 2]}, "plain"]
    assert [m.key() for m in messages] == [b'"a"', None]


def test_binary_produce(
    own_rest_proxy: ServiceProcess, bootstrap: str, topic_factory: Callable[..., str]
) -> None:
    topic = topic_factory()
    payload = bytes(range(256))
    body = {
        "records": [{"key": base64.b64encode(b"k1").decode(), "value": base64.b64encode(payload).decode()}]
    }
    response = post(own_rest_proxy, topic, BINARY, body)
    assert response.status_code == 200, response.text
    (message,) = consume(bootstrap, topic, 1)
    assert message.key() == b"k1" and message.value() == payload


def test_topic_metadata(own_rest_proxy: ServiceProcess, topic_factory: Callable[..., str]) -> None:
    topic = topic_factory(partitions=3)
    listed = httpx.get(f"{own_rest_proxy.url}/topics", headers={"Accept": "application/json"})
    assert listed.status_code == 200 and topic in listed.json()
    assert listed.headers["content-type"].startswith("application/json")
    detail = httpx.get(f"{own_rest_proxy.url}/topics/{topic}", headers={"Accept": V2}).json()
    assert detail["name"] == topic and [p["partition"] for p in detail["partitions"]] == [0, 1, 2]
    assert "cleanup.policy" in detail["configs"]
    missing = httpx.get(f"{own_rest_proxy.url}/topics/no-such-{uuid.uuid4().hex}")
    assert (missing.status_code, missing.json()["error_code"]) == (404, 40401)
    refused = httpx.get(f"{own_rest_proxy.url}/topics", headers={"Accept": "text/html"})
    assert (refused.status_code, refused.json()["error_code"]) == (406, 406)


WEATHER_VALUE = schema_text("weather_value")
GOOD_VALUE = {"temperature": 1.5, "status": "sunny"}

BAD_INPUT: list[tuple[str, str, Any, int, int]] = [
    ("malformed JSON", AVRO, '{"value_schema": "x", "records": [', 400, 400),
    ("wrong content type", "text/plain", {"records": [{"value": 1}]}, 415, 415),
    ("vnd.kafka.v2 without embedded format", V2, {"records": [{"value": 1}]}, 415, 415),
    (
        "invalid Avro schema",
        AVRO,
        {"value_schema": '{"type": "nope"}', "records": [{"value": 1}]},
        422,
        42205,
    ),
    (
        "record not matching its schema",
        AVRO,
        {
            "value_schema": WEATHER_VALUE,
            "records": [{"value": GOOD_VALUE}, {"value": {"temperature": "hot"}}],
        },
        422,
        42203,
    ),
    ("unknown schema id", AVRO, {"value_schema_id": 987654, "records": [{"value": GOOD_VALUE}]}, 422, 42207),
    ("value without a value schema", AVRO, {"records": [{"value": GOOD_VALUE}]}, 422, 42202),
    (
        "key without a key schema",
        AVRO,
        {"value_schema": WEATHER_VALUE, "records": [{"key": 1, "value": GOOD_VALUE}]},
        422,
        42201,
    ),
    ("empty records list", JSON, {"records": []}, 422, 422),
    ("records missing", JSON, {"value": 1}, 422, 422),
    ("bad base64", BINARY, {"records": [{"value": "aGk="}, {"value": "***"}]}, 422, 42203),
    ("partition out of range", JSON, {"records": [{"value": 1}, {"value": 2, "partition": 7}]}, 404, 40402),
    ("10 MB body", JSON, {"records": [{"value": "x" * (10 * 1024 * 1024)}]}, 413, 413),
]


@pytest.mark.parametrize(
    ("content_type", "body", "status", "code"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_rejected_and_nothing_produced(
    own_rest_proxy: ServiceProcess,
    bootstrap: str,
    topic_factory: Callable[..., str],
    content_type: str,
    body: Any,
    status: int,
    code: int,
) -> None:
    topic = topic_factory()
    # one good record first, so "nothing produced" is measured against a non-empty topic
    assert post(own_rest_proxy, topic, JSON, {"records": [{"value": 0}]}).status_code == 200
    before = end_offsets(bootstrap, topic)
    response = post(own_rest_proxy, topic, content_type, body)
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["error_code"] == code and answer["message"]
    assert end_offsets(bootstrap, topic) == before == [1]


@pytest.mark.parametrize("topic", ["bad topic", "a%2Fb", "x" * 250, "caf%C3%A9"])
def test_illegal_topic_name(own_rest_proxy: ServiceProcess, topic: str) -> None:
    response = post(own_rest_proxy, topic, JSON, {"records": [{"value": 1}]})
    assert (response.status_code, response.json()["error_code"]) == (404, 40401)


def test_unknown_topic(own_rest_proxy: ServiceProcess) -> None:
    response = post(own_rest_proxy, f"missing-{uuid.uuid4().hex}", JSON, {"records": [{"value": 1}]})
    assert (response.status_code, response.json()["error_code"]) == (404, 40401)


def test_produce_to_partition_and_partition_metadata(
    own_rest_proxy: ServiceProcess, bootstrap: str, topic_factory: Callable[..., str]
) -> None:
    topic = topic_factory(partitions=2)
    response = httpx.post(
        f"{own_rest_proxy.url}/topics/{topic}/partitions/1",
        json={"records": [{"value": {"a": 1}}, {"value": {"a": 2}}]},
        headers={"Content-Type": JSON},
    )
    assert response.status_code == 200, response.text
    assert [(o["partition"], o["offset"]) for o in response.json()["offsets"]] == [(1, 0), (1, 1)]
    assert end_offsets(bootstrap, topic, partitions=2) == [0, 2]
    listed = httpx.get(f"{own_rest_proxy.url}/topics/{topic}/partitions").json()
    assert [p["partition"] for p in listed] == [0, 1]
    one = httpx.get(f"{own_rest_proxy.url}/topics/{topic}/partitions/1").json()
    assert one["partition"] == 1 and one["replicas"][0]["in_sync"] is True
    missing = httpx.post(
        f"{own_rest_proxy.url}/topics/{topic}/partitions/5",
        json={"records": [{"value": 1}]},
        headers={"Content-Type": JSON},
    )
    assert (missing.status_code, missing.json()["error_code"]) == (404, 40402)


def test_sigterm_is_a_clean_shutdown(
    own_registry: ServiceProcess, bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    proxy = rest_proxy_process(bootstrap, own_registry.url, tmp_path / "proxy.log").start()
    try:
        topic = topic_factory()
        assert post(proxy, topic, JSON, {"records": [{"value": 1}]}).status_code == 200
    finally:
        code = proxy.stop()
    assert code == 0, (tmp_path / "proxy.log").read_text()
    assert end_offsets(bootstrap, topic) == [1]
