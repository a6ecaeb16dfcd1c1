"""HTTP routes of the Schema Registry: Confluent's REST API for Avro schemas."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from cta_servers.schema_registry import errors
from cta_servers.schema_registry.canonical import InvalidSchema, parse_schema_text
from cta_servers.schema_registry.compatibility import check_level
from cta_servers.schema_registry.errors import RegistryError
from cta_servers.schema_registry.state import RegistryState, config_key, mode_key, parse_version
from cta_servers.schema_registry.store import KafkaStore
from cta_servers.web import Service, json_reply, make_web_app

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
ACCEPTED_TYPES = frozenset(
    {
        "application/vnd.schemaregistry.v1+json",
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/octet-stream",
    }
)
MAX_BODY = 16 * 1024 * 1024

STATE: web.AppKey[RegistryState] = web.AppKey("state", RegistryState)
STORE: web.AppKey[KafkaStore] = web.AppKey("store", KafkaStore)
WRITE_LOCK: web.AppKey[asyncio.Lock] = web.AppKey("write_lock", asyncio.Lock)
PARSED: web.AppKey[dict[str, Any]] = web.AppKey("parsed_schemas", dict)
ANSWERS: web.AppKey[dict[tuple[str, bytes], tuple[int, bytes]]] = web.AppKey("answers", dict)


def reply(data: Any, status: int = 200) -> web.Response:
    return json_reply(data, CONTENT_TYPE, status)


def flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").lower() == "true"


async def read_body(request: web.Request) -> bytes:
    ctype = request.content_type
    if request.headers.get("Content-Type") and ctype not in ACCEPTED_TYPES:
        raise RegistryError(415, 415, f"HTTP 415 Unsupported Media Type: {ctype}")
    return await request.read()


def parse_json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise RegistryError(400, 400, f"Unexpected character in request body: {exc}") from None
    except RecursionError:  # e.g. 100,000 nested brackets: a bad request, not a server error
        raise RegistryError(400, 400, "Request body nested too deeply") from None
    if not isinstance(body, dict):
        raise RegistryError(422, 422, "Request body must be a JSON object")
    return body


async def read_json(request: web.Request) -> dict[str, Any]:
    return parse_json(await read_body(request))


def cached_answer(request: web.Request, raw: bytes) -> web.Response | None:
    """A repeated lookup (same path, query and body) while the state has not changed
    is answered with the bytes computed last time: the registry's hottest path."""
    hit = request.app[ANSWERS].get((request.path_qs, raw))
    if hit is not None and hit[0] == request.app[STATE].generation:
        return web.Response(body=hit[1], content_type=CONTENT_TYPE)
    return None


def answered_from_cache(
    handler: Callable[[web.Request, bytes], Awaitable[web.Response]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A route whose repeated requests :func:`cached_answer` serves; ``handler`` gets the
    request and its body otherwise (and may :func:`remember` its answer)."""

    @functools.wraps(handler)
    async def route(request: web.Request) -> web.Response:
        raw = await read_body(request)
        cached = cached_answer(request, raw)
        return cached if cached is not None else await handler(request, raw)

    return route


def remember(request: web.Request, raw: bytes, generation: int, data: Any) -> web.Response:
    body = json.dumps(data).encode()
    answers = request.app[ANSWERS]
    if len(answers) > 4096:
        answers.clear()
    answers[(request.path_qs, raw)] = (generation, body)
    return web.Response(body=body, content_type=CONTENT_TYPE)


def schema_of(request: web.Request, body: dict[str, Any]) -> tuple[str, Any]:
    """The schema text of a request and its parsed JSON form (validated, cached)."""
    schema_type = body.get("schemaType") or "AVRO"
    if schema_type != "AVRO":
        raise errors.invalid_schema(f"Unsupported schema type {schema_type}: this registry serves AVRO")
    if body.get("references"):
        raise errors.invalid_schema("Schema references are not supported by this registry")
    text = body.get("schema")
    if not isinstance(text, str):
        raise RegistryError(422, 422, "Request body needs a 'schema' string")
    cache = request.app[PARSED]
    parsed = cache.get(text)
    if parsed is None:
        try:
            parsed = parse_schema_text(text)
        except InvalidSchema as exc:
            raise errors.invalid_schema(str(exc)) from None
        if len(cache) > 10_000:
            cache.clear()
        cache[text] = parsed
    return text, parsed


async def write(request: web.Request, plan: Callable[[], tuple[Any, list[Any]]]) -> Any:
    """Plan and store a change under the write lock (the registry is its store's only writer)."""
    async with request.app[WRITE_LOCK]:
        result, records = plan()
        await request.app[STORE].put(records)
    return result


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


routes = web.RouteTableDef()


@routes.get("/schemas/types")
async def schema_types(request: web.Request) -> web.Response:
    return reply(["AVRO"])


@routes.get("/contexts")
async def contexts(request: web.Request) -> web.Response:
    return reply(["."])


@routes.get("/schemas")
async def list_schemas(request: web.Request) -> web.Response:
    state = request.app[STATE]
    prefix = request.query.get("subjectPrefix", "")
    deleted = flag(request, "deleted")
    latest_only = flag(request, "latestOnly")
    out = []
    for subject in state.subjects(deleted=deleted, prefix=prefix):
        versions = state.version_list(subject, deleted=deleted)
        out += [v.public() for v in (versions[-1:] if latest_only else versions)]
    return reply(out)


@routes.get("/schemas/ids/{id:-?[0-9]+}")
async def schema_by_id(request: web.Request) -> web.Response:
    found = request.app[STATE].schema_by_id(int(request.match_info["id"]))
    return reply({"schema": found.schema})


@routes.get("/schemas/ids/{id:-?[0-9]+}/schema")
async def raw_schema_by_id(request: web.Request) -> web.Response:
    found = request.app[STATE].schema_by_id(int(request.match_info["id"]))
    return web.Response(text=found.schema, content_type=CONTENT_TYPE)


@routes.get("/schemas/ids/{id:-?[0-9]+}/subjects")
async def subjects_by_id(request: web.Request) -> web.Response:
    usages = request.app[STATE].usages(int(request.match_info["id"]), deleted=flag(request, "deleted"))
    return reply(sorted({s for s, _ in usages}))


@routes.get("/schemas/ids/{id:-?[0-9]+}/versions")
async def versions_by_id(request: web.Request) -> web.Response:
    usages = request.app[STATE].usages(int(request.match_info["id"]), deleted=flag(request, "deleted"))
    return reply([{"subject": s, "version": v} for s, v in usages])


@routes.get("/subjects")
async def list_subjects(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return reply(
        state.subjects(
            deleted=flag(request, "deleted"),
            prefix=request.query.get("subjectPrefix", ""),
            deleted_only=flag(request, "deletedOnly") or flag(request, "deleted_only"),
        )
    )


@routes.post("/subjects/{subject}")
@answered_from_cache
async def lookup(request: web.Request, raw: bytes) -> web.Response:
    state = request.app[STATE]
    generation = state.generation
    text, parsed = schema_of(request, parse_json(raw))
    state.identity(text, parsed)
    found = state.lookup(request.match_info["subject"], text, deleted=flag(request, "deleted"))
    return remember(request, raw, generation, found.public())


@routes.delete("/subjects/{subject}")
async def delete_subject(request: web.Request) -> web.Response:
    state = request.app[STATE]
    subject = request.match_info["subject"]
    permanent = flag(request, "permanent")
    return reply(await write(request, lambda: state.plan_delete_subject(subject, permanent)))


@routes.get("/subjects/{subject}/versions")
async def list_versions(request: web.Request) -> web.Response:
    versions = request.app[STATE].version_list(
        request.match_info["subject"], deleted=flag(request, "deleted")
    )
    return reply([v.version for v in versions])


@routes.post("/subjects/{subject}/versions")
@answered_from_cache
async def register(request: web.Request, raw: bytes) -> web.Response:
    body = parse_json(raw)
    text, parsed = schema_of(request, body)
    state = request.app[STATE]
    subject = request.match_info["subject"]
    # An explicit id and version (IMPORT mode, e.g. copying another registry); 0/-1 mean "none".
    schema_id, version = _positive_int(body.get("id")), _positive_int(body.get("version"))
    before = state.generation
    found = await write(request, lambda: state.plan_register(subject, text, parsed, schema_id, version))
    if state.generation == before:  # already registered: nothing written, safe to repeat
        return remember(request, raw, before, {"id": found})
    return reply({"id": found})


@routes.get("/subjects/{subject}/versions/{version}")
async def get_version(request: web.Request) -> web.Response:
    state = request.app[STATE]
    found = state.get_version(
        request.match_info["subject"], request.match_info["version"], deleted=flag(request, "deleted")
    )
    return reply(found.public())


@routes.get("/subjects/{subject}/versions/{version}/schema")
async def get_version_schema(request: web.Request) -> web.Response:
    state = request.app[STATE]
    found = state.get_version(
        request.match_info["subject"], request.match_info["version"], deleted=flag(request, "deleted")
    )
    return web.Response(text=found.schema, content_type=CONTENT_TYPE)


@routes.get("/subjects/{subject}/versions/{version}/referencedby")
async def referenced_by(request: web.Request) -> web.Response:
    request.app[STATE].get_version(request.match_info["subject"], request.match_info["version"])
    return reply([])


@routes.delete("/subjects/{subject}/versions/{version}")
async def delete_version(request: web.Request) -> web.Response:
    state = request.app[STATE]
    subject, version = request.match_info["subject"], request.match_info["version"]
    permanent = flag(request, "permanent")
    return reply(await write(request, lambda: state.plan_delete_version(subject, version, permanent)))


async def _compatibility(request: web.Request, version: str | None) -> web.Response:
    body = await read_json(request)
    text, parsed = schema_of(request, body)
    state = request.app[STATE]
    subject = request.match_info["subject"]
    _, normalized = state.identity(text, parsed)
    level = state.level(subject)
    if version is None:
        problems = state.compatibility_problems(subject, normalized)
    else:
        number = parse_version(version)
        live = [v for _, v in sorted(state.versions.get(subject, {}).items()) if not v.deleted]
        if number is None:
            against = live[-1:]
        else:
            against = [v for v in live if v.version == number]
            if not against:
                raise errors.version_not_found(number)
        problems = check_level(level.replace("_TRANSITIVE", ""), normalized, [v.normalized for v in against])
    out: dict[str, Any] = {"is_compatible": not problems}
    if flag(request, "verbose"):
        out["messages"] = problems
    return reply(out)


@routes.post("/compatibility/subjects/{subject}/versions/{version}")
async def compatibility_version(request: web.Request) -> web.Response:
    return await _compatibility(request, request.match_info["version"])


@routes.post("/compatibility/subjects/{subject}/versions")
async def compatibility_all(request: web.Request) -> web.Response:
    return await _compatibility(request, None)


@dataclass(frozen=True)
class Setting:
    """A setting kept per subject with a global default, served under ``/<path>`` and
    ``/<path>/{subject}``: the compatibility level (``/config``) and the mode (``/mode``)."""

    path: str
    #: the answer's key to GET and DELETE (``compatibilityLevel`` for /config)
    read_key: str
    #: the request's and answer's key to PUT
    write_key: str
    #: error code and wording when a subject has none of its own
    missing_code: int
    missing_what: str
    #: the subject-level values (the global one under ``None``) and the default of a subject
    values: Callable[[RegistryState], dict[str | None, str]]
    default: Callable[[RegistryState], str]
    #: the store records setting a subject's value (``None``: the global one)
    plan: Callable[[RegistryState, str | None, object], tuple[str, list[Any]]]
    key: Callable[[str | None], dict[str, Any]]

    def route_defs(self) -> list[web.RouteDef]:
        """GET and PUT of the global value; GET, PUT and DELETE of a subject's."""
        return [
            web.get(f"/{self.path}", self.get),
            web.put(f"/{self.path}", self.put),
            web.get(f"/{self.path}/{{subject}}", self.get),
            web.put(f"/{self.path}/{{subject}}", self.put),
            web.delete(f"/{self.path}/{{subject}}", self.delete),
        ]

    async def get(self, request: web.Request) -> web.Response:
        state = request.app[STATE]
        subject = request.match_info.get("subject")
        values = self.values(state)
        if subject is not None and subject in values:
            return reply({self.read_key: values[subject]})
        if subject is None or flag(request, "defaultToGlobal"):
            return reply({self.read_key: self.default(state)})
        raise RegistryError(
            404,
            self.missing_code,
            f"Subject '{subject}' does not have subject-level {self.missing_what} configured",
        )

    async def put(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        state = request.app[STATE]
        subject = request.match_info.get("subject")
        value = await write(request, lambda: self.plan(state, subject, body.get(self.write_key)))
        return reply({self.write_key: value})

    async def delete(self, request: web.Request) -> web.Response:
        values = self.values(request.app[STATE])
        subject = request.match_info["subject"]
        if subject not in values:
            raise errors.subject_not_found(subject)
        previous = values[subject]
        await write(request, lambda: (None, [(self.key(subject), None)]))
        return reply({self.read_key: previous})


COMPATIBILITY = Setting(
    "config",
    "compatibilityLevel",
    "compatibility",
    errors.SUBJECT_COMPATIBILITY_NOT_CONFIGURED,
    "compatibility",
    lambda state: state.configs,
    lambda state: state.level(),
    RegistryState.plan_config,
    config_key,
)
MODE = Setting(
    "mode",
    "mode",
    "mode",
    errors.SUBJECT_MODE_NOT_CONFIGURED,
    "mode",
    lambda state: state.modes,
    lambda state: state.mode(),
    RegistryState.plan_mode,
    mode_key,
)
SERVICE = Service("schema registry", CONTENT_TYPE, MAX_BODY, internal_code=errors.STORE_ERROR)


def make_app(state: RegistryState, store: KafkaStore) -> web.Application:
    """The aiohttp application over an opened store (see :func:`__main__.serve`)."""
    app = make_web_app(SERVICE, routes)
    app.add_routes([*COMPATIBILITY.route_defs(), *MODE.route_defs()])
    app[STATE] = state
    app[STORE] = store
    app[WRITE_LOCK] = asyncio.Lock()
    app[PARSED] = {}
    app[ANSWERS] = {}
    return app
