"""Reading Confluent wire-format Avro (magic 0, 4-byte schema id, body) with fastavro:
the one decode path of the Faust jobs and the dashboard, and the one writer-schema
lookup by id (``GET /schemas/ids/{id}``).

Decoding is pure: the schema lookup is injected (:data:`SchemaLookup`), and
:class:`RegistryLookup` is the HTTP one. Writer schemas are fetched once per id and
cached. Logical types are dropped, so timestamps stay epoch-millisecond ints (what the
consumers want) and decoding skips fastavro's datetime conversion.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import fastavro

from cta_core import wire

if TYPE_CHECKING:
    from cta_core.settings import Settings

#: Looks up a writer schema (the registry's JSON text) by its id. Raises
#: :class:`KeyError` when the id is unknown; anything else means the registry did
#: not answer.
SchemaLookup = Callable[[int], str]

#: Marks an item of :meth:`AvroDecoder.decode_many` that could not be decoded.
MALFORMED: Any = object()


class DecodeError(ValueError):
    """The bytes are not a record the topic carries (counted and skipped)."""


class NotAvro(DecodeError):
    """The bytes are not a decodable Confluent Avro message (counted and skipped)."""


class RegistryUnavailable(RuntimeError):
    """The registry did not answer; the message must be retried, not skipped."""


def zigzag_long(n: int) -> bytes:
    """Avro's encoding of a long (zig-zag, then a base-128 varint)."""
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def without_logical_types(schema: Any) -> Any:
    """The schema with every ``logicalType`` dropped."""
    if isinstance(schema, dict):
        return {k: without_logical_types(v) for k, v in schema.items() if k != "logicalType"}
    if isinstance(schema, list):
        return [without_logical_types(v) for v in schema]
    return schema


def split(data: bytes | None) -> tuple[int, bytes]:
    """(schema id, body); :class:`NotAvro` when the bytes have no Confluent header."""
    try:
        return wire.split(data)
    except wire.NotFramed as exc:
        raise NotAvro(str(exc)) from None


@dataclass(frozen=True)
class _Parsed:
    """A writer schema parsed for one record and for an array of them."""

    record: Any
    array: Any

    @classmethod
    def of(cls, schema_id: int, text: str) -> _Parsed:
        try:
            schema = without_logical_types(json.loads(text))
            return cls(
                fastavro.parse_schema(schema), fastavro.parse_schema({"type": "array", "items": schema})
            )
        except Exception as exc:
            raise NotAvro(f"schema id {schema_id} is not a usable Avro schema: {exc}") from None


class AvroDecoder:
    """Decodes framed values; ``lookup(schema_id)`` returns the writer schema's text.

    ``lookup`` raising :class:`KeyError` means the id is unknown (:class:`NotAvro`:
    the message is skipped); anything else raises :class:`RegistryUnavailable`.
    """

    def __init__(self, lookup: SchemaLookup) -> None:
        self._lookup = lookup
        self._schemas: dict[int, _Parsed] = {}

    def _parsed(self, schema_id: int) -> _Parsed:
        parsed = self._schemas.get(schema_id)
        if parsed is None:
            parsed = self._schemas[schema_id] = _Parsed.of(schema_id, self._fetch(schema_id))
        return parsed

    def _fetch(self, schema_id: int) -> str:
        try:
            return self._lookup(schema_id)
        except KeyError:
            raise NotAvro(f"schema id {schema_id} is not in the registry") from None
        except Exception as exc:
            raise RegistryUnavailable(f"schema id {schema_id}: {exc}") from exc

    def schema(self, schema_id: int) -> Any:
        """The parsed writer schema of ``schema_id`` (asked of the registry once)."""
        return self._parsed(schema_id).record

    def array_schema(self, schema_id: int) -> Any:
        """An array of ``schema_id``'s records (for :meth:`decode_many`)."""
        return self._parsed(schema_id).array

    def decode(self, data: bytes | None) -> Any:
        """One value; :class:`NotAvro` unless it is exactly one record of its schema."""
        schema_id, body = split(data)
        schema = self.schema(schema_id)
        buf = io.BytesIO(body)
        try:
            value = fastavro.schemaless_reader(buf, schema, None)
        except Exception as exc:  # fastavro raises many types on garbage
            raise NotAvro(f"payload does not match schema {schema_id}: {type(exc).__name__}") from None
        if buf.tell() != len(body):
            raise NotAvro(f"{len(body) - buf.tell()} trailing bytes after the schema {schema_id} record")
        return value

    def decode_many(
        self, datas: list[bytes | None], unframed: Callable[[bytes], Any] | None = None
    ) -> list[Any]:
        """Decode a batch; undecodable items come back as :data:`MALFORMED`, None stays
        None, and bytes without a Confluent header go to ``unframed`` (JSON topics).

        Values written with the same schema are decoded in one fastavro call, as an
        Avro array whose items are their bodies laid end to end (the array encoding
        is a count, the items, then 0). fastavro's per-call set-up costs more than
        decoding a small record, so this is several times faster than one call per
        record; if the batch does not decode exactly, each item is decoded alone.
        """
        out: list[Any] = [MALFORMED] * len(datas)
        groups: dict[int, tuple[list[int], list[bytes]]] = {}
        for i, data in enumerate(datas):
            if data is None:
                out[i] = None
                continue
            try:
                indexes, framed = groups.setdefault(wire.schema_id(data), ([], []))
            except wire.NotFramed:
                if unframed is not None:
                    out[i] = _or_malformed(unframed, data)
                continue
            indexes.append(i)
            framed.append(data)
        for schema_id, (indexes, framed) in groups.items():
            for i, value in zip(indexes, self._decode_group(schema_id, framed), strict=True):
                out[i] = value
        return out

    def _decode_group(self, schema_id: int, datas: list[bytes]) -> list[Any]:
        try:
            schema = self.array_schema(schema_id)
            body = zigzag_long(len(datas)) + b"".join(d[wire.HEADER_SIZE :] for d in datas) + b"\x00"
            stream = io.BytesIO(body)
            values = fastavro.schemaless_reader(stream, schema, None)
            if isinstance(values, list) and len(values) == len(datas) and stream.tell() == len(body):
                return values
        except Exception:
            pass
        return [_or_malformed(self.decode, data) for data in datas]


def _or_malformed(decode: Callable[[Any], Any], data: Any) -> Any:
    try:
        return decode(data)
    except (DecodeError, RegistryUnavailable):
        return MALFORMED


def station_id_of(value: Any) -> int:
    """The ``station_id`` of a decoded arrival or turnstile value."""
    sid = value.get("station_id") if isinstance(value, dict) else None
    if isinstance(sid, bool) or not isinstance(sid, int):
        raise NotAvro(f"record has no int station_id: {sid!r}")
    return sid


class RegistryLookup:
    """:data:`SchemaLookup` over the Schema Registry's REST API (``GET
    /schemas/ids/{id}``): KeyError for an unknown id, httpx's errors otherwise.

    A plain httpx call rather than confluent-kafka's SchemaRegistryClient: schemas
    are only ever looked up by id here, and the full client (authlib, cryptography
    ...) costs about 20 MB of resident memory.
    """

    def __init__(self, settings: Settings, timeout: float = 5.0) -> None:
        import httpx  # here: decoding alone does not need an HTTP client

        self.url = settings.schema_registry_url.rstrip("/")
        http = settings.registry_http()
        self._client = httpx.Client(timeout=timeout, **http)
        self._user: tuple[str, str] | None = http.get("auth")

    def __call__(self, schema_id: int) -> str:
        response = self._client.get(f"{self.url}/schemas/ids/{schema_id}")
        if response.status_code == 404:
            raise KeyError(schema_id)
        if response.status_code in (401, 403):
            from cta_core.http_client import raise_if_http_refused

            raise_if_http_refused("Schema Registry", self.url, response.status_code, self._user)
        response.raise_for_status()
        return str(response.json()["schema"])

    def close(self) -> None:
        self._client.close()
