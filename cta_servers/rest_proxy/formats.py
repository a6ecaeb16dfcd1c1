"""Parsing and validating REST Proxy v2 produce requests, without any IO.

Error codes are Confluent's (kafka-rest ``Errors``): 40401 topic not found,
40402 partition not found, 42201 key schema missing, 42202 value schema
missing, 42203 JSON to Avro conversion failed (a record not matching its
schema), 42205 invalid schema, 42207 schema id not found, plus the HTTP status
as error code for protocol errors (400 malformed JSON, 406, 413, 415, 422).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cta_core import wire
from cta_servers.errors import ConfluentError
from cta_servers.schema_registry.canonical import NAMED, PRIMITIVES, named_types, normalize

TOPIC_NOT_FOUND = 40401
PARTITION_NOT_FOUND = 40402
KEY_SCHEMA_MISSING = 42201
VALUE_SCHEMA_MISSING = 42202
JSON_AVRO_CONVERSION = 42203
INVALID_SCHEMA = 42205
SCHEMA_FETCH_FAILED = 42207
KAFKA_ERROR = 50002
KAFKA_RETRIABLE_ERROR = 50003

EMBEDDED_FORMATS = {
    "application/vnd.kafka.avro.v2+json": "avro",
    "application/vnd.kafka.json.v2+json": "json",
    "application/vnd.kafka.binary.v2+json": "binary",
}
#: what GET responses may be served as, first is the default.
METADATA_TYPES = ("application/vnd.kafka.v2+json", "application/vnd.kafka+json", "application/json")

LEGAL_TOPIC = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
INT_RANGE = (-(2**31), 2**31 - 1)
LONG_RANGE = (-(2**63), 2**63 - 1)


class ProxyError(ConfluentError):
    """An answer of the REST proxy in Confluent's error shape."""


def embedded_format(content_type: str) -> str:
    """avro | json | binary for a produce request's Content-Type, else 415."""
    fmt = EMBEDDED_FORMATS.get(content_type.split(";")[0].strip().lower())
    if fmt is None:
        raise ProxyError(
            415,
            415,
            f"HTTP 415 Unsupported Media Type: {content_type or '(none)'}; use one of "
            + ", ".join(EMBEDDED_FORMATS),
        )
    return fmt


def negotiate(accept: str) -> str:
    """The response content type for an ``Accept`` header, else 406."""
    if not accept:
        return METADATA_TYPES[0]
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in METADATA_TYPES:
            return media
        # any v2 Kafka type, e.g. a client sending its Content-Type as Accept
        if media in ("*/*", "application/*") or (
            media.startswith("application/vnd.kafka.") and media.endswith(".v2+json")
        ):
            return METADATA_TYPES[0]
    raise ProxyError(406, 406, f"HTTP 406 Not Acceptable: {accept}; use {', '.join(METADATA_TYPES)}")


def check_topic_name(topic: str) -> None:
    if not LEGAL_TOPIC.match(topic) or topic in (".", ".."):
        raise ProxyError(
            404,
            TOPIC_NOT_FOUND,
            f"Topic not found: {topic!r} is not a legal topic name "
            "(1-249 characters from a-z A-Z 0-9 . _ -).",
        )


@dataclass(frozen=True)
class ProduceRecord:
    key: Any
    value: Any
    partition: int | None


@dataclass(frozen=True)
class ProduceRequest:
    records: list[ProduceRecord]
    key_schema: str | None = None
    value_schema: str | None = None
    key_schema_id: int | None = None
    value_schema_id: int | None = None

    @property
    def has_keys(self) -> bool:
        return any(r.key is not None for r in self.records)

    @property
    def has_values(self) -> bool:
        return any(r.value is not None for r in self.records)


def _optional_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProxyError(422, 422, f"{name} must be an integer")
    return value


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProxyError(422, 422, f"{name} must be a string holding a schema")
    return value


def parse_produce_request(raw: bytes, fmt: str) -> ProduceRequest:
    """Decode and check the shape of a produce request body."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProxyError(400, 400, f"Malformed JSON in request body: {exc}") from None
    except RecursionError:  # e.g. 100,000 nested brackets: a bad request, not a server error
        raise ProxyError(400, 400, "Request body nested too deeply") from None
    if not isinstance(body, dict):
        raise ProxyError(422, 422, "Request body must be a JSON object with a 'records' list")
    records = body.get("records")
    if not isinstance(records, list):
        raise ProxyError(422, 422, "records must be a list")
    if not records:
        raise ProxyError(422, 422, "records may not be empty")
    parsed = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise ProxyError(422, 422, f"records[{index}] must be an object")
        partition = record.get("partition")
        if partition is not None and (
            isinstance(partition, bool) or not isinstance(partition, int) or partition < 0
        ):
            raise ProxyError(422, 422, f"records[{index}].partition must be a non-negative integer")
        parsed.append(ProduceRecord(record.get("key"), record.get("value"), partition))
    request = ProduceRequest(parsed)
    if fmt == "avro":
        request = ProduceRequest(
            parsed,
            key_schema=_optional_str(body, "key_schema"),
            value_schema=_optional_str(body, "value_schema"),
            key_schema_id=_optional_int(body, "key_schema_id"),
            value_schema_id=_optional_int(body, "value_schema_id"),
        )
        if request.has_keys and request.key_schema is None and request.key_schema_id is None:
            raise ProxyError(422, KEY_SCHEMA_MISSING, "Request includes keys but does not include key schema")
        if request.has_values and request.value_schema is None and request.value_schema_id is None:
            raise ProxyError(
                422, VALUE_SCHEMA_MISSING, "Request includes values but does not include value schema"
            )
    return request


def encode_json(datum: Any) -> bytes | None:
    return None if datum is None else json.dumps(datum, separators=(",", ":")).encode()


def encode_binary(datum: Any, where: str) -> bytes | None:
    if datum is None:
        return None
    if not isinstance(datum, str):
        raise ProxyError(422, JSON_AVRO_CONVERSION, f"{where}: binary data must be a base64 string")
    try:
        return base64.b64decode(datum, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProxyError(422, JSON_AVRO_CONVERSION, f"{where}: invalid base64 ({exc})") from None


def frame(schema_id: int, payload: bytes) -> bytes:
    """Confluent's wire format: magic byte 0, 4-byte big-endian schema id, Avro body."""
    return wire.frame(schema_id, payload)


class AvroJsonConverter:
    """Turns a value in Avro's JSON encoding (unions as ``{"type": value}``,
    bytes as code points 0-255) into the datum fastavro writes; raises
    ``ValueError`` naming the path of the first mismatch.

    Not fastavro's ``json_reader``: it does not check values against the schema (a
    float or 2**64 for a long, a 40-bit number for an int pass through to the writer),
    and a mistyped union or record fails with an AttributeError or TypeError that names
    no field; tests/unit/cta_stack/test_rest_formats.py holds both to this behaviour."""

    def __init__(self, schema: Any) -> None:
        self.schema = normalize(schema)
        self.names = named_types(self.schema)

    def convert(self, value: Any) -> Any:
        return self._convert(self.schema, value, "$")

    def _deref(self, schema: Any) -> Any:
        if isinstance(schema, str) and schema not in PRIMITIVES:
            return self.names[schema]
        return schema

    def _convert(self, schema: Any, value: Any, path: str) -> Any:
        schema = self._deref(schema)
        if isinstance(schema, list):
            return self._union(schema, value, path)
        kind = schema if isinstance(schema, str) else schema["type"]
        convert = _CONVERTERS.get(kind)
        if convert is None:
            raise ValueError(f"{path}: unsupported schema {schema!r}")
        return convert(self, schema, kind, value, path)

    def _null(self, schema: Any, kind: str, value: Any, path: str) -> None:
        if value is not None:
            raise ValueError(f"{path}: expected null, got {value!r}")

    def _boolean(self, schema: Any, kind: str, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"{path}: expected boolean, got {value!r}")
        return value

    def _integer(self, schema: Any, kind: str, value: Any, path: str) -> int:
        low, high = INT_RANGE if kind == "int" else LONG_RANGE
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{path}: expected {kind}, got {value!r}")
        return value

    def _number(self, schema: Any, kind: str, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{path}: expected {kind}, got {value!r}")
        return float(value)

    def _string(self, schema: Any, kind: str, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise ValueError(f"{path}: expected string, got {value!r}")
        return value

    def _bytes(self, schema: Any, kind: str, value: Any, path: str) -> bytes:
        """bytes and fixed: a string of code points 0-255 (Avro's JSON encoding)."""
        if not isinstance(value, str):
            raise ValueError(f"{path}: expected {kind} as a string, got {value!r}")
        try:
            data = value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(f"{path}: {kind} characters must be code points 0-255") from None
        if kind == "fixed" and len(data) != schema["size"]:
            raise ValueError(f"{path}: fixed {schema['name']} needs {schema['size']} bytes, got {len(data)}")
        return data

    def _enum(self, schema: Any, kind: str, value: Any, path: str) -> Any:
        if value not in schema["symbols"]:
            raise ValueError(f"{path}: {value!r} is not a symbol of enum {schema['name']}")
        return value

    def _array(self, schema: Any, kind: str, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise ValueError(f"{path}: expected array, got {value!r}")
        return [self._convert(schema["items"], item, f"{path}[{i}]") for i, item in enumerate(value)]

    def _map(self, schema: Any, kind: str, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueError(f"{path}: expected map, got {value!r}")
        return {k: self._convert(schema["values"], v, f"{path}.{k}") for k, v in value.items()}

    def _record(self, schema: Any, kind: str, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueError(f"{path}: expected record {schema['name']}, got {value!r}")
        out = {}
        for field in schema["fields"]:
            name = field["name"]
            if name in value:
                out[name] = self._convert(field["type"], value[name], f"{path}.{name}")
            elif "default" in field:
                out[name] = self._default(field["type"], field["default"], f"{path}.{name}")
            else:
                raise ValueError(f"{path}: missing field {name!r} (it has no default)")
        return out

    def _default(self, schema: Any, default: Any, path: str) -> Any:
        """Defaults use the first branch of a union, unwrapped (Avro spec)."""
        schema = self._deref(schema)
        if isinstance(schema, list):
            first = self._deref(schema[0])
            return (self._branch_name(first), self._convert(first, default, path))
        return self._convert(schema, default, path)

    def _branch_name(self, branch: Any) -> str:
        if isinstance(branch, str):
            return branch
        return str(branch["name"]) if branch["type"] in NAMED else str(branch["type"])

    def _union(self, schema: list[Any], value: Any, path: str) -> Any:
        if value is None:
            if "null" not in schema:
                raise ValueError(f"{path}: null is not allowed by union {self._names(schema)}")
            return None
        if not isinstance(value, dict) or len(value) != 1:
            raise ValueError(
                f"{path}: a union value must be null or an object naming its branch, "
                f'e.g. {{"{self._names(schema)[-1]}": ...}}; got {value!r}'
            )
        ((name, inner),) = value.items()
        for branch in schema:
            resolved = self._deref(branch)
            full = self._branch_name(resolved)
            if name in (full, full.rpartition(".")[2]):
                return (full, self._convert(resolved, inner, f"{path}<{name}>"))
        raise ValueError(f"{path}: {name!r} is not a branch of union {self._names(schema)}")

    def _names(self, schema: list[Any]) -> list[str]:
        return [self._branch_name(self._deref(b)) for b in schema]


_Converter = Callable[[AvroJsonConverter, Any, str, Any, str], Any]
#: schema type -> the method checking and converting a value of it
_CONVERTERS: dict[str, _Converter] = {
    "null": AvroJsonConverter._null,
    "boolean": AvroJsonConverter._boolean,
    "int": AvroJsonConverter._integer,
    "long": AvroJsonConverter._integer,
    "float": AvroJsonConverter._number,
    "double": AvroJsonConverter._number,
    "string": AvroJsonConverter._string,
    "bytes": AvroJsonConverter._bytes,
    "fixed": AvroJsonConverter._bytes,
    "enum": AvroJsonConverter._enum,
    "array": AvroJsonConverter._array,
    "map": AvroJsonConverter._map,
    "record": AvroJsonConverter._record,
    "error": AvroJsonConverter._record,
}
