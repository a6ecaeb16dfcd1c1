"""Pure tests: trains interpolated between stations, eight strips laid out on a screen,
the entries history bucketed by record time (the first-minute sparkline artefact)."""

from __future__ import annotations

import itertools

from cta_core import topics
from cta_tui.network.layout import layout_panels, strip_geometry, train_cell
from cta_tui.state.labels import place_labels
from cta_tui.state.model import DOWN, UP, DashboardState, Line, LineStation, SimStatus, Train
from cta_tui.state.motion import (
    MAX_FRACTION,
    line_paths,
    next_station,
    sim_clock_ms,
    train_position,
    travel_fraction,
)
from cta_tui.state.records import Record
from cta_tui.state.reducers import apply_arrivals, apply_summary, entries_per_minute
from cta_tui.state.snapshot import snapshot

NOW = 1_795_950_000.0
SIM_MS = 1_795_950_000_000


def sim(paused: bool = False, speed: float = 60.0, received_at: float = NOW) -> SimStatus:
    return SimStatus(
        run_id="run",
        state="paused" if paused else "running",
        sim_time_ms=SIM_MS,
        speed=speed,
        paused=paused,
        trains=1,
        received_at=received_at,
    )


def train(station: int, heading: str = DOWN, arrived_ms: int = SIM_MS, **kw) -> Train:
    return Train("T1", "red", station, "a", heading, kw.pop("status", "in_service"), 1, arrived_ms, NOW, **kw)


def red_state() -> DashboardState:
    state = DashboardState()
    line = state.lines["red"] = Line("red")
    for i, sid in enumerate((1, 2, 3, 4)):
        line.stations[sid] = LineStation(sid, f"S{sid}", i)
        state.station_names[sid] = f"S{sid}"
    return state


# --------------------------------------------------------------------------- interpolation


def test_travel_fraction_dwells_then_moves_then_clamps() -> None:
    run, dwell = 120_000, 30_000
    assert travel_fraction(0, run, 10_000, dwell) == 0.0  # still at the platform
    assert travel_fraction(0, run, 75_000, dwell) == 0.5  # half way: (75-30)/(120-30)
    assert travel_fraction(0, run, 10 * run, dwell) == MAX_FRACTION  # late: never reaches it alone
    assert travel_fraction(0, run, -5_000, dwell) == 0.0  # clock behind the arrival


def test_paused_simulator_stops_the_clock_and_the_motion() -> None:
    state = red_state()
    state.sim = sim(paused=True)
    assert sim_clock_ms(state, NOW + 30) == SIM_MS  # no extrapolation while paused
    state.sim = sim()
    assert sim_clock_ms(state, NOW + 2) == SIM_MS + 120_000  # 2 s at 60x
    paths = line_paths(state.lines["red"])
    t = train(1, arrived_ms=SIM_MS - 90_000)
    moving = train_position(state, t, sim_clock_ms(state, NOW + 1), paths).fraction
    state.sim = sim(paused=True)
    frozen = [train_position(state, t, sim_clock_ms(state, NOW + s), paths).fraction for s in (1, 5, 60)]
    assert frozen[0] == frozen[1] == frozen[2] < moving


def test_position_uses_learned_run_times_and_snaps_on_arrival() -> None:
    state = red_state()
    state.sim = sim()

    def arrive(station: int, prev: int | None, at_ms: int, seq: int) -> None:
        value = {"station_id": station, "train_id": "T1", "line": "red", "direction": "a"}
        value |= {"prev_station_id": prev, "sim_time": at_ms, "seq": seq}
        apply_arrivals(state, [Record(topics.ARRIVALS, "T1", value)], NOW)

    arrive(1, None, SIM_MS - 200_000, 1)
    arrive(2, 1, SIM_MS - 100_000, 2)  # a run of 100 s learned
    assert state.line_run_ms["red"] == 100_000.0
    paths = line_paths(state.lines["red"])
    t = state.trains["T1"]
    p = train_position(state, t, SIM_MS - 100_000 + 65_000, paths)
    assert (p.station_id, p.next_id) == (2, 3) and abs(p.fraction - 0.5) < 1e-9
    arrive(3, 2, SIM_MS - 30_000, 3)  # the arrival snaps it to station 3
    p = train_position(state, state.trains["T1"], SIM_MS - 30_000, paths)
    assert (p.station_id, p.next_id, p.fraction) == (3, 4, 0.0)


def test_terminal_and_broken_trains_stand_still() -> None:
    state = red_state()
    paths = line_paths(state.lines["red"])
    assert next_station(paths, train(4, DOWN)) is None
    assert next_station(paths, train(4, UP)) == 3
    broken = train(2, arrived_ms=SIM_MS - 500_000, status="broken_down")
    assert train_position(state, broken, SIM_MS, paths).fraction == 0.0


def test_green_branches_follow_the_trains_branch() -> None:
    line = Line("green")
    for i, sid in enumerate((1, 2, 3)):
        line.stations[sid] = LineStation(sid, f"S{sid}", i)
    line.stations[10] = LineStation(10, "A", 3, branch="ashland63")
    line.stations[20] = LineStation(20, "C", 3, branch="cottagegrove")
    paths = line_paths(line)
    assert paths == {"ashland63": [1, 2, 3, 10], "cottagegrove": [1, 2, 3, 20]}
    assert next_station(paths, train(3, branch="cottagegrove")) == 20
    assert next_station(paths, train(3, branch="ashland63")) == 10
    g = strip_geometry(paths, 40)
    assert len(g.rows) == 2 and g.at[20][0] == 1 and g.at[10][0] == 0
    assert g.junctions[1] == g.at[3][1]  # the branch row starts under the junction
    assert train_cell(g, 3, 20, 0.5)[0] == 1  # heading into the branch: on its row


# --------------------------------------------------------------------------- layout


def test_eight_strips_fit_80x24_and_get_richer_at_120x40() -> None:
    rows = [1, 1, 2, 1, 1, 1, 1, 1]  # Green has two branch rows
    small = layout_panels(80, 21, rows)
    assert small.total_height <= 21 and len(small.heights) == 8 and small.title
    assert small.strip_x + small.strip_width < 80  # nothing reaches the right edge
    big = layout_panels(120, 37, rows)
    assert big.labels and big.total_height <= 37
    tiny = layout_panels(80, 10, rows)
    assert tiny.tier == "dense" and tiny.heights == (1, 1, 2, 1, 1, 1, 1, 1)


def test_strip_spreads_stations_over_the_width() -> None:
    g = strip_geometry({None: [1, 2, 3, 4, 5]}, 41)
    assert [x for _, x in g.rows[0]] == [0, 10, 20, 30, 40]
    assert train_cell(g, 2, 3, 0.5) == (0, 15)


def test_labels_do_not_overlap_and_stay_inside() -> None:
    placed = place_labels([(0, "Howard", 2), (3, "Jarvis", 1), (19, "95th", 2), (12, "Morse", 1)], 20)
    spans = [(s, s + len(t)) for s, t in placed]
    assert all(s >= 0 and e <= 20 for s, e in spans)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))
    assert ("Howard" in dict((t, s) for s, t in placed)) and any(t == "95th" for _, t in placed)


# --------------------------------------------------------------------------- sparkline fix


def test_history_read_at_start_is_not_counted_in_the_first_minute() -> None:
    """A dashboard started after an hour of summaries: each increase goes to the minute
    it was written in, so the first bin holds only that minute's entries."""
    state = red_state()
    state.sim = sim()  # 60x: one wall second is one simulated minute
    records = [
        Record(
            topics.TURNSTILE_SUMMARY, 1, {"STATION_ID": 1, "COUNT": 100 + 10 * i}, int((NOW - 40 + i) * 1000)
        )
        for i in range(41)  # 40 wall seconds of history, 10 entries a second, the last one now
    ]
    apply_summary(state, records, NOW)
    minute = SIM_MS // 60_000
    bins = entries_per_minute(state, 1, minute, 20)
    assert bins[-1] <= 10  # this minute: one record's worth, not the whole history
    assert sum(entries_per_minute(state, 1, minute, 60)) == 400  # nothing lost within the hour


def test_once_json_has_panel_counts_and_interpolated_positions() -> None:
    state = red_state()
    state.sim = sim()
    state.trains["T1"] = train(2, arrived_ms=SIM_MS - 75_000, delay_s=300)
    out = snapshot(state, NOW)["lines"]["red"]
    assert out["panel"]["trains"] == 1 and out["panel"]["delayed"] == 1
    where = out["trains"][0]["interpolated"]
    assert where["station_id"] == 2 and where["next_station_id"] == 3 and 0 < where["fraction"] < 1


def test_a_restarted_simulator_run_replaces_the_old_runs_trains() -> None:
    """A new run numbers arrivals from 1 again: far from the train's last arrival in
    simulated time, a lower seq is another run, not a stale duplicate."""
    state = red_state()

    def arrive(station: int, at_ms: int, seq: int) -> None:
        value = {"station_id": station, "train_id": "T1", "line": "red", "sim_time": at_ms, "seq": seq}
        apply_arrivals(state, [Record(topics.ARRIVALS, "T1", value)], NOW)

    arrive(3, SIM_MS + 3 * 3_600_000, 500)  # the old run got further
    arrive(2, SIM_MS + 3 * 3_600_000 - 60_000, 499)  # a late duplicate of that run: stale
    assert state.trains["T1"].station_id == 3 and state.stale_arrivals == 1
    arrive(1, SIM_MS, 1)  # the new run, hours earlier
    assert state.trains["T1"].station_id == 1 and state.trains["T1"].seq == 1


def test_trains_far_from_the_clock_are_left_off_the_strips() -> None:
    from cta_tui.state.motion import line_positions

    state = red_state()
    state.sim = sim()
    state.trains["T1"] = train(2, arrived_ms=SIM_MS - 60_000)
    state.trains["T2"] = Train("T2", "red", 3, "a", DOWN, "in_service", 9, SIM_MS + 3_600_000, NOW)
    assert [p.train.train_id for p in line_positions(state, "red", SIM_MS)] == ["T1"]
