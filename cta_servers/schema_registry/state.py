"""The registry's in-memory model, rebuilt from the records of the ``_schemas`` topic.

Records use Confluent's layout so a topic written by either registry reads back:

- ``{"keytype":"SCHEMA","subject":s,"version":v,"magic":1}`` ->
  ``{"subject","version","id","schema","deleted"}`` (a null value removes it);
- ``{"keytype":"CONFIG","subject":s|null,"magic":0}`` -> ``{"compatibilityLevel"}``;
- ``{"keytype":"MODE","subject":s|null,"magic":0}`` -> ``{"mode"}``;
- ``DELETE_SUBJECT`` / ``CLEAR_SUBJECT`` (written by Confluent's registry) and ``NOOP``.

The ``plan_*`` methods decide what a request writes without changing anything;
the change happens when the written record is read back and :meth:`apply`-ed,
so the topic stays the single source of truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cta_servers.schema_registry import errors
from cta_servers.schema_registry.canonical import identity_key, normalize
from cta_servers.schema_registry.compatibility import DEFAULT_LEVEL, LEVELS, check_level

#: a (key, value) record of the registry's ``_schemas`` store topic (value None: a tombstone)
StoreRecord = tuple[dict[str, Any], dict[str, Any] | None]
MODES = ("READWRITE", "READONLY", "IMPORT")
MAX_VERSION = 2**31 - 1


def schema_key(subject: str, version: int) -> dict[str, Any]:
    return {"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1}


def config_key(subject: str | None) -> dict[str, Any]:
    return {"keytype": "CONFIG", "subject": subject, "magic": 0}


def mode_key(subject: str | None) -> dict[str, Any]:
    return {"keytype": "MODE", "subject": subject, "magic": 0}


@dataclass
class Version:
    subject: str
    version: int
    id: int
    schema: str
    deleted: bool = False
    key: str = ""
    normalized: Any = None

    def value(self, **changes: Any) -> dict[str, Any]:
        out = {"subject": self.subject, "version": self.version, "id": self.id, "schema": self.schema}
        out["deleted"] = self.deleted
        out.update(changes)
        return out

    def public(self) -> dict[str, Any]:
        return {"subject": self.subject, "version": self.version, "id": self.id, "schema": self.schema}


def parse_version(text: str | int) -> int | None:
    """``latest`` and ``-1`` -> None (the latest); an int in [1, 2^31-1]; else 42202."""
    if isinstance(text, int):
        number = text
    elif text == "latest":
        return None
    else:
        try:
            number = int(text)
        except ValueError:
            raise errors.invalid_version(str(text)) from None
    if number == -1:
        return None
    if not 1 <= number <= MAX_VERSION:
        raise errors.invalid_version(str(text))
    return number


@dataclass
class RegistryState:
    versions: dict[str, dict[int, Version]] = field(default_factory=dict)
    by_id: dict[int, Version] = field(default_factory=dict)
    id_by_key: dict[str, int] = field(default_factory=dict)
    id_refs: dict[int, set[tuple[str, int]]] = field(default_factory=dict)
    configs: dict[str | None, str] = field(default_factory=dict)
    modes: dict[str | None, str] = field(default_factory=dict)
    max_id: int = 0
    #: bumped by every applied record: answers computed at one generation stay valid until it moves.
    generation: int = 0
    #: identity keys of raw schema texts already seen (the lookup fast path).
    _key_cache: dict[str, tuple[str, Any]] = field(default_factory=dict)

    # -- applying store records ------------------------------------------------------------
    def apply(self, key: dict[str, Any], value: dict[str, Any] | None) -> None:
        self.generation += 1
        keytype = key.get("keytype")
        subject = key.get("subject")
        if keytype == "SCHEMA":
            self._apply_schema(str(subject), int(key["version"]), value)
        elif keytype == "CONFIG":
            if value is None:
                self.configs.pop(subject, None)
            else:
                level = value.get("compatibilityLevel") or value.get("compatibility")
                if level:
                    self.configs[subject] = str(level).upper()
        elif keytype == "MODE":
            if value is None:
                self.modes.pop(subject, None)
            elif value.get("mode"):
                self.modes[subject] = str(value["mode"]).upper()
        elif keytype == "DELETE_SUBJECT" and value is not None:
            upto = int(value.get("version", MAX_VERSION))
            for number, version in self.versions.get(str(subject), {}).items():
                if number <= upto:
                    version.deleted = True
        elif keytype == "CLEAR_SUBJECT" and value is not None:
            for number, version in list(self.versions.get(str(subject), {}).items()):
                if version.deleted:
                    self._apply_schema(version.subject, number, None)
        # NOOP and unknown key types carry nothing for this model.

    def _apply_schema(self, subject: str, number: int, value: dict[str, Any] | None) -> None:
        versions = self.versions.setdefault(subject, {})
        old = versions.pop(number, None)
        if old is not None:
            refs = self.id_refs.get(old.id, set())
            refs.discard((subject, number))
            if not refs:
                self.id_refs.pop(old.id, None)
                self.by_id.pop(old.id, None)
                self.id_by_key.pop(old.key, None)
        if value is None:
            if not versions:
                del self.versions[subject]
            return
        text = str(value["schema"])
        key, normalized = self.identity(text)
        version = Version(
            subject=subject,
            version=number,
            id=int(value["id"]),
            schema=text,
            deleted=bool(value.get("deleted", False)),
            key=key,
            normalized=normalized,
        )
        versions[number] = version
        self.by_id.setdefault(version.id, version)
        self.id_by_key.setdefault(key, version.id)
        self.id_refs.setdefault(version.id, set()).add((subject, number))
        self.max_id = max(self.max_id, version.id)

    def identity(self, text: str, parsed: Any = None) -> tuple[str, Any]:
        """(identity key, normalised schema) of a schema text; cached."""
        hit = self._key_cache.get(text)
        if hit is not None:
            return hit
        schema = json.loads(text) if parsed is None else parsed
        normalized = normalize(schema)
        result = (identity_key(schema), normalized)
        if len(self._key_cache) > 10_000:
            self._key_cache.clear()
        self._key_cache[text] = result
        return result

    # -- queries ------------------------------------------------------------------------------
    def subjects(self, deleted: bool = False, prefix: str = "", deleted_only: bool = False) -> list[str]:
        out = []
        for subject, versions in self.versions.items():
            if not subject.startswith(prefix):
                continue
            live = any(not v.deleted for v in versions.values())
            if (deleted_only and not live) or (not deleted_only and (live or deleted)):
                out.append(subject)
        return sorted(out)

    def version_list(self, subject: str, deleted: bool = False) -> list[Version]:
        found = [v for _, v in sorted(self.versions.get(subject, {}).items()) if deleted or not v.deleted]
        if not found:
            raise errors.subject_not_found(subject)
        return found

    def get_version(self, subject: str, version: str | int, deleted: bool = False) -> Version:
        number = parse_version(version)
        candidates = self.version_list(subject, deleted=deleted)
        if number is None:
            return candidates[-1]
        for candidate in candidates:
            if candidate.version == number:
                return candidate
        raise errors.version_not_found(number)

    def lookup(self, subject: str, text: str, deleted: bool = False) -> Version:
        """The version of ``subject`` whose schema equals ``text`` (40401 / 40403)."""
        candidates = self.version_list(subject, deleted=deleted)
        key, _ = self.identity(text)
        for candidate in reversed(candidates):
            if candidate.key == key:
                return candidate
        raise errors.schema_not_found()

    def schema_by_id(self, schema_id: int) -> Version:
        found = self.by_id.get(schema_id)
        if found is None:
            raise errors.schema_not_found(schema_id)
        return found

    def usages(self, schema_id: int, deleted: bool = False) -> list[tuple[str, int]]:
        refs = self.id_refs.get(schema_id)
        if not refs:
            raise errors.schema_not_found(schema_id)
        return sorted((s, n) for s, n in refs if deleted or not self.versions[s][n].deleted)

    def level(self, subject: str | None = None) -> str:
        if subject is not None and subject in self.configs:
            return self.configs[subject]
        return self.configs.get(None, DEFAULT_LEVEL)

    def mode(self, subject: str | None = None) -> str:
        if subject is not None and subject in self.modes:
            return self.modes[subject]
        return self.modes.get(None, "READWRITE")

    # -- planning writes (pure: return the records to write) -----------------------------------
    def check_writable(self, subject: str | None) -> None:
        if self.mode(subject) == "READONLY":
            target = f"Subject {subject}" if subject else "The registry"
            raise errors.RegistryError(422, errors.OPERATION_NOT_PERMITTED, f"{target} is in read-only mode")

    def compatibility_problems(self, subject: str, normalized: Any, level: str | None = None) -> list[str]:
        live = [v for _, v in sorted(self.versions.get(subject, {}).items()) if not v.deleted]
        return check_level(level or self.level(subject), normalized, [v.normalized for v in live])

    def plan_register(
        self,
        subject: str,
        text: str,
        parsed: Any,
        schema_id: int | None = None,
        version: int | None = None,
    ) -> tuple[int, list[StoreRecord]]:
        """The id ``text`` gets under ``subject`` and the records that make it so
        (none when already registered). Raises 409 when incompatible."""
        self.check_writable(subject)
        key, normalized = self.identity(text, parsed)
        existing = self.versions.get(subject, {})
        for candidate in sorted(existing.values(), key=lambda v: -v.version):
            if not candidate.deleted and candidate.key == key:
                if schema_id is not None and schema_id != candidate.id:
                    raise errors.RegistryError(
                        422, 42207, f"Schema already registered with id {candidate.id} instead of {schema_id}"
                    )
                return candidate.id, []
        importing = self.mode(subject) == "IMPORT"
        if schema_id is not None and not importing:
            raise errors.RegistryError(
                422, errors.OPERATION_NOT_PERMITTED, "Registering a schema with an id needs IMPORT mode"
            )
        if not importing:
            problems = self.compatibility_problems(subject, normalized)
            if problems:
                raise errors.RegistryError(
                    409,
                    errors.INCOMPATIBLE_SCHEMA,
                    f"Schema being registered is incompatible with an earlier schema for subject "
                    f'"{subject}", details: {problems}',
                )
        if schema_id is None:
            schema_id = self.id_by_key.get(key, self.max_id + 1)
        elif schema_id in self.by_id and self.by_id[schema_id].key != key:
            raise errors.RegistryError(
                422, 42207, f"Overwrite new schema with id {schema_id} is not permitted."
            )
        number = version if version is not None else max(existing, default=0) + 1
        compact = json.dumps(parsed, separators=(",", ":"))
        value = {"subject": subject, "version": number, "id": schema_id, "schema": compact, "deleted": False}
        return schema_id, [(schema_key(subject, number), value)]

    def plan_delete_subject(self, subject: str, permanent: bool) -> tuple[list[int], list[StoreRecord]]:
        self.check_writable(subject)
        all_versions = self.version_list(subject, deleted=True)
        live = [v for v in all_versions if not v.deleted]
        if permanent:
            if live:
                raise errors.RegistryError(
                    404,
                    errors.SUBJECT_NOT_SOFT_DELETED,
                    f"Subject '{subject}' was not deleted first before being permanently deleted",
                )
            records: list[StoreRecord] = [(schema_key(subject, v.version), None) for v in all_versions]
            return [v.version for v in all_versions], records
        if not live:
            raise errors.RegistryError(
                404,
                errors.SUBJECT_SOFT_DELETED,
                f"Subject '{subject}' was soft deleted. Set permanent=true to delete permanently",
            )
        records = [(schema_key(subject, v.version), v.value(deleted=True)) for v in live]
        return [v.version for v in live], records

    def plan_delete_version(
        self, subject: str, version: str, permanent: bool
    ) -> tuple[int, list[StoreRecord]]:
        self.check_writable(subject)
        target = self.get_version(subject, version, deleted=permanent)
        if permanent:
            if not target.deleted:
                raise errors.RegistryError(
                    404,
                    errors.VERSION_NOT_SOFT_DELETED,
                    f"Subject '{subject}' Version {target.version} was not deleted first "
                    "before being permanently deleted",
                )
            return target.version, [(schema_key(subject, target.version), None)]
        return target.version, [(schema_key(subject, target.version), target.value(deleted=True))]

    def plan_config(self, subject: str | None, level: object) -> tuple[str, list[StoreRecord]]:
        if not isinstance(level, str) or level.upper() not in LEVELS:
            raise errors.invalid_level(level)
        return level.upper(), [(config_key(subject), {"compatibilityLevel": level.upper()})]

    def plan_mode(self, subject: str | None, mode: object) -> tuple[str, list[StoreRecord]]:
        if not isinstance(mode, str) or mode.upper() not in MODES:
            raise errors.invalid_mode(mode)
        return mode.upper(), [(mode_key(subject), {"mode": mode.upper()})]
