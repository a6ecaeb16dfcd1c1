"""The registry's pure model: planning writes, applying store records, ids and deletes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cta_servers.schema_registry import errors
from cta_servers.schema_registry.canonical import InvalidSchema, identity_key, parse_schema_text
from cta_servers.schema_registry.errors import RegistryError
from cta_servers.schema_registry.state import RegistryState, config_key, parse_version

V1 = '{"type":"record","name":"W","namespace":"org.x","fields":[{"name":"t","type":"float"}]}'
V1_SPACED = """{ "namespace": "org.x", "name": "W", "type": "record",
  "fields": [ {"type": {"type": "float"}, "name": "t"} ] }"""
V2 = '{"type":"record","name":"W","namespace":"org.x","fields":[{"name":"t","type":"float"},{"name":"s","type":"string","default":"ok"}]}'
BAD = '{"type":"record","name":"W","namespace":"org.x","fields":[{"name":"t","type":"float"},{"name":"s","type":"string"}]}'


def register(state: RegistryState, subject: str, text: str, **kw: Any) -> int:
    """Plan a registration and apply its records, as the store would after reading them back."""
    schema_id, records = state.plan_register(subject, text, parse_schema_text(text), **kw)
    for key, value in records:
        state.apply(key, value)
    return schema_id


def test_same_schema_same_id_and_no_new_version() -> None:
    state = RegistryState()
    first = register(state, "w-value", V1)
    assert register(state, "w-value", V1_SPACED) == first
    assert [v.version for v in state.version_list("w-value")] == [1]


def test_identity_ignores_layout_but_not_defaults() -> None:
    assert identity_key(json.loads(V1)) == identity_key(json.loads(V1_SPACED))
    assert identity_key(json.loads(V2)) != identity_key(json.loads(BAD))


def test_same_schema_in_another_subject_reuses_id() -> None:
    state = RegistryState()
    assert register(state, "a", V1) == register(state, "b", V1)


def test_evolution_gets_new_id_and_version() -> None:
    state = RegistryState()
    one = register(state, "w", V1)
    two = register(state, "w", V2)
    assert two == one + 1
    assert state.get_version("w", "latest").id == two
    assert state.get_version("w", "1").id == one


def test_incompatible_rejected_with_409() -> None:
    state = RegistryState()
    register(state, "w", V1)
    with pytest.raises(RegistryError) as info:
        register(state, "w", BAD)
    assert (info.value.status, info.value.error_code) == (409, 409)
    assert "incompatible" in info.value.message


def test_level_none_allows_anything() -> None:
    state = RegistryState()
    register(state, "w", V1)
    state.apply(config_key("w"), {"compatibilityLevel": "NONE"})
    assert register(state, "w", BAD) > 0
    assert state.level("w") == "NONE" and state.level("other") == "BACKWARD"


def test_replaying_records_gives_same_ids() -> None:
    """What a restart does: apply the same records to a fresh state."""
    state, log = RegistryState(), []
    for subject, text in [("a", V1), ("b", V2), ("a", V2)]:
        _, records = state.plan_register(subject, text, parse_schema_text(text))
        for key, value in records:
            state.apply(key, value)
            log.append((key, value))
    fresh = RegistryState()
    for key, value in log:
        fresh.apply(key, value)
    assert fresh.lookup("a", V2).id == state.lookup("a", V2).id
    assert fresh.schema_by_id(1).schema == state.schema_by_id(1).schema
    assert register(fresh, "c", '"string"') == 3


def test_soft_then_hard_delete() -> None:
    state = RegistryState()
    register(state, "w", V1)
    register(state, "w", V2)
    with pytest.raises(RegistryError) as info:
        state.plan_delete_subject("w", permanent=True)
    assert info.value.error_code == errors.SUBJECT_NOT_SOFT_DELETED
    versions, records = state.plan_delete_subject("w", permanent=False)
    assert versions == [1, 2]
    for key, value in records:
        state.apply(key, value)
    assert state.subjects() == [] and state.subjects(deleted=True) == ["w"]
    assert state.schema_by_id(1)  # soft-deleted schemas stay readable by id
    with pytest.raises(RegistryError) as info:
        state.version_list("w")
    assert info.value.error_code == errors.SUBJECT_NOT_FOUND
    with pytest.raises(RegistryError) as info:
        state.plan_delete_subject("w", permanent=False)
    assert info.value.error_code == errors.SUBJECT_SOFT_DELETED
    _, records = state.plan_delete_subject("w", permanent=True)
    for key, value in records:
        state.apply(key, value)
    assert state.subjects(deleted=True) == []
    with pytest.raises(RegistryError) as info:
        state.schema_by_id(1)
    assert info.value.error_code == errors.SCHEMA_NOT_FOUND
    # ids are never reused in a session
    assert register(state, "w", '"long"') == 3


def test_delete_version_and_reregister() -> None:
    state = RegistryState()
    one = register(state, "w", V1)
    _, records = state.plan_delete_version("w", "1", permanent=False)
    for key, value in records:
        state.apply(key, value)
    assert register(state, "w", V1) == one
    assert [v.version for v in state.version_list("w")] == [2]
    with pytest.raises(RegistryError) as info:
        state.plan_delete_version("w", "2", permanent=True)
    assert info.value.error_code == errors.VERSION_NOT_SOFT_DELETED


@pytest.mark.parametrize(
    ("text", "expected"), [("latest", None), ("-1", None), ("1", 1), (7, 7), ("2147483647", 2**31 - 1)]
)
def test_parse_version(text: Any, expected: int | None) -> None:
    assert parse_version(text) == expected


@pytest.mark.parametrize("text", ["0", "-2", "abc", "2147483648", "1.5"])
def test_parse_version_rejects(text: str) -> None:
    with pytest.raises(RegistryError) as info:
        parse_version(text)
    assert (info.value.status, info.value.error_code) == (422, errors.INVALID_VERSION)


def test_missing_version_is_40402() -> None:
    state = RegistryState()
    register(state, "w", V1)
    with pytest.raises(RegistryError) as info:
        state.get_version("w", "5")
    assert info.value.error_code == errors.VERSION_NOT_FOUND


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"type":"record","name":"x"}',
        '{"type":"nope"}',
        '{"type":"enum","name":"E"}',
        '{"type":"record","name":"R","fields":[{"name":"a"}]}',
        "[]" + "x",
    ],
)
def test_invalid_schemas(text: str) -> None:
    with pytest.raises(InvalidSchema):
        parse_schema_text(text)


def test_invalid_level_and_mode() -> None:
    state = RegistryState()
    with pytest.raises(RegistryError) as info:
        state.plan_config(None, "SIDEWAYS")
    assert info.value.error_code == errors.INVALID_COMPATIBILITY_LEVEL
    with pytest.raises(RegistryError) as info:
        state.plan_mode(None, "FAST")
    assert info.value.error_code == errors.INVALID_MODE


def test_readonly_mode_blocks_writes() -> None:
    state = RegistryState()
    _, records = state.plan_mode(None, "READONLY")
    for key, value in records:
        state.apply(key, value)
    with pytest.raises(RegistryError) as info:
        register(state, "w", V1)
    assert info.value.error_code == errors.OPERATION_NOT_PERMITTED


def test_confluent_delete_subject_record_is_understood() -> None:
    state = RegistryState()
    register(state, "w", V1)
    register(state, "w", V2)
    state.apply({"keytype": "DELETE_SUBJECT", "subject": "w", "magic": 0}, {"subject": "w", "version": 2})
    assert state.subjects() == []
    state.apply({"keytype": "NOOP", "magic": 0}, None)  # ignored


def test_import_mode_keeps_given_ids() -> None:
    state = RegistryState()
    with pytest.raises(RegistryError) as info:
        register(state, "w", V1, schema_id=100)
    assert info.value.error_code == errors.OPERATION_NOT_PERMITTED
    _, records = state.plan_mode(None, "IMPORT")
    for key, value in records:
        state.apply(key, value)
    assert register(state, "w", V1, schema_id=100, version=5) == 100
    assert state.get_version("w", "5").id == 100
    assert register(state, "w", BAD, schema_id=101, version=6) == 101  # no compatibility check on import
    assert state.max_id == 101
