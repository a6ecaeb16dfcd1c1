"""The rewind's pure logic: simulated time against wall time per run, and the windows."""

from __future__ import annotations

from datetime import datetime

import pytest

from cta_core.errors import CtaError
from cta_core.records.status import SimStatus
from cta_tui.rewind import windows
from cta_tui.rewind.timeline import CHICAGO, StatusPoint, build_runs, format_sim, parse_sim_time, pick_run
from cta_tui.rewind_cli import run_rows

T0 = 1_800_000_000_000  # wall ms
S0 = int(datetime(2026, 3, 2, 8, 0, tzinfo=CHICAGO).timestamp() * 1000)  # 08:00 simulated


def _point(wall_s: float, sim_s: float, run: str = "r1", **kw: object) -> StatusPoint:
    status = SimStatus(run_id=run, sim_time_ms=S0 + int(sim_s * 1000), speed=60, **kw)  # type: ignore[arg-type]
    return StatusPoint(T0 + int(wall_s * 1000), status)


def test_runs_are_grouped_and_a_run_ends_where_the_next_begins() -> None:
    points = [_point(i, i * 60) for i in range(5)] + [_point(10 + i, i * 60, run="r2") for i in range(3)]
    runs = build_runs(points)
    assert [r.run_id for r in runs] == ["r1", "r2"]
    assert runs[0].ends_at_ms == T0 + 10_000 and runs[1].ends_at_ms is None
    assert pick_run(runs, None).run_id == "r2" and pick_run(runs, "r1").run_id == "r1"
    with pytest.raises(CtaError, match="no run nope"):
        pick_run(runs, "nope")
    with pytest.raises(CtaError, match="no simulator run"):
        pick_run([], None)


def test_overlapping_runs_do_not_end_each_other() -> None:
    points = [_point(i, i * 60) for i in range(10)] + [_point(2 + i, i * 60, run="beside") for i in range(3)]
    runs = {r.run_id: r for r in build_runs(points)}
    assert runs["r1"].ends_at_ms is None and runs["beside"].ends_at_ms is None


def test_wall_for_interpolates_between_statuses_and_ends_a_pause_late() -> None:
    points = [
        _point(0, 0),
        _point(1, 60),
        _point(2, 60, paused=True),
        _point(3, 60, paused=True),
        _point(4, 120),
    ]
    (run,) = build_runs(points)
    assert run.wall_for(S0 + 30_000, T0 + 99_000) == T0 + 500
    # the clock stood at 08:01 from wall 1 s to 3 s: the moment is the end of that stretch
    assert run.wall_for(S0 + 60_000, T0 + 99_000) == T0 + 4_000 - 1
    # at or past the last status: everything up to now (the run is still going)
    assert run.wall_for(S0 + 120_000, T0 + 99_000) == T0 + 99_000
    assert run.sim_for(T0 + 500) == S0 + 30_000
    assert run.status_at(T0 + 2_500).status.paused
    with pytest.raises(CtaError, match="earliest it can show is 08:00"):
        run.wall_for(S0 - 60_000, T0)


def test_times_parse_on_the_runs_day_and_as_iso() -> None:
    (run,) = build_runs([_point(0, 0), _point(1, 3600)])
    assert parse_sim_time("08:30", run) == S0 + 1_800_000
    assert parse_sim_time("08:30:15", run) == S0 + 1_815_000
    assert parse_sim_time("2026-03-02T08:30:00", run) == S0 + 1_800_000
    assert format_sim(S0 + 1_815_000, seconds=True) == "08:30:15"
    for bad in ("8h30", "25:00", "08:61", ""):
        with pytest.raises(ValueError):
            parse_sim_time(bad, run)


def test_a_run_across_midnight_takes_the_day_it_crosses_into() -> None:
    (run,) = build_runs([_point(0, 15 * 3600 + 1800), _point(1, 17 * 3600)])  # 23:30 to 01:00
    assert format_sim(parse_sim_time("00:30", run)) == "00:30"
    assert parse_sim_time("00:30", run) > parse_sim_time("23:45", run)


def test_plan_stays_in_the_run_and_covers_an_hour_of_history() -> None:
    (run,) = build_runs([_point(i, i * 60) for i in range(120)])  # 08:00 to 09:59, 60x
    p = windows.plan(run, S0 + 90 * 60_000, T0 + 1_000_000, replay_ms=300_000)
    assert p.at_ms == T0 + 90_000
    assert p.since_ms == T0 + 30_000  # five wall minutes are five simulated hours: one is read
    early = windows.plan(run, S0 + 10 * 60_000, T0 + 1_000_000, replay_ms=300_000)
    assert early.since_ms == T0 and early.history_ms == T0  # never before the run began
    assert p.history_ms == T0 + 30_000  # an hour of simulated time before
    assert windows.bounded_start(-1, 0, 50) == 50  # nothing in the window
    assert windows.bounded_start(3, 10, 50) == 10  # below the log's start (retention)
    assert windows.bounded_start(3, 0, 50_000, keep=100) == 49_900
    assert windows.kept_per_partition(3) * 3 >= windows.PREDICTIONS_KEPT > windows.kept_per_partition(3) * 2
    assert windows.end_offset(-1, 70) == 70 and windows.end_offset(20, 70) == 20


def test_summary_reading_stops_when_counts_and_history_are_covered() -> None:
    done = windows.summary_done
    assert done(set(), {1}, None, 0, at_start=True)
    assert not done({1}, {1, 2}, 5, 10, at_start=False)  # station 2 not seen yet
    assert done({1, 2}, {1, 2}, 5, 10, at_start=False)
    assert not done({1, 2}, {1, 2}, 15, 10, at_start=False)  # the hour is not covered
    assert done({1}, {1, 2}, 5, 10, at_start=False, idle=windows.SUMMARY_IDLE_CHUNKS)


def test_runs_rows_show_span_state_and_events() -> None:
    points = [_point(0, 0), _point(1, 60, produced={"a": 3, "b": 4})]
    (row,) = run_rows(build_runs(points), T0 + 5_000)
    assert (row["run_id"], row["sim_from"], row["sim_to"], row["events"], row["state"]) == (
        "r1",
        "08:00:00",
        "08:01:00",
        7,
        "live",
    )
