from __future__ import annotations

import json
import re

from stream_jobs import ksql_statements
from stream_jobs.summary import (
    Coalescer,
    apply_batch,
    decode_key,
    encode_key,
    encode_value,
    first_gap,
    next_offset,
    total,
    totals,
)


def test_counts_and_skips_offsets_already_counted() -> None:
    state, changed = apply_batch(None, [(0, 1), (1, 2), (2, 1)])
    assert state == {"offset": 2, "counts": {"1": 2, "2": 1}} and changed == {1, 2}
    # a replay after a restart (offsets 1..2 again) plus one new event
    again, changed = apply_batch(state, [(1, 2), (2, 1), (3, 2)])
    assert again == {"offset": 3, "counts": {"1": 2, "2": 2}} and changed == {2}
    assert state["counts"] == {"1": 2, "2": 1}  # the old state is not mutated


def test_skipped_messages_advance_the_offset_without_counting() -> None:
    state, changed = apply_batch(None, [(0, None), (1, 5)])
    assert state == {"offset": 1, "counts": {"5": 1}} and changed == {5}


def test_total_sums_partitions() -> None:
    states = [{"offset": 3, "counts": {"1": 2}}, {"offset": 9, "counts": {"1": 1, "2": 4}}]
    assert total(states, 1) == 3 and total(states, 2) == 4 and total(states, 3) == 0


def test_ksqldb_key_and_value_format() -> None:
    assert encode_key(40900) == b"\x00\x00\x9f\xc4"  # IntegerSerializer: 4 bytes, big-endian
    assert decode_key(encode_key(-7)) == -7
    assert json.loads(encode_value(40900, 12)) == {"STATION_ID": 40900, "COUNT": 12}


def test_faust_writes_the_value_columns_the_ksqldb_statement_selects() -> None:
    """The Faust summary stands in for ksqlDB's table: the same value columns. The key
    column (renamed, KEY_FORMAT KAFKA) is not in the value."""
    create = ksql_statements.objects()[1].create
    select = create.split(" AS SELECT ", 1)[1].split(" FROM ", 1)[0]
    aliases = [re.split(r"\s+AS\s+", col.strip())[-1] for col in select.split(",")]
    value_columns = [a for a in aliases if not a.endswith("_KEY")]
    assert "AS_VALUE(STATION_ID) AS STATION_ID" in select
    assert value_columns == list(json.loads(encode_value(1, 2)))


def test_totals_over_partitions() -> None:
    states = [{"offset": 3, "counts": {"1": 2}}, {"offset": 9, "counts": {"1": 1, "2": 4}}]
    assert totals(states) == {1: 3, 2: 4}
    assert totals([]) == {}


def test_coalescer_writes_each_changed_station_once_per_flush() -> None:
    c = Coalescer()
    assert c.due({1: 3, 2: 4}) == [(1, 3), (2, 4)]  # the first flush writes everything known
    c.sent([(1, 3), (2, 4)])
    assert c.due({1: 3, 2: 4}) == []  # nothing changed: nothing written
    assert c.due({1: 9, 2: 4, 3: 1}) == [(1, 9), (3, 1)]  # only the latest count of what changed
    c.sent([(1, 9), (3, 1)])
    assert c.records == 4 and c.written == {1: 9, 2: 4, 3: 1}
    # a restart (a new coalescer) writes every station again: counts a killed worker
    # had not flushed reach the topic
    assert Coalescer().due({1: 9, 2: 4, 3: 1}) == [(1, 9), (2, 4), (3, 1)]


def test_first_gap_finds_offsets_never_delivered() -> None:
    state = {"offset": 9, "counts": {}}
    assert next_offset(state, earliest=0) == 10 and next_offset(None, earliest=4) == 4
    assert first_gap(10, [7, 8, 9, 10, 11]) is None  # replays, then the next ones
    assert first_gap(10, [10, 11, 14, 15]) == 12
    assert first_gap(10, [13]) == 10
    assert first_gap(0, [98, 99]) == 0  # a partition whose first records never arrived
    assert first_gap(0, []) is None
