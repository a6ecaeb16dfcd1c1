"""Predictions in the pure state model: newest set per train, stale ones dropped, views."""

from __future__ import annotations

import json
from typing import Any

from cta_core import topics
from cta_tui.line.view import line_rows
from cta_tui.state.model import DashboardState
from cta_tui.state.records import Deferred, Record
from cta_tui.state.reducers import apply_records
from cta_tui.state.snapshot import snapshot
from tests.support.tui_samples import arrival, station_records

GEN = 1_000_000 + 60_000


def prediction(
    train: str, station: int, ahead_s: int, generated: int = GEN, written: int | None = None, **flags: Any
) -> Record:
    value = {
        "station_id": station,
        "line": "red",
        "direction": "b",
        "train_id": train,
        "destination": "Howard",
        "predicted_arrival": generated + ahead_s * 1000,
        "generated_at": generated,
        "approaching": False,
        "delayed": False,
        "fault": False,
        "scheduled": False,
        **flags,
    }
    return Record(topics.PREDICTIONS, {"station_id": station}, value, written)


def test_a_trains_newest_set_replaces_its_older_one() -> None:
    state = DashboardState()
    apply_records(state, topics.PREDICTIONS, [prediction("R1", 41300, 60), prediction("R1", 40100, 200)], 0.0)
    assert [e.train_id for e in state.predictions.next_at(41300)] == ["R1"]
    # R1 reached Loyola: its next set no longer lists it
    apply_records(state, topics.PREDICTIONS, [prediction("R1", 40100, 100, generated=GEN + 90_000)], 0.0)
    assert state.predictions.next_at(41300) == []
    assert [e.station_id for e in state.predictions.train_stops("R1")] == [40100]
    # an older set read late changes nothing
    apply_records(state, topics.PREDICTIONS, [prediction("R1", 41300, 60)], 0.0)
    assert state.predictions.next_at(41300) == []


def test_labels_due_and_minutes_and_malformed_records_are_counted() -> None:
    state = DashboardState()
    bad = Record(topics.PREDICTIONS, None, {"station_id": "x"})
    apply_records(
        state, topics.PREDICTIONS, [prediction("R1", 41300, 45), prediction("R2", 41300, 430), bad], 0.0
    )
    labels = [e.minutes_label(state.predictions.now_ms) for e in state.predictions.next_at(41300)]
    assert labels == ["Due", "7 min"]
    assert state.predictions.malformed == 1


def test_line_view_and_json_show_predictions() -> None:
    state = DashboardState()
    apply_records(state, topics.STATIONS_TABLE, station_records(), 0.0)
    apply_records(state, topics.ARRIVALS, [arrival("R1", 41190, 1)], 0.0)
    apply_records(state, topics.PREDICTIONS, [prediction("R1", 40900, 120, delayed=True)], 0.0)
    rows = line_rows(state, "red", 0.0)
    assert all("R1" in row.delayed for row in rows)
    out = json.loads(json.dumps(snapshot(state, 0.0)))
    assert out["predictions"]["40900"][0]["train_id"] == "R1"
    assert out["predictions"]["40900"][0]["delayed"] is True
    assert out["predictions"]["40900"][0]["due"] == "2 min"


def test_a_new_simulator_run_replaces_the_earlier_runs_predictions() -> None:
    """A restarted simulator's clock starts again: its sets are far older than the ones
    the book holds from the earlier run, and replace them instead of being ignored."""
    state = DashboardState()
    later = GEN + 90 * 60_000  # the earlier run had reached 90 simulated minutes further
    apply_records(state, topics.PREDICTIONS, [prediction("R1", 41300, 180, generated=later)], 0.0)
    apply_records(state, topics.PREDICTIONS, [prediction("R2", 41300, 300, generated=later)], 0.0)
    apply_records(state, topics.PREDICTIONS, [prediction("R1", 41300, 60)], 1.0)
    board = state.predictions.next_at(41300)
    assert [(e.train_id, e.generated_ms) for e in board] == [("R1", GEN)]


def test_predictions_wait_undecoded_until_a_view_asks_and_their_number_is_bounded() -> None:
    from cta_tui.state.predictions import PENDING_MAX

    decoded: list[int] = []

    def decode_many(datas: list[bytes | None]) -> list[Any]:
        decoded.append(len(datas))
        return [json.loads(d) if d and d.startswith(b"{") else "malformed" for d in datas]

    def deferred(record: Record) -> Record:
        return Record(record.topic, None, Deferred(json.dumps(record.value).encode(), decode_many))

    state = DashboardState()
    records = [deferred(prediction("R1", 41300, 60)), deferred(prediction("R2", 41300, 90))]
    records.append(Record(topics.PREDICTIONS, None, Deferred(b"not json", decode_many)))
    apply_records(state, topics.PREDICTIONS, records, 0.0)
    assert decoded == []  # nothing shows predictions yet: nothing decoded
    assert [e.train_id for e in state.predictions.next_at(41300)] == ["R1", "R2"]
    assert decoded == [3]  # one bulk decode, when the board asked
    assert state.predictions.malformed == 1
    state.predictions.next_at(41300)
    assert decoded == [3]
    apply_records(state, topics.PREDICTIONS, [records[0]] * (PENDING_MAX + 10), 0.0)
    assert len(state.predictions.pending) == PENDING_MAX


def test_a_batch_with_deferred_values_is_settled_before_it_is_sent_to_ssh_sessions() -> None:
    import pickle
    import threading

    import pytest

    from cta_tui.ssh.hub import encode_frame
    from cta_tui.state.records import Batch, Deferred, settle_batch

    lock = threading.Lock()  # a real decoder holds its consumer: neither can be pickled

    def decode_many(datas: list[bytes | None], lock: Any = lock) -> list[Any]:
        return [json.loads(d) if d else None for d in datas]

    value = prediction("R1", 41300, 60).value
    record = Record(topics.PREDICTIONS, None, Deferred(json.dumps(value).encode(), decode_many))
    batch = Batch(records={topics.PREDICTIONS: [record]})
    with pytest.raises((TypeError, AttributeError, pickle.PicklingError)):
        encode_frame("batch", batch)
    settle_batch(batch)
    assert encode_frame("batch", batch)
    assert pickle.loads(pickle.dumps(batch)).records[topics.PREDICTIONS][0].value == value


def test_a_backlog_read_one_partition_ahead_of_another_gives_the_same_boards() -> None:
    """A set is spread over partitions (keyed by station): a dashboard starting up or a
    rewind reads one partition's backlog far ahead of another's. Read in either order the
    boards must be the same, and a partition read late must not look like a new run (a
    new run's sets are written later, see the test above)."""
    late = GEN + 15 * 60_000  # 15 simulated minutes on: more than a run's jump
    # written (Kafka timestamps, wall ms) in the order the sets were made
    station_a = [prediction("R1", 41300, 300, written=1), prediction("R2", 41300, 400, late, written=3)]
    station_b = [prediction("R1", 40100, 500, written=2), prediction("R3", 40100, 200, late, written=4)]

    def boards(order: list[list[Record]]) -> dict[int, list[str]]:
        state = DashboardState()
        apply_records(state, topics.PREDICTIONS, [r for part in order for r in part], 0.0)
        return {sid: [e.train_id for e in state.predictions.next_at(sid)] for sid in (41300, 40100)}

    assert boards([station_a, station_b]) == boards([station_b, station_a])
    assert boards([station_a, station_b])[40100] == ["R3"]  # R1's old set is past its arrival


def _keyed(record: Record, decode_many: Any) -> Record:
    """A predictions record as the Kafka feed keeps it: its value undecoded, its key the
    Confluent-framed Avro long of the station (schema id 3)."""
    from cta_core.avro import zigzag_long

    key = b"\x00\x00\x00\x00\x03" + zigzag_long(record.value["station_id"])
    return Record(
        record.topic, None, Deferred(json.dumps(record.value).encode(), decode_many, key), record.timestamp_ms
    )


def test_the_station_view_decodes_only_its_stations_records() -> None:
    decoded: list[bytes | None] = []

    def decode_many(datas: list[bytes | None]) -> list[Any]:
        decoded.extend(datas)
        return [json.loads(d) if d else None for d in datas]

    state = DashboardState()
    others = [_keyed(prediction(f"R{i}", 40000 + i, 60 + i), decode_many) for i in range(50)]
    mine = [
        _keyed(prediction("R1", 41300, 60), decode_many),
        _keyed(prediction("R2", 41300, 90), decode_many),
    ]
    # a record whose key is not framed Avro (another producer's JSON key) is decoded to tell
    odd = Record(
        topics.PREDICTIONS,
        None,
        Deferred(json.dumps(prediction("R3", 41300, 120).value).encode(), decode_many, b"41300"),
    )
    apply_records(state, topics.PREDICTIONS, [*others[:25], mine[0], *others[25:], mine[1], odd], 0.0)
    entries, now_ms = state.predictions.at_station(41300)
    assert [e.train_id for e in entries] == ["R1", "R2", "R3"]
    assert now_ms == GEN
    assert len(decoded) == 3  # Loyola's two records and the unframed one; 50 others not
    assert len(state.predictions.pending) == 53  # still there for the screens that read all
    state.predictions.at_station(41300)
    assert len(decoded) == 3  # nothing new: nothing decoded again
    # a full read (the line view) seeds the view again from what it applied: same answer
    assert [e.train_id for e in state.predictions.next_at(41300)] == ["R1", "R2", "R3"]
    assert [e.train_id for e in state.predictions.at_station(41300)[0]] == ["R1", "R2", "R3"]


def test_the_station_view_hides_a_train_once_it_arrived_there() -> None:
    state = DashboardState()
    apply_records(
        state, topics.STATIONS_TABLE, station_records("red", [(40900, "Howard"), (41300, "Loyola")]), 0.0
    )
    apply_records(state, topics.PREDICTIONS, [prediction("R1", 41300, 60), prediction("R2", 41300, 300)], 0.0)
    assert [e.train_id for e in state.predictions.at_station(41300)[0]] == ["R1", "R2"]
    # R1 arrives at Loyola after its set was made: gone, though no newer set was read
    apply_records(state, topics.ARRIVALS, [arrival("R1", 41300, 2, sim_time=GEN + 55_000)], 0.0)
    assert [e.train_id for e in state.predictions.at_station(41300)[0]] == ["R2"]
    # an arrival of R2 before its set was made (its earlier trip) hides nothing
    apply_records(state, topics.ARRIVALS, [arrival("R2", 41300, 1, sim_time=GEN - 30_000)], 0.0)
    assert [e.train_id for e in state.predictions.at_station(41300)[0]] == ["R2"]
    # an arrival from another simulator run (hours away) hides nothing either
    apply_records(state, topics.ARRIVALS, [arrival("R2", 41300, 9, sim_time=GEN + 5 * 3600_000)], 0.0)
    assert [e.train_id for e in state.predictions.at_station(41300)[0]] == ["R2"]
    # and the view forgets what is long past: R2 was due 5 minutes in, R7 is 9 minutes on
    later = prediction("R7", 41300, 60, generated=GEN + 9 * 60_000)
    apply_records(state, topics.PREDICTIONS, [later], 0.0)
    assert [e.train_id for e in state.predictions.at_station(41300)[0]] == ["R7"]
