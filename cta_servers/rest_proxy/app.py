"""HTTP routes of the REST Proxy (Confluent's API v2 subset: produce, topic metadata)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from aiohttp import web

from cta_servers.rest_proxy import formats
from cta_servers.rest_proxy.formats import PARTITION_NOT_FOUND, ProduceRequest, ProxyError
from cta_servers.rest_proxy.kafka_io import KafkaBridge
from cta_servers.rest_proxy.registry import AvroCodec, RegistryClient
from cta_servers.web import Service, json_reply, make_web_app

RESPONSE_TYPE = "application/vnd.kafka.v2+json"
#: Confluent's default max request size is about 1 MB less than this; a 10 MB body gets 413.
MAX_BODY = 8 * 1024 * 1024

BRIDGE: web.AppKey[KafkaBridge] = web.AppKey("bridge", KafkaBridge)
REGISTRY: web.AppKey[RegistryClient] = web.AppKey("registry", RegistryClient)


def reply(data: Any, status: int = 200, content_type: str = RESPONSE_TYPE) -> web.Response:
    return json_reply(data, content_type, status)


def _accepted(request: web.Request) -> str:
    """The answer type the request's ``Accept`` header asks for (406 when none fits)."""
    return formats.negotiate(request.headers.get("Accept", ""))


routes = web.RouteTableDef()


@routes.get("/topics")
async def list_topics(request: web.Request) -> web.Response:
    content_type = _accepted(request)
    return reply(await request.app[BRIDGE].topic_names(), content_type=content_type)


@routes.get("/topics/{topic}")
async def get_topic(request: web.Request) -> web.Response:
    content_type = _accepted(request)
    topic = request.match_info["topic"]
    formats.check_topic_name(topic)
    return reply(await request.app[BRIDGE].describe(topic), content_type=content_type)


async def _avro_codecs(
    registry: RegistryClient, topic: str, request: ProduceRequest
) -> tuple[AvroCodec | None, AvroCodec | None]:
    async def resolve(text: str | None, schema_id: int | None, subject: str) -> AvroCodec | None:
        if schema_id is not None:
            return await registry.by_id(schema_id)
        if text is not None:
            return await registry.register(subject, text)
        return None

    return (
        await resolve(request.key_schema, request.key_schema_id, f"{topic}-key"),
        await resolve(request.value_schema, request.value_schema_id, f"{topic}-value"),
    )


def _encode(codec: AvroCodec | None, datum: Any, where: str) -> bytes | None:
    if datum is None:
        return None
    assert codec is not None  # parse_produce_request demanded a schema
    return codec.encode(datum, where)


@routes.get("/topics/{topic}/partitions")
async def list_partitions(request: web.Request) -> web.Response:
    content_type = _accepted(request)
    topic = request.match_info["topic"]
    formats.check_topic_name(topic)
    return reply((await request.app[BRIDGE].describe(topic))["partitions"], content_type=content_type)


@routes.get("/topics/{topic}/partitions/{partition:[0-9]+}")
async def get_partition(request: web.Request) -> web.Response:
    content_type = _accepted(request)
    topic = request.match_info["topic"]
    formats.check_topic_name(topic)
    wanted = int(request.match_info["partition"])
    for partition in (await request.app[BRIDGE].describe(topic))["partitions"]:
        if partition["partition"] == wanted:
            return reply(partition, content_type=content_type)
    raise ProxyError(404, PARTITION_NOT_FOUND, "Partition not found.")


@routes.post("/topics/{topic}")
async def produce(request: web.Request) -> web.Response:
    return await _produce(request, None)


@routes.post("/topics/{topic}/partitions/{partition:[0-9]+}")
async def produce_to_partition(request: web.Request) -> web.Response:
    return await _produce(request, int(request.match_info["partition"]))


async def _produce(request: web.Request, partition: int | None) -> web.Response:
    """Validate and serialise every record first; produce only when all are good."""
    content_type = _accepted(request)
    fmt = formats.embedded_format(request.headers.get("Content-Type", ""))
    topic = request.match_info["topic"]
    formats.check_topic_name(topic)
    body = await request.read()
    parsed = formats.parse_produce_request(body, fmt)
    if partition is not None:
        parsed = replace(parsed, records=[replace(r, partition=partition) for r in parsed.records])
    bridge = request.app[BRIDGE]
    partitions = await bridge.partitions(topic)
    for index, record in enumerate(parsed.records):
        if record.partition is not None and record.partition >= partitions:
            raise ProxyError(
                404,
                PARTITION_NOT_FOUND,
                f"Partition not found: records[{index}].partition={record.partition}",
            )
    key_id = value_id = None
    encoded: list[tuple[bytes | None, bytes | None]] = []
    if fmt == "avro":
        key_codec, value_codec = await _avro_codecs(request.app[REGISTRY], topic, parsed)
        key_id = key_codec.schema_id if key_codec else None
        value_id = value_codec.schema_id if value_codec else None
        for i, r in enumerate(parsed.records):
            encoded.append(
                (
                    _encode(key_codec, r.key, f"records[{i}].key"),
                    _encode(value_codec, r.value, f"records[{i}].value"),
                )
            )
    elif fmt == "binary":
        for i, r in enumerate(parsed.records):
            encoded.append(
                (
                    formats.encode_binary(r.key, f"records[{i}].key"),
                    formats.encode_binary(r.value, f"records[{i}].value"),
                )
            )
    else:
        encoded = [(formats.encode_json(r.key), formats.encode_json(r.value)) for r in parsed.records]
    if len(encoded) == 1:
        key, value = encoded[0]
        deliveries = [await bridge.produce(topic, key, value, parsed.records[0].partition)]
    else:
        deliveries = await asyncio.gather(
            *(
                bridge.produce(topic, k, v, r.partition)
                for (k, v), r in zip(encoded, parsed.records, strict=True)
            )
        )
    return reply(
        {
            "key_schema_id": key_id,
            "value_schema_id": value_id,
            "offsets": [d.as_json() for d in deliveries],
        },
        content_type=content_type,
    )


SERVICE = Service("REST proxy", RESPONSE_TYPE, MAX_BODY, root_type=_accepted)


def make_app(bridge: KafkaBridge, registry: RegistryClient) -> web.Application:
    app = make_web_app(SERVICE, routes)
    app[BRIDGE] = bridge
    app[REGISTRY] = registry
    return app
