"""`cta-tui tail`'s kcat dialect, the pure parts: -o's forms resolved against a
partition's watermarks, -e's end test, and -f's format tokens."""

from __future__ import annotations

import pytest

from cta_tui.state.tail import JSON, TEXT, TailRecord
from cta_tui.tail_format import default_line, format_record
from cta_tui.tail_offsets import ABSOLUTE, FROM_END, TIMESTAMP, OffsetSpec, caught_up, parse_offset, resolve


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("beginning", OffsetSpec("beginning")),
        ("END", OffsetSpec("end")),
        ("42", OffsetSpec(ABSOLUTE, 42)),
        ("-10", OffsetSpec(FROM_END, 10)),
        ("s@1796216548556", OffsetSpec(TIMESTAMP, 1796216548556)),
    ],
)
def test_parse_offset_reads_kcats_forms(text: str, spec: OffsetSpec) -> None:
    assert parse_offset(text) == spec


@pytest.mark.parametrize("text", ["", "start", "1.5", "s@", "s@x", "--3", "e@5"])
def test_parse_offset_rejects_the_rest_naming_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"beginning, end, <offset>, -<N> or s@<epoch ms>"):
        parse_offset(text)


@pytest.mark.parametrize(
    ("text", "low", "high", "at_time", "start"),
    [
        ("beginning", 5, 20, None, 5),
        ("end", 5, 20, None, 20),
        ("7", 5, 20, None, 7),
        ("2", 5, 20, None, 5),  # below the oldest kept: the oldest
        ("99", 5, 20, None, 20),  # past the end: the end
        ("-3", 5, 20, None, 17),
        ("-100", 5, 20, None, 5),
        ("-0", 5, 20, None, 20),
        ("s@1000", 5, 20, 12, 12),
        ("s@1000", 5, 20, -1, 20),  # nothing that recent: the end
        ("s@1000", 5, 20, None, 20),
        ("beginning", 0, 0, None, 0),  # empty partition
    ],
)
def test_resolve_stays_within_the_watermarks(
    text: str, low: int, high: int, at_time: int | None, start: int
) -> None:
    assert resolve(parse_offset(text), low, high, at_time) == start


def test_caught_up_needs_every_partition_at_its_end() -> None:
    ends = {0: 10, 1: 0, 2: 5}
    assert not caught_up({0: 10, 1: 0}, ends)
    assert not caught_up({0: 9, 1: 0, 2: 5}, ends)
    assert caught_up({0: 10, 1: 0, 2: 7}, ends)


RECORD = TailRecord("t", 2, 41, 1796216548556, "k1", {"a": 1}, JSON, TEXT, (("trace", "abc"), ("n", "2")))


def test_format_record_fills_kcats_tokens() -> None:
    text = format_record(r"%t|%p|%o|%T|%k|%s|%h|%K|%S|100%%\n", RECORD)
    assert text == 't|2|41|1796216548556|k1|{"a":1}|trace=abc,n=2|2|7|100%\n'


def test_format_record_shows_absent_key_value_and_time_as_kcat_does() -> None:
    bare = TailRecord("t", 0, 0, None, None, None, "null", "null")
    assert format_record(r"[%k][%s][%K][%S][%T][%h]\t", bare) == "[][][-1][-1][-1][]\t"


def test_default_line_is_tab_separated() -> None:
    fields = default_line(RECORD).split("\t")
    assert fields[1:] == ["2", "41", "k1", '{"a":1}']


def test_json_line_carries_every_field() -> None:
    doc = RECORD.to_json()
    assert doc["headers"] == {"trace": "abc", "n": "2"}
    assert doc["timestamp_ms"] == 1796216548556 and doc["timestamp"].endswith("Z")
    assert (doc["topic"], doc["partition"], doc["offset"], doc["key"], doc["value"]) == (
        "t",
        2,
        41,
        "k1",
        {"a": 1},
    )
