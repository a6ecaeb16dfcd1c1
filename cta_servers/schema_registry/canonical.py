"""Parsing Avro schemas and deciding when two schema texts are "the same schema".

Two texts name the same schema when they differ only in whitespace, attribute
order, or namespace shorthand. The identity key is the schema rewritten with
full names and sorted attributes; unlike Avro's *Parsing Canonical Form*
(:func:`parsing_canonical_form`) it keeps defaults, aliases, docs and custom
properties, because those change how data resolves (a field that gains a default
is a new version, as in Confluent's registry).
"""

from __future__ import annotations

import json
from typing import Any

import fastavro
from fastavro.schema import SchemaParseException, to_parsing_canonical_form

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED = frozenset({"record", "error", "enum", "fixed"})


class InvalidSchema(ValueError):
    """The text is not a valid Avro schema."""


def parse_schema_text(text: str) -> Any:
    """Decode and validate an Avro schema text; return its JSON form (not normalised)."""
    try:
        schema = json.loads(text)
    except (TypeError, ValueError) as exc:
        # A bare name such as ``string`` (without quotes) is accepted by Avro's parser.
        if isinstance(text, str) and text.strip() in PRIMITIVES:
            schema = text.strip()
        else:
            raise InvalidSchema(f"Invalid schema: not JSON ({exc})") from exc
    try:
        _check_structure(schema)
        fastavro.parse_schema(schema, _write_hint=False)
    except (SchemaParseException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidSchema(f"Invalid schema {text!r}: {exc}") from exc
    return schema


def _check_structure(schema: Any) -> None:
    """What fastavro tolerates but Avro's reference parser rejects."""
    if isinstance(schema, list):
        for branch in schema:
            _check_structure(branch)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "error"):
            fields = schema.get("fields")
            if not isinstance(fields, list):
                raise SchemaParseException(f"record {schema.get('name')!r} has no fields list")
            for field in fields:
                if not isinstance(field, dict) or "name" not in field or "type" not in field:
                    raise SchemaParseException(
                        f"record {schema.get('name')!r}: a field needs a name and a type"
                    )
                _check_structure(field["type"])
        elif kind == "enum" and not isinstance(schema.get("symbols"), list):
            raise SchemaParseException(f"enum {schema.get('name')!r} has no symbols list")
        elif kind == "array":
            _check_structure(schema.get("items"))
        elif kind == "map":
            _check_structure(schema.get("values"))
        elif isinstance(kind, (dict, list)):
            _check_structure(kind)
    elif not isinstance(schema, str):
        raise SchemaParseException(f"not a schema: {schema!r}")


def _fullname(name: str, namespace: str | None) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def normalize(schema: Any, namespace: str | None = None) -> Any:
    """Rewrite a schema with full names, no ``namespace`` attributes and no
    one-key ``{"type": primitive}`` wrappers; references stay names."""
    if isinstance(schema, str):
        return schema if schema in PRIMITIVES or "." in schema else _fullname(schema, namespace)
    if isinstance(schema, list):
        return [normalize(branch, namespace) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if isinstance(kind, (dict, list)):
        return (
            normalize(kind, namespace) if len(schema) == 1 else {**schema, "type": normalize(kind, namespace)}
        )
    out: dict[str, Any] = {}
    if kind in NAMED:
        ns = schema.get("namespace", namespace)
        full = _fullname(schema["name"], ns)
        ns = full.rpartition(".")[0] or None
        out["name"] = full
        for key, value in schema.items():
            if key in ("name", "namespace"):
                continue
            if key == "fields":
                out["fields"] = [
                    {k: (normalize(v, ns) if k == "type" else v) for k, v in field.items()} for field in value
                ]
            elif key == "aliases":
                out["aliases"] = [_fullname(a, ns) for a in value]
            else:
                out[key] = value
        return out
    if kind == "array":
        return {**schema, "items": normalize(schema["items"], namespace)}
    if kind == "map":
        return {**schema, "values": normalize(schema["values"], namespace)}
    if kind in PRIMITIVES and len(schema) == 1:
        return kind
    if isinstance(kind, str) and kind not in PRIMITIVES:
        return (
            normalize(kind, namespace) if len(schema) == 1 else {**schema, "type": normalize(kind, namespace)}
        )
    return dict(schema)


def identity_key(schema: Any) -> str:
    """The compact, order-independent text two equal schemas share."""
    return json.dumps(normalize(schema), sort_keys=True, separators=(",", ":"))


def parsing_canonical_form(schema: Any) -> str:
    """Avro's Parsing Canonical Form (drops docs, defaults and aliases)."""
    return str(to_parsing_canonical_form(schema))


def named_types(schema: Any, registry: dict[str, Any] | None = None) -> dict[str, Any]:
    """Map every full name defined in a normalised schema to its definition."""
    registry = {} if registry is None else registry
    if isinstance(schema, list):
        for branch in schema:
            named_types(branch, registry)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in NAMED:
            registry[schema["name"]] = schema
            for field in schema.get("fields", []):
                named_types(field["type"], registry)
        elif kind == "array":
            named_types(schema["items"], registry)
        elif kind == "map":
            named_types(schema["values"], registry)
        elif isinstance(kind, (dict, list)):
            named_types(kind, registry)
    return registry
