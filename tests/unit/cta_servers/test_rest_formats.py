"""REST Proxy v2 request parsing, Avro JSON conversion and wire framing."""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import fastavro
import pytest

from cta_core.schemas import schema_dict
from cta_servers.rest_proxy import formats
from cta_servers.rest_proxy.formats import AvroJsonConverter, ProxyError, parse_produce_request


@pytest.mark.parametrize(
    ("content_type", "fmt"),
    [
        ("application/vnd.kafka.avro.v2+json", "avro"),
        ("application/vnd.kafka.json.v2+json; charset=utf-8", "json"),
        ("application/vnd.kafka.binary.v2+json", "binary"),
    ],
)
def test_embedded_format(content_type: str, fmt: str) -> None:
    assert formats.embedded_format(content_type) == fmt


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "", "application/vnd.kafka.v2+json"]
)
def test_embedded_format_rejects(content_type: str) -> None:
    with pytest.raises(ProxyError) as info:
        formats.embedded_format(content_type)
    assert (info.value.status, info.value.error_code) == (415, 415)


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("", "application/vnd.kafka.v2+json"),
        ("application/json", "application/json"),
        ("text/html, application/vnd.kafka+json", "application/vnd.kafka+json"),
        ("*/*", "application/vnd.kafka.v2+json"),
        ("application/vnd.kafka.avro.v2+json", "application/vnd.kafka.v2+json"),
    ],
)
def test_negotiate(accept: str, chosen: str) -> None:
    assert formats.negotiate(accept) == chosen


def test_negotiate_406() -> None:
    with pytest.raises(ProxyError) as info:
        formats.negotiate("text/html")
    assert info.value.status == 406


@pytest.mark.parametrize("topic", ["a b", "x/y", "é", "a" * 250, ".", ".."])
def test_illegal_topic_names(topic: str) -> None:
    with pytest.raises(ProxyError) as info:
        formats.check_topic_name(topic)
    assert info.value.error_code == formats.TOPIC_NOT_FOUND


def test_legal_topic_name() -> None:
    formats.check_topic_name("org.chicago.cta.weather.v1")


@pytest.mark.parametrize(
    ("body", "fmt", "status", "code"),
    [
        (b"{not json", "json", 400, 400),
        (b"[1]", "json", 422, 422),
        (b'{"records": []}', "json", 422, 422),
        (b'{"records": {}}', "json", 422, 422),
        (b'{"records": [1]}', "json", 422, 422),
        (b'{"records": [{"value": 1, "partition": -1}]}', "json", 422, 422),
        (b'{"records": [{"key": 1, "value": 1}], "value_schema_id": 1}', "avro", 422, 42201),
        (b'{"records": [{"value": 1}]}', "avro", 422, 42202),
        (b'{"records": [{"value": 1}], "value_schema_id": "1"}', "avro", 422, 422),
    ],
)
def test_bad_requests(body: bytes, fmt: str, status: int, code: int) -> None:
    with pytest.raises(ProxyError) as info:
        parse_produce_request(body, fmt)
    assert (info.value.status, info.value.error_code) == (status, code)


def test_good_request() -> None:
    body = {
        "value_schema_id": 3,
        "records": [{"value": {"a": 1}}, {"key": None, "value": None, "partition": 0}],
    }
    parsed = parse_produce_request(json.dumps(body).encode(), "avro")
    assert parsed.value_schema_id == 3 and parsed.has_values and not parsed.has_keys
    assert [r.partition for r in parsed.records] == [None, 0]


def test_binary_and_json_encoding() -> None:
    assert formats.encode_binary("aGVsbG8=", "k") == b"hello"
    assert formats.encode_binary(None, "k") is None
    assert formats.encode_json({"a": [1, 2]}) == b'{"a":[1,2]}'
    with pytest.raises(ProxyError) as info:
        formats.encode_binary("not base64!", "records[0].value")
    assert "records[0].value" in info.value.message


def test_frame() -> None:
    framed = formats.frame(258, b"xyz")
    assert framed[0] == 0 and struct.unpack(">I", framed[1:5])[0] == 258 and framed[5:] == b"xyz"


def roundtrip(schema: Any, value: Any) -> Any:
    datum = AvroJsonConverter(schema).convert(value)
    parsed = fastavro.parse_schema(schema)
    out = io.BytesIO()
    fastavro.schemaless_writer(out, parsed, datum)
    out.seek(0)
    return fastavro.schemaless_reader(out, parsed)


def test_weather_value_roundtrip() -> None:
    value = {"temperature": 71.5, "status": "sunny"}
    assert roundtrip(schema_dict("weather_value"), value) == {**value, "sim_time": None}


UNION = {
    "type": "record",
    "name": "U",
    "fields": [
        {"name": "opt", "type": ["null", "int"], "default": None},
        {"name": "b", "type": "bytes", "default": ""},
        {"name": "tags", "type": {"type": "map", "values": "long"}, "default": {}},
    ],
}


def test_union_tagged_and_defaults() -> None:
    assert roundtrip(UNION, {"opt": {"int": 4}}) == {"opt": 4, "b": b"", "tags": {}}
    assert roundtrip(UNION, {"opt": None, "b": "\u00ff\u0001", "tags": {"x": 1}}) == {
        "opt": None,
        "b": b"\xff\x01",
        "tags": {"x": 1},
    }


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"opt": 4}, "union value"),
        ({"opt": {"string": "x"}}, "not a branch"),
        ({"b": "\u0100"}, "code points"),
        ({"tags": {"x": 1.5}}, "expected long"),
        ({"tags": {"x": 2**64}}, "expected long"),
        ({"opt": {"int": 2**40}}, "expected int"),  # fastavro.json_reader lets these three through
        ("nope", "expected record"),
    ],
)
def test_conversion_errors(value: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        AvroJsonConverter(UNION).convert(value)


def test_deeply_nested_json_is_a_400_not_a_server_error() -> None:
    from cta_servers.schema_registry.app import RegistryError, parse_json

    with pytest.raises(ProxyError) as proxy:
        parse_produce_request(b"[" * 100_000, "json")
    assert (proxy.value.status, proxy.value.error_code) == (400, 400)
    with pytest.raises(RegistryError) as registry:
        parse_json(b"[" * 100_000)
    assert (registry.value.status, registry.value.error_code) == (400, 400)
