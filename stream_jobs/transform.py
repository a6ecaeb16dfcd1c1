"""Pure stations transform: raw Connect rows -> one record per (line, station).

The state lives in two mappings the caller owns (Faust tables in the worker,
plain dicts in the tests); values are replaced, never mutated in place, so a
Faust table writes each change to its changelog:

* ``names``: ``str(station_id)`` -> ``{str(stop_id): station_name}`` (one name per platform);
* ``memberships``: ``str(station_id)`` -> ``{line: {branch: position}}``.

The lines of a station come from ``line_stations`` (line, branch, position); a station
with no entry there (the course project's database has only ``stations``) takes its
lines from the row's line flags (``red``, ``blue``, ``green``, ...) and its order from
the row's ``order`` column, kept under the branch :data:`FLAGS_BRANCH`.

Output records are ``(key, value)`` for :data:`cta_core.topics.STATIONS_TABLE`,
key ``"<line>:<station_id>"``, value ``{station_id, station_name, order, line}``
plus ``branch`` for a station on exactly one named branch (docs/jobs.md).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from stream_jobs.stations_rows import LINES

#: one stations-table record: its key and its value (station_id, station_name, order, line)
TableRecord = tuple[str, dict[str, Any]]
Names = MutableMapping[str, dict[str, str]]
Memberships = MutableMapping[str, dict[str, dict[str, int]]]

#: Branch name of single-branch lines; never shown.
MAIN_BRANCH = "main"
#: Memberships taken from a ``stations`` row's line flags; used only for stations that
#: have no ``line_stations`` entry.
FLAGS_BRANCH = "#flags"


class MalformedRow(ValueError):
    """A message on a raw stations topic that is not a usable row."""


@dataclass(frozen=True)
class StationRow:
    stop_id: int
    station_id: int
    station_name: str
    #: lines whose flag column is true, in :data:`LINES` order
    lines: tuple[str, ...] = ()
    #: the row's ``order`` column (position along its line), when present
    order: int | None = None


@dataclass(frozen=True)
class LineStationRow:
    line: str
    branch: str
    position: int
    station_id: int
    station_name: str


def _load(raw: bytes | str | None) -> dict[str, Any]:
    if raw is None:
        raise MalformedRow("empty message (tombstone)")
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRow(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise MalformedRow(f"not a JSON object: {type(obj).__name__}")
    return obj


def _int_field(obj: Mapping[str, Any], name: str) -> int:
    value = obj.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise MalformedRow(f"field {name!r} is not an integer: {value!r}")
    return value


def _str_field(obj: Mapping[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value.strip():
        raise MalformedRow(f"field {name!r} is missing or not a non-empty string: {value!r}")
    return value.strip()


def _flag(obj: Mapping[str, Any], name: str) -> bool:
    value = obj.get(name)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "t", "1", "yes")
    return value is True or value == 1


def parse_station(raw: bytes | str | None) -> StationRow:
    obj = _load(raw)
    order = _int_field(obj, "order") if obj.get("order") is not None else None
    return StationRow(
        _int_field(obj, "stop_id"),
        _int_field(obj, "station_id"),
        _str_field(obj, "station_name"),
        tuple(line for line in LINES if _flag(obj, line)),
        order,
    )


def parse_line_station(raw: bytes | str | None) -> LineStationRow:
    obj = _load(raw)
    line = _str_field(obj, "line").lower()
    if line not in LINES:
        raise MalformedRow(f"unknown line {line!r}")
    position = _int_field(obj, "position")
    if position < 0:
        raise MalformedRow(f"negative position {position}")
    return LineStationRow(
        line,
        _str_field(obj, "branch"),
        position,
        _int_field(obj, "station_id"),
        _str_field(obj, "station_name"),
    )


def majority_name(platform_names: Mapping[str, str]) -> str | None:
    """The name most platforms carry (ties: alphabetical), so one typo is outvoted."""
    if not platform_names:
        return None
    counts = Counter(platform_names.values())
    return min(counts, key=lambda name: (-counts[name], name))


def record(line: str, branches: Mapping[str, int], station_id: int, name: str) -> TableRecord:
    value: dict[str, Any] = {
        "station_id": station_id,
        "station_name": name,
        "order": min(branches.values()),
        "line": line,
    }
    named = [b for b in branches if b not in (MAIN_BRANCH, FLAGS_BRANCH)]
    if len(branches) == 1 and named:
        value["branch"] = named[0]
    return f"{line}:{station_id}", value


def effective_lines(lines: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """A station's lines: from ``line_stations`` when it has any entry there, else from
    its rows' line flags."""
    listed = {
        line: {b: p for b, p in branches.items() if b != FLAGS_BRANCH}
        for line, branches in lines.items()
        if any(b != FLAGS_BRANCH for b in branches)
    }
    if listed:
        return listed
    return {line: dict(branches) for line, branches in lines.items() if branches}


def _listed(memberships: Memberships, key: str) -> set[str]:
    """Lines a station has ``line_stations`` entries for; all its lines when it has any."""
    lines = memberships.get(key) or {}
    if any(b != FLAGS_BRANCH for branches in lines.values() for b in branches):
        return set(lines)
    return set()


def _with_flags(memberships: Memberships, row: StationRow) -> set[str]:
    """Record the row's flagged lines (at its order); returns the lines that changed."""
    key = str(row.station_id)
    lines = {line: dict(b) for line, b in (memberships.get(key) or {}).items()}
    changed = set()
    for line in row.lines:
        branches = lines.setdefault(line, {})
        position = row.order if row.order is not None else branches.get(FLAGS_BRANCH, 0)
        if branches.get(FLAGS_BRANCH) != position:
            branches[FLAGS_BRANCH] = position
            changed.add(line)
    if changed:
        memberships[key] = lines
    return changed


def _records(
    memberships: Memberships, station_id: int, name: str, only: set[str] | None = None
) -> list[TableRecord]:
    lines = effective_lines(memberships.get(str(station_id)) or {})
    return [
        record(line, lines[line], station_id, name)
        for line in LINES
        if line in lines and (only is None or line in only)
    ]


def apply_station(names: Names, memberships: Memberships, row: StationRow) -> list[TableRecord]:
    """Record a platform's name and line flags; re-emit the station's records when its
    name changed, or when its flags added a line and it has no ``line_stations`` entry."""
    key = str(row.station_id)
    old = dict(names.get(key) or {})
    before = majority_name(old)
    if old.get(str(row.stop_id)) != row.station_name:
        names[key] = {**old, str(row.stop_id): row.station_name}
    after = majority_name(names.get(key) or {})
    flagged = _with_flags(memberships, row)
    if after is None:
        return []
    if after != before:
        return _records(memberships, row.station_id, after)
    if flagged:  # only stations without line_stations entries take their lines from flags
        return _records(memberships, row.station_id, after, only=flagged - _listed(memberships, key))
    return []


def apply_line_station(names: Names, memberships: Memberships, row: LineStationRow) -> list[TableRecord]:
    """Record a station's place on a line branch; emit the (line, station) record."""
    key = str(row.station_id)
    lines = {line: dict(b) for line, b in (memberships.get(key) or {}).items()}
    branches = lines.setdefault(row.line, {})
    if branches.get(row.branch) != row.position:
        branches[row.branch] = row.position
        memberships[key] = lines
    name = majority_name(names.get(key) or {}) or row.station_name
    return [record(row.line, effective_lines(lines)[row.line], row.station_id, name)]


def encode(rec: TableRecord) -> tuple[bytes, bytes]:
    key, value = rec
    return key.encode(), json.dumps(value, separators=(",", ":")).encode()
