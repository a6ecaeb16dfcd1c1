"""Avro schema-resolution rules and the registry's compatibility levels."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cta_core.schemas import schema_dict
from cta_servers.schema_registry.compatibility import can_read, check_level, incompatibilities


def record(*fields: dict[str, Any], name: str = "R", **extra: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": list(fields), **extra}


def f(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


ENUM_AB = {"type": "enum", "name": "E", "symbols": ["A", "B"]}
ENUM_ABC = {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}

# (reader, writer, reader can read writer's data?)
CASES: list[tuple[str, Any, Any, bool]] = [
    ("same primitive", "int", "int", True),
    ("int promoted to long", "long", "int", True),
    ("int promoted to float", "float", "int", True),
    ("int promoted to double", "double", "int", True),
    ("long promoted to float", "float", "long", True),
    ("long promoted to double", "double", "long", True),
    ("float promoted to double", "double", "float", True),
    ("long not narrowed to int", "int", "long", False),
    ("double not narrowed to float", "float", "double", False),
    ("string read as bytes", "bytes", "string", True),
    ("bytes read as string", "string", "bytes", True),
    ("string is not int", "int", "string", False),
    (
        "added field with default",
        record(f("a", "int"), f("b", "string", default="x")),
        record(f("a", "int")),
        True,
    ),
    ("added field without default", record(f("a", "int"), f("b", "string")), record(f("a", "int")), False),
    ("removed field (writer extra)", record(f("a", "int")), record(f("a", "int"), f("b", "string")), True),
    ("field type promoted", record(f("a", "long")), record(f("a", "int")), True),
    ("field type incompatible", record(f("a", "int")), record(f("a", "string")), False),
    ("field renamed with alias", record(f("b", "int", aliases=["a"])), record(f("a", "int")), True),
    ("record name differs", record(f("a", "int"), name="X"), record(f("a", "int"), name="Y"), False),
    (
        "record name alias",
        record(f("a", "int"), name="X", aliases=["Y"]),
        record(f("a", "int"), name="Y"),
        True,
    ),
    (
        "namespace ignored for names",
        record(f("a", "int"), namespace="n1"),
        record(f("a", "int"), namespace="n2"),
        True,
    ),
    ("enum gains symbol", ENUM_ABC, ENUM_AB, True),
    ("enum loses symbol", ENUM_AB, ENUM_ABC, False),
    ("enum loses symbol, reader default", {**ENUM_AB, "default": "A"}, ENUM_ABC, True),
    ("array items promoted", {"type": "array", "items": "long"}, {"type": "array", "items": "int"}, True),
    (
        "array items incompatible",
        {"type": "array", "items": "int"},
        {"type": "array", "items": "string"},
        False,
    ),
    ("map values promoted", {"type": "map", "values": "double"}, {"type": "map", "values": "float"}, True),
    ("map vs array", {"type": "map", "values": "int"}, {"type": "array", "items": "int"}, False),
    (
        "fixed same size",
        {"type": "fixed", "name": "F", "size": 4},
        {"type": "fixed", "name": "F", "size": 4},
        True,
    ),
    (
        "fixed other size",
        {"type": "fixed", "name": "F", "size": 4},
        {"type": "fixed", "name": "F", "size": 8},
        False,
    ),
    ("writer type into reader union", ["null", "int"], "int", True),
    ("writer type promoted into reader union", ["null", "long"], "int", True),
    ("writer type missing from reader union", ["null", "string"], "int", False),
    ("writer union into reader type: all branches ok", "long", ["int", "long"], True),
    ("writer union into reader type: a branch fails", "int", ["null", "int"], False),
    ("union gains a branch", ["null", "int", "string"], ["null", "int"], True),
    ("union loses a branch", ["null", "int"], ["null", "int", "string"], False),
    (
        "nested record gains field with default",
        record(f("inner", record(f("x", "int"), f("y", "int", default=0), name="I"))),
        record(f("inner", record(f("x", "int"), name="I"))),
        True,
    ),
    (
        "nested record gains field without default",
        record(f("inner", record(f("x", "int"), f("y", "int"), name="I"))),
        record(f("inner", record(f("x", "int"), name="I"))),
        False,
    ),
    (
        "named type referenced by name",
        record(f("a", ENUM_ABC), f("b", "E")),
        record(f("a", ENUM_AB), f("b", "E")),
        True,
    ),
    (
        "recursive record",
        record(f("v", "int"), f("next", ["null", "R"], default=None), name="R"),
        record(f("v", "int"), f("next", ["null", "R"]), name="R"),
        True,
    ),
    (
        "optional field becomes required without default",
        record(f("a", "int")),
        record(f("a", ["null", "int"])),
        False,
    ),
]


@pytest.mark.parametrize(("reader", "writer", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_schema_resolution(reader: Any, writer: Any, expected: bool) -> None:
    problems = incompatibilities(reader, writer)
    assert (not problems) is expected, problems
    assert can_read(reader, writer) is expected


def test_problem_names_the_field() -> None:
    problems = incompatibilities(record(f("a", "int"), f("b", "string")), record(f("a", "int")))
    assert len(problems) == 1 and "'b'" in problems[0] and "no default" in problems[0]


V1 = record(f("a", "int"))
V2 = record(f("a", "int"), f("b", "string", default=""))  # adds b with a default
V3 = record(f("b", "string", default=""))  # drops a (no default in V1/V2)
NEW_REQUIRED = record(f("a", "int"), f("c", "int"))  # adds c without default


@pytest.mark.parametrize(
    ("level", "new", "history", "ok"),
    [
        ("NONE", NEW_REQUIRED, [V1], True),
        ("BACKWARD", V2, [V1], True),
        ("BACKWARD", NEW_REQUIRED, [V1], False),
        ("FORWARD", NEW_REQUIRED, [V1], True),  # old readers ignore the new field
        ("FORWARD", V3, [V2], False),  # V2 readers need a, V3 data lacks it
        ("FULL", V2, [V1], True),
        ("FULL", NEW_REQUIRED, [V1], False),
        # V3 reads V2 (a dropped, b present) but not V1 data? V3 needs b which has a default: fine.
        ("BACKWARD", V3, [V1, V2], True),
        ("FORWARD", V3, [V1, V2], False),
        # transitive checks every version, non-transitive only the latest:
        ("BACKWARD", record(f("b", "string")), [V1, V2], True),
        ("BACKWARD_TRANSITIVE", record(f("b", "string")), [V1, V2], False),
        ("FORWARD", V2, [record(f("a", "int"), f("z", "int")), V1], True),
        ("FORWARD_TRANSITIVE", V2, [record(f("a", "int"), f("z", "int")), V1], False),
        ("FULL_TRANSITIVE", V2, [V1, V2], True),
        ("BACKWARD", NEW_REQUIRED, [], True),
    ],
)
def test_levels(level: str, new: Any, history: list[Any], ok: bool) -> None:
    assert (not check_level(level, new, history)) is ok


def test_unknown_level_rejected() -> None:
    with pytest.raises(ValueError, match="unknown compatibility level"):
        check_level("SIDEWAYS", V1, [V1])


def test_project_schemas_are_self_compatible() -> None:
    for name in ("arrival_value", "turnstile_value", "weather_value"):
        schema = schema_dict(name)
        assert not check_level("FULL_TRANSITIVE", schema, [json.loads(json.dumps(schema))])
