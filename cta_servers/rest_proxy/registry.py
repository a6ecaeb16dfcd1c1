"""The REST Proxy's view of the Schema Registry: register or fetch schemas, cached.

Ids never change for a schema, so (subject, schema text) -> id and id -> schema
are cached for the life of the process; the registry is asked once per new one.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import fastavro

from cta_servers.rest_proxy.formats import (
    INVALID_SCHEMA,
    JSON_AVRO_CONVERSION,
    SCHEMA_FETCH_FAILED,
    AvroJsonConverter,
    ProxyError,
    frame,
)
from cta_servers.schema_registry.canonical import InvalidSchema, parse_schema_text

REGISTRY_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


@dataclass
class AvroCodec:
    """Everything needed to turn a JSON-encoded Avro value into framed bytes."""

    schema_id: int
    converter: AvroJsonConverter
    parsed: Any

    def encode(self, value: Any, where: str) -> bytes:
        try:
            datum = self.converter.convert(value)
            out = io.BytesIO()
            fastavro.schemaless_writer(out, self.parsed, datum)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ProxyError(
                422, JSON_AVRO_CONVERSION, f"Conversion of JSON to Avro failed: {where}: {exc}"
            ) from None
        return frame(self.schema_id, out.getvalue())


def _codec(schema_id: int, schema: Any) -> AvroCodec:
    return AvroCodec(schema_id, AvroJsonConverter(schema), fastavro.parse_schema(schema))


class RegistryClient:
    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url.rstrip("/")
        self.session = session
        self._by_subject: dict[tuple[str, str], AvroCodec] = {}
        self._by_id: dict[int, AvroCodec] = {}

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        try:
            async with self.session.request(
                method,
                f"{self.url}{path}",
                data=None if body is None else json.dumps(body),
                headers={"Content-Type": REGISTRY_CONTENT_TYPE, "Accept": REGISTRY_CONTENT_TYPE},
            ) as response:
                return response.status, await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ProxyError(500, 50001, f"Schema Registry at {self.url} failed: {exc!r}") from exc

    async def register(self, subject: str, text: str) -> AvroCodec:
        """The codec of ``text`` registered under ``subject`` (42205 if invalid; the
        registry's own error, e.g. 409 incompatible, passed through)."""
        cached = self._by_subject.get((subject, text))
        if cached is not None:
            return cached
        try:
            schema = parse_schema_text(text)
        except InvalidSchema as exc:
            raise ProxyError(422, INVALID_SCHEMA, f"Invalid schema: {exc}") from None
        status, body = await self._call(
            "POST", f"/subjects/{quote(subject, safe='')}/versions", {"schema": text}
        )
        if status != 200 or not isinstance(body, dict) or "id" not in body:
            code = body.get("error_code", status) if isinstance(body, dict) else status
            message = body.get("message", str(body)) if isinstance(body, dict) else str(body)
            raise ProxyError(status if 400 <= status < 500 else 500, int(code), f"Schema Registry: {message}")
        codec = self._by_id.get(int(body["id"])) or _codec(int(body["id"]), schema)
        self._by_id.setdefault(codec.schema_id, codec)
        self._by_subject[(subject, text)] = codec
        return codec

    async def by_id(self, schema_id: int) -> AvroCodec:
        cached = self._by_id.get(schema_id)
        if cached is not None:
            return cached
        status, body = await self._call("GET", f"/schemas/ids/{schema_id}")
        if status != 200 or not isinstance(body, dict) or "schema" not in body:
            detail = body.get("message") if isinstance(body, dict) else body
            code = body.get("error_code") if isinstance(body, dict) else status
            raise ProxyError(
                422,
                SCHEMA_FETCH_FAILED,
                f"Error serializing message. Error when fetching schema by id. schemaId = {schema_id}\n"
                f"{detail}; error code: {code}",
            )
        try:
            codec = _codec(schema_id, parse_schema_text(body["schema"]))
        except InvalidSchema as exc:
            raise ProxyError(422, INVALID_SCHEMA, f"Invalid schema: {exc}") from None
        self._by_id[schema_id] = codec
        return codec
