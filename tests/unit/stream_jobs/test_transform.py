from __future__ import annotations

import json

import pytest

from stream_jobs.stations_rows import course_station_rows
from stream_jobs.transform import (
    LineStationRow,
    MalformedRow,
    StationRow,
    apply_line_station,
    apply_station,
    encode,
    majority_name,
    parse_line_station,
    parse_station,
)


def _state() -> tuple[dict, dict]:
    return {}, {}


def test_line_station_row_gives_one_record_keyed_by_line_and_station() -> None:
    names, lines = _state()
    out = apply_line_station(names, lines, LineStationRow("red", "main", 0, 40900, "Howard"))
    assert out == [("red:40900", {"station_id": 40900, "station_name": "Howard", "order": 0, "line": "red"})]
    key, value = encode(out[0])
    assert key == b"red:40900" and json.loads(value)["order"] == 0


def test_branch_only_for_stations_on_exactly_one_named_branch() -> None:
    names, lines = _state()
    first = apply_line_station(names, lines, LineStationRow("green", "ashland63", 3, 40020, "Harlem"))
    assert first[0][1]["branch"] == "ashland63"
    second = apply_line_station(names, lines, LineStationRow("green", "cottagegrove", 3, 40020, "Harlem"))
    assert "branch" not in second[0][1] and second[0][1]["order"] == 3
    south = apply_line_station(
        names, lines, LineStationRow("green", "cottagegrove", 27, 40720, "Cottage Grove")
    )
    assert south[0][1]["branch"] == "cottagegrove"


def test_first_platform_name_re_emits_the_station_on_every_line() -> None:
    names, lines = _state()
    apply_line_station(names, lines, LineStationRow("red", "main", 0, 40900, "Howard"))
    apply_line_station(names, lines, LineStationRow("purple", "main", 3, 40900, "Howard"))
    out = apply_station(names, lines, StationRow(1, 40900, "Howard"))
    assert sorted(k for k, _ in out) == ["purple:40900", "red:40900"]
    assert apply_station(names, lines, StationRow(1, 40900, "Howard")) == []  # replay: nothing new


def test_rename_reaches_every_line_once_the_platforms_agree() -> None:
    names, lines = _state()
    for stop in (1, 2):
        apply_station(names, lines, StationRow(stop, 7, "Old"))
    apply_line_station(names, lines, LineStationRow("red", "main", 5, 7, "Old"))
    apply_line_station(names, lines, LineStationRow("blue", "main", 9, 7, "Old"))
    # one of two platforms renamed: a tie, broken alphabetically ("Old" < "Zed"), no change
    assert apply_station(names, lines, StationRow(1, 7, "Zed")) == []
    out = apply_station(names, lines, StationRow(2, 7, "Zed"))
    assert dict(out) == {
        "blue:7": {"station_id": 7, "station_name": "Zed", "order": 9, "line": "blue"},
        "red:7": {"station_id": 7, "station_name": "Zed", "order": 5, "line": "red"},
    }
    # a line row arriving later takes the platforms' name, not its own column
    late = apply_line_station(names, lines, LineStationRow("red", "main", 5, 7, "Old"))
    assert late[0][1]["station_name"] == "Zed"


def test_typo_on_one_platform_is_outvoted() -> None:
    assert (
        majority_name({"1": "95th/Dan Ryan", "2": "95th/Dan Ryan", "3": "95th/Ran Ryan"}) == "95th/Dan Ryan"
    )
    assert majority_name({}) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        None,
        b'{"stop_id": 1, "station_name": "x"}',
        b'{"stop_id": "a", "station_id": 1, "station_name": "x"}',
    ],
)
def test_malformed_station_rows(raw: bytes | None) -> None:
    with pytest.raises(MalformedRow):
        parse_station(raw)


def test_parse_rows_as_connect_sends_them() -> None:
    row = parse_station(
        b'{"stop_id": 30001, "direction_id": "E", "station_name": "Austin", "station_id": 40010, "red": false}'
    )
    assert row == StationRow(30001, 40010, "Austin")
    ls = parse_line_station(
        b'{"line": "Blue", "branch": "main", "position": 32, "station_id": 40390, "station_name": "Forest Park"}'
    )
    assert ls == LineStationRow("blue", "main", 32, 40390, "Forest Park")
    with pytest.raises(MalformedRow, match="unknown line"):
        parse_line_station(
            b'{"line": "mauve", "branch": "main", "position": 1, "station_id": 1, "station_name": "x"}'
        )
    with pytest.raises(MalformedRow, match="negative"):
        parse_line_station(
            b'{"line": "red", "branch": "main", "position": -1, "station_id": 1, "station_name": "x"}'
        )


def test_the_course_table_alone_gives_one_record_per_line_and_station_in_table_order() -> None:
    names, lines = _state()
    latest: dict[str, dict] = {}
    emitted: dict[str, int] = {}
    rows = course_station_rows()
    assert len(rows) == 230  # platform rows (docs: shared data README)
    for row in rows:
        for key, value in apply_station(names, lines, parse_station(json.dumps(row))):
            latest[key] = value
            emitted[key] = emitted.get(key, 0) + 1
    expected = {f"{line}:{r['station_id']}": r for r in rows for line in ("red", "blue", "green") if r[line]}
    assert set(latest) == set(expected)
    # one record each (the second platform repeats nothing); 95th/Dan Ryan again when its
    # typo'd platform name ("95th/Ran Ryan") is outvoted
    assert {k for k, n in emitted.items() if n > 1} <= {"red:40450"}
    for key, value in latest.items():
        row = expected[key]
        platforms = {
            str(r["stop_id"]): r["station_name"] for r in rows if r["station_id"] == row["station_id"]
        }
        assert value == {
            "station_id": row["station_id"],
            "station_name": majority_name(platforms),
            "order": row["order"],
            "line": key.split(":")[0],
        }
    # Brown Line platforms (all three flags false) give nothing
    assert not any(k.startswith("brown:") for k in latest)


def test_line_stations_entries_take_precedence_over_flags() -> None:
    names, lines = _state()
    flagged = {"stop_id": 1, "station_id": 7, "station_name": "Seven", "order": 4, "red": True, "blue": True}
    assert [k for k, _v in apply_station(names, lines, parse_station(json.dumps(flagged)))] == [
        "red:7",
        "blue:7",
    ]
    out = apply_line_station(names, lines, LineStationRow("red", "main", 11, 7, "Seven"))
    assert out == [("red:7", {"station_id": 7, "station_name": "Seven", "order": 11, "line": "red"})]
    # a later flag row for a station listed in line_stations emits nothing new
    again = {**flagged, "stop_id": 2, "order": 9}
    assert apply_station(names, lines, parse_station(json.dumps(again))) == []
    # and a rename re-emits only the line_stations lines
    renamed = [{**flagged, "stop_id": s, "station_name": "Sept"} for s in (1, 2)]
    out = [rec for row in renamed for rec in apply_station(names, lines, parse_station(json.dumps(row)))]
    assert [(k, v["order"], v["station_name"]) for k, v in out] == [("red:7", 11, "Sept")]


def test_flags_may_come_as_strings_and_order_may_be_missing() -> None:
    row = parse_station(
        json.dumps({"stop_id": 1, "station_id": 2, "station_name": "X", "green": "t", "red": "false"})
    )
    assert row.lines == ("green",) and row.order is None
