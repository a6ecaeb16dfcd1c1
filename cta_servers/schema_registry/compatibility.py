"""Avro schema resolution (the Avro specification's rules) and the registry's
compatibility levels built on it.

``incompatibilities(reader, writer)`` answers: can data written with ``writer``
be read with ``reader``? It returns the reasons it cannot (empty when it can).
Schemas are the JSON forms produced by :func:`canonical.normalize` (full names,
references by name).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cta_servers.schema_registry.canonical import NAMED, PRIMITIVES, named_types, normalize

LEVELS = (
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
)
DEFAULT_LEVEL = "BACKWARD"

#: writer type -> reader types it may be promoted to.
PROMOTIONS: dict[str, frozenset[str]] = {
    "int": frozenset({"long", "float", "double"}),
    "long": frozenset({"float", "double"}),
    "float": frozenset({"double"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}


def _kind(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, dict):
        kind = schema["type"]
        return "record" if kind == "error" else str(kind)
    return str(schema)


def _short(name: str) -> str:
    return name.rpartition(".")[2]


def _names_match(reader: dict[str, Any], writer: dict[str, Any]) -> bool:
    """Unqualified names equal, or the writer's name among the reader's aliases."""
    if _short(reader["name"]) == _short(writer["name"]):
        return True
    aliases = {_short(a) for a in reader.get("aliases", [])} | set(reader.get("aliases", []))
    return writer["name"] in aliases or _short(writer["name"]) in aliases


class _Resolver:
    def __init__(self, reader: Any, writer: Any) -> None:
        self.reader_names = named_types(reader)
        self.writer_names = named_types(writer)
        self.in_progress: set[tuple[str, str]] = set()

    def deref(self, schema: Any, names: dict[str, Any]) -> Any:
        if isinstance(schema, str) and schema not in PRIMITIVES:
            return names.get(schema, schema)
        return schema

    def check(self, reader: Any, writer: Any, path: str) -> list[str]:
        reader = self.deref(reader, self.reader_names)
        writer = self.deref(writer, self.writer_names)
        rk, wk = _kind(reader), _kind(writer)
        if wk == "union":
            problems: list[str] = []
            for branch in writer:
                problems += self.check(reader, branch, path)
            return problems
        if rk == "union":
            for branch in reader:
                if not self.check(branch, writer, path):
                    return []
            return [f"{path or '/'}: reader union {self.describe(reader)} has no branch for writer type {wk}"]
        if rk != wk:
            if rk in PROMOTIONS.get(wk, ()):
                return []
            return [f"{path or '/'}: reader type {rk} cannot read writer type {wk}"]
        if rk in PRIMITIVES:
            return []
        if rk == "array":
            return self.check(reader["items"], writer["items"], f"{path}/items")
        if rk == "map":
            return self.check(reader["values"], writer["values"], f"{path}/values")
        if not _names_match(reader, writer):
            return [
                f"{path or '/'}: reader name {reader['name']} does not match writer name {writer['name']}"
            ]
        if rk == "fixed":
            return self.check_fixed(reader, writer, path)
        if rk == "enum":
            return self.check_enum(reader, writer, path)
        return self.check_record(reader, writer, path)

    def check_fixed(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[str]:
        if reader["size"] != writer["size"]:
            return [f"{path or '/'}: fixed size {reader['size']} differs from writer's {writer['size']}"]
        return []

    def check_enum(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[str]:
        missing = [s for s in writer["symbols"] if s not in reader["symbols"]]
        if missing and "default" not in reader:
            return [f"{path or '/'}: reader enum {reader['name']} lacks writer symbols {missing}"]
        return []

    def check_record(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[str]:
        pair = (reader["name"], writer["name"])
        if pair in self.in_progress:  # recursive type: assume it holds, as Avro's checker does
            return []
        self.in_progress.add(pair)
        try:
            writer_fields = {f["name"]: f for f in writer["fields"]}
            problems: list[str] = []
            for field in reader["fields"]:
                source = writer_fields.get(field["name"])
                if source is None:
                    source = next(
                        (writer_fields[a] for a in field.get("aliases", []) if a in writer_fields), None
                    )
                field_path = f"{path}/{field['name']}"
                if source is None:
                    if "default" not in field:
                        problems.append(
                            f"{field_path}: reader field '{field['name']}' has no default value "
                            "and is missing in the writer's schema"
                        )
                    continue
                problems += self.check(field["type"], source["type"], field_path)
            return problems
        finally:
            self.in_progress.discard(pair)

    def describe(self, schema: Any) -> str:
        return "[" + ", ".join(_kind(self.deref(b, self.reader_names)) for b in schema) + "]"


def incompatibilities(reader: Any, writer: Any) -> list[str]:
    """Why data written with ``writer`` cannot be read with ``reader`` (empty: it can)."""
    reader_n, writer_n = normalize(reader), normalize(writer)
    return _Resolver(reader_n, writer_n).check(reader_n, writer_n, "")


def can_read(reader: Any, writer: Any) -> bool:
    return not incompatibilities(reader, writer)


def check_level(level: str, new: Any, previous: Sequence[Any]) -> list[str]:
    """Reasons ``new`` may not follow ``previous`` (oldest first) under ``level``."""
    level = level.upper()
    if level not in LEVELS:
        raise ValueError(f"unknown compatibility level {level!r}")
    if level == "NONE" or not previous:
        return []
    against = list(previous) if level.endswith("_TRANSITIVE") else [previous[-1]]
    problems: list[str] = []
    for old in reversed(against):
        if level.startswith(("BACKWARD", "FULL")):
            problems += [f"new schema cannot read old data: {p}" for p in incompatibilities(new, old)]
        if level.startswith(("FORWARD", "FULL")):
            problems += [f"old schema cannot read new data: {p}" for p in incompatibilities(old, new)]
    return problems


__all__ = ["DEFAULT_LEVEL", "LEVELS", "NAMED", "can_read", "check_level", "incompatibilities"]
