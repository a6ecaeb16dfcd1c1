"""The dashboard's pure state model: reducers and derived views."""

from __future__ import annotations

import json

import pytest

from cta_core import topics
from cta_tui.line.view import line_rows
from cta_tui.state.model import DOWN, UP, DashboardState
from cta_tui.state.records import Batch, Record
from cta_tui.state.reducers import apply_batch, apply_records, entries_per_minute
from cta_tui.state.snapshot import snapshot, snapshot_json
from cta_tui.station.view import approaching
from tests.support.tui_samples import arrival, station_records

NOW = 1_700_000_000.0


def loaded(stations: list[Record]) -> DashboardState:
    state = DashboardState()
    apply_records(state, topics.STATIONS_TABLE, stations, NOW)
    return state


def test_arrival_moves_train_and_clears_previous_station(stations: list[Record]) -> None:
    state = loaded(stations)
    apply_records(state, topics.ARRIVALS, [arrival("R1", 40900, 1)], NOW)
    assert [t.train_id for t in state.trains_at(40900)] == ["R1"]

    apply_records(state, topics.ARRIVALS, [arrival("R1", 41190, 2, prev=40900)], NOW)

    assert state.trains_at(40900) == []
    assert [t.train_id for t in state.trains_at(41190)] == ["R1"]
    assert state.trains["R1"].heading == DOWN  # Howard (order 0) -> Jarvis (order 1)
    rows = {r.station.station_id: r for r in line_rows(state, "red", NOW)}
    assert rows[40900].down_at == [] and [t.train_id for t in rows[41190].down_at] == ["R1"]
    assert [e.train_id for e in state.boards[41190]] == ["R1"]


def test_heading_learned_from_previous_station(stations: list[Record]) -> None:
    state = loaded(stations)
    apply_records(state, topics.ARRIVALS, [arrival("R2", 41300, 1, prev=40760, direction="a")], NOW)
    assert state.trains["R2"].heading == UP
    # a later train in the same direction without a previous station gets the learned heading
    apply_records(state, topics.ARRIVALS, [arrival("R3", 40760, 1, direction="a")], NOW)
    assert state.trains["R3"].heading == UP


def test_unknown_station_arrivals_wait_for_stations_table(stations: list[Record]) -> None:
    state = DashboardState()
    apply_records(state, topics.ARRIVALS, [arrival("R1", 40100, 1), arrival("R2", 41300, 1)], NOW)
    assert state.trains == {}
    assert len(state.pending_arrivals) == 2

    apply_records(state, topics.STATIONS_TABLE, stations, NOW)

    assert len(state.pending_arrivals) == 0
    assert state.trains["R1"].station_id == 40100
    assert state.trains["R2"].station_id == 41300


def test_stale_sequence_is_ignored(stations: list[Record]) -> None:
    state = loaded(stations)
    apply_records(state, topics.ARRIVALS, [arrival("R1", 41190, 5, prev=40900)], NOW)
    changed = apply_records(state, topics.ARRIVALS, [arrival("R1", 40900, 4)], NOW)
    assert changed == 0
    assert state.trains["R1"].station_id == 41190
    assert state.stale_arrivals == 1


def test_stations_in_one_batch_apply_before_arrivals(stations: list[Record]) -> None:
    state = DashboardState()
    batch = Batch()
    batch.add(arrival("R1", 41300, 1))
    for r in stations:
        batch.add(r)
    apply_batch(state, batch, NOW)
    assert state.trains["R1"].station_id == 41300 and not state.pending_arrivals


def test_summary_counts_accept_upper_and_lower_case_and_key_ids(stations: list[Record]) -> None:
    state = loaded(stations)
    records = [
        Record(topics.TURNSTILE_SUMMARY, None, {"STATION_ID": 40900, "COUNT": 10}),
        Record(topics.TURNSTILE_SUMMARY, 41190, {"count": 7}),
        Record(topics.TURNSTILE_SUMMARY, {"STATION_ID": 40100}, {"COUNT": 3}),
        Record(topics.TURNSTILE_SUMMARY, "not-an-id", {"COUNT": 3}),
    ]
    apply_records(state, topics.TURNSTILE_SUMMARY, records, NOW)
    assert state.turnstile_counts == {40900: 10, 41190: 7, 40100: 3}
    assert state.topics[topics.TURNSTILE_SUMMARY].malformed == 1

    apply_records(
        state,
        topics.TURNSTILE_SUMMARY,
        [Record(topics.TURNSTILE_SUMMARY, None, {"STATION_ID": 40900, "COUNT": 25})],
        NOW,
    )
    assert state.turnstile_counts[40900] == 25
    minute = int(NOW // 60)
    assert entries_per_minute(state, 40900, minute, 3) == [0.0, 0.0, 15.0]


def test_weather_none_until_first_reading_then_latest() -> None:
    state = DashboardState()
    assert state.weather is None
    assert snapshot(state, NOW)["weather"] is None
    apply_records(
        state,
        topics.WEATHER,
        [
            Record(topics.WEATHER, None, {"temperature": 50.0, "status": "sunny", "sim_time": 2000}),
            Record(topics.WEATHER, None, {"temperature": 41.0, "status": "windy", "sim_time": 1000}),
            Record(topics.WEATHER, None, {"temperature": "warm", "status": "windy"}),
        ],
        NOW,
    )
    assert state.weather is not None
    assert (state.weather.temperature_f, state.weather.status) == (50.0, "sunny")
    assert round(state.weather.temperature_c, 1) == 10.0
    assert state.topics[topics.WEATHER].malformed == 1


def test_weather_from_an_earlier_run_ahead_of_the_clock_is_not_shown() -> None:
    """A second run on the same day starts at 05:00 again; the first run's readings from
    later hours must not stay on screen as the current weather."""
    hour = 3_600_000
    state = DashboardState()

    def weather(temp: float, sim_time: int) -> Record:
        return Record(topics.WEATHER, None, {"temperature": temp, "status": "sunny", "sim_time": sim_time})

    def status(sim_time_ms: int) -> Record:
        return Record(
            topics.SIM_STATUS, "run2", {"run_id": "run2", "paused": False, "sim_time_ms": sim_time_ms}
        )

    apply_records(state, topics.WEATHER, [weather(70.0, 20 * hour)], NOW)  # the old run, 20:00
    assert state.weather is not None and state.weather.temperature_f == 70.0
    apply_records(state, topics.SIM_STATUS, [status(5 * hour)], NOW)  # the new run, 05:00
    assert state.weather is None
    apply_records(state, topics.WEATHER, [weather(71.0, 21 * hour), weather(35.0, 5 * hour)], NOW)
    assert state.weather is not None and state.weather.temperature_f == 35.0
    apply_records(state, topics.WEATHER, [weather(34.0, 4 * hour)], NOW)  # older: kept out
    assert state.weather.temperature_f == 35.0


def test_sim_status_and_snapshot_json(stations: list[Record]) -> None:
    state = loaded(stations)
    status = {
        "run_id": "r1",
        "state": "paused",
        "sim_time": "2026-11-29T05:03:12.250-06:00",
        "sim_time_ms": 1_795_950_192_250,
        "speed": 60.0,
        "paused": True,
        "last_command_id": "c1",
        "trains": 3,
    }
    apply_records(state, topics.SIM_STATUS, [Record(topics.SIM_STATUS, "r1", status)], NOW)
    apply_records(state, topics.ARRIVALS, [arrival("R1", 40100, 1)], NOW)
    assert state.sim is not None and state.sim.paused and state.sim.last_command_id == "c1"
    data = json.loads(snapshot_json(state, NOW))
    assert data["sim"]["paused"] is True and data["sim"]["speed"] == 60.0
    assert data["lines"]["red"]["trains"][0]["station_name"] == "Morse"
    assert [s["name"] for s in data["lines"]["red"]["stations"]][:2] == ["Howard", "Jarvis"]
    assert data["trains"] == 1


def test_green_branches_follow_trunk() -> None:
    stations = [
        *station_records("green", [(40020, "Harlem/Lake"), (41120, "Garfield")]),
        Record(
            topics.STATIONS_TABLE,
            None,
            {
                "station_id": 40720,
                "station_name": "Cottage Grove",
                "order": 2,
                "line": "green",
                "branch": "cottagegrove",
            },
        ),
        Record(
            topics.STATIONS_TABLE,
            None,
            {
                "station_id": 40290,
                "station_name": "Ashland/63rd",
                "order": 2,
                "line": "green",
                "branch": "ashland63",
            },
        ),
    ]
    state = DashboardState()
    apply_records(state, topics.STATIONS_TABLE, stations, NOW)
    rows = line_rows(state, "green", NOW)
    assert [r.station.name for r in rows] == ["Harlem/Lake", "Garfield", "Ashland/63rd", "Cottage Grove"]
    assert [r.branch_start for r in rows] == [None, None, "ashland63", "cottagegrove"]


def test_approaching_lists_trains_heading_to_station(stations: list[Record]) -> None:
    state = loaded(stations)
    apply_records(
        state,
        topics.ARRIVALS,
        [arrival("R1", 41190, 2, prev=40900), arrival("R9", 40760, 3, prev=None, direction="a")],
        NOW,
    )
    near = approaching(state, 41300)
    assert [(a.train.train_id, a.stops_away) for a in near[DOWN]] == [("R1", 2)]


def test_malformed_arrival_counted_not_raised(stations: list[Record]) -> None:
    state = loaded(stations)
    apply_records(
        state,
        topics.ARRIVALS,
        [Record(topics.ARRIVALS, None, {"train_id": "x"}), Record(topics.ARRIVALS, None, "junk")],
        NOW,
    )
    assert state.topics[topics.ARRIVALS].malformed == 2
    assert state.trains == {}


@pytest.fixture
def stations() -> list[Record]:
    return station_records()


def test_station_rows_replace_by_key_and_tombstone_removes(stations: list[Record]) -> None:
    state = loaded(stations)
    # docs/jobs.md: a trunk station may briefly carry a branch; the later value has none
    rename = {"station_id": 40100, "station_name": "Morse Ave", "order": 2, "line": "red"}
    apply_records(state, topics.STATIONS_TABLE, [Record(topics.STATIONS_TABLE, "red:40100", rename)], NOW)
    assert state.lines["red"].stations[40100].name == "Morse Ave"
    apply_records(state, topics.STATIONS_TABLE, [Record(topics.STATIONS_TABLE, "red:40100", None)], NOW)
    assert 40100 not in state.lines["red"].stations and not state.known_station(40100)


def test_the_same_hours_reading_twice_shows_once() -> None:
    """A retried weather POST that the proxy had already written puts the same reading
    on the topic twice; the dashboard shows it once (nothing changes, nothing repaints)."""
    state = DashboardState()
    reading = {"temperature": 71.5, "status": "sunny", "sim_time": 1_783_501_200_000}
    first = apply_records(state, topics.WEATHER, [Record(topics.WEATHER, None, reading, None)], 0.0)
    again = apply_records(state, topics.WEATHER, [Record(topics.WEATHER, None, dict(reading), None)], 1.0)
    assert (first, again) == (1, 0)
    assert state.weather is not None and state.weather.received_at == 0.0
    nxt = {**reading, "sim_time": reading["sim_time"] + 3_600_000, "temperature": 73.0}
    assert apply_records(state, topics.WEATHER, [Record(topics.WEATHER, None, nxt, None)], 2.0) == 1


def test_station_board_lists_arrivals_newest_first_when_read_out_of_order(stations: list[Record]) -> None:
    """Arrivals of different trains come from different partitions: a later one can be
    read first; the board still lists them by simulated time, newest first."""
    state = loaded(stations)
    apply_records(state, topics.ARRIVALS, [arrival("R1", 41190, 5), arrival("R2", 41190, 3)], NOW)
    apply_records(state, topics.ARRIVALS, [arrival("R3", 41190, 4)], NOW)
    assert [e.train_id for e in state.boards[41190]] == ["R1", "R3", "R2"]


def test_full_station_board_keeps_the_newest_arrivals(stations: list[Record]) -> None:
    from cta_tui.state.model import BOARD_SIZE

    state = loaded(stations)

    def at(train: str, ms: int) -> Record:  # arrivals 10 simulated seconds apart
        return arrival(train, 41190, 1, sim_time=ms)

    apply_records(
        state, topics.ARRIVALS, [at(f"T{i}", 1_000_000 + i * 10_000) for i in range(BOARD_SIZE)], NOW
    )
    apply_records(state, topics.ARRIVALS, [at("OLD", 995_000), at("MID", 1_055_000)], NOW)
    ids = [e.train_id for e in state.boards[41190]]
    assert len(ids) == BOARD_SIZE and "OLD" not in ids
    assert ids.index("MID") + 1 == ids.index("T5") and ids[-1] == "T1"  # T0 made room


def test_a_new_simulator_run_tops_the_station_board(stations: list[Record]) -> None:
    state = loaded(stations)
    apply_records(state, topics.ARRIVALS, [arrival("R1", 41190, 100)], NOW)
    apply_records(state, topics.ARRIVALS, [arrival("R9", 41190, 1)], NOW)  # 99 simulated min earlier
    assert [e.train_id for e in state.boards[41190]] == ["R9", "R1"]
