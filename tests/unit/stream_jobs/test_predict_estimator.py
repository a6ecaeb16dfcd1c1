"""The prediction estimator, pure: learning, summing, holds, fallback, changelog state."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from cta_core.records.arrival import BROKEN_DOWN, IN_SERVICE, Arrival
from stream_jobs.predict.estimator import Estimator
from stream_jobs.predict.routes import packaged

#: a weekday 07:00 in Chicago (am peak), epoch seconds
T0 = datetime(2026, 12, 1, 7, 0, tzinfo=ZoneInfo("America/Chicago")).timestamp()
#: Red line southbound ("a" from Howard): Howard, Jarvis, Morse, Loyola, Granville, Thorndale
RED = [40900, 41190, 40100, 41300, 40760, 40880]


def run_train(
    est: Estimator, train: str, start: float, times: list[float], stations: list[int] = RED
) -> list:
    """Arrivals of one train: at stations[0] at ``start``, then each segment time in turn."""
    t, prev, out = start, None, []
    for i, sid in enumerate(stations[: len(times) + 1]):
        if i:
            t += times[i - 1]
        out = est.observe(
            Arrival.at(
                t,
                sid,
                train,
                "a",
                "red",
                prev_station_id=prev,
                prev_direction="a" if prev else None,
                branch="main",
                seq=i + 1,
            )
        )
        prev = sid
    return out


def test_segment_times_are_learned_from_arrivals() -> None:
    est = Estimator(packaged())
    for n in range(4):
        run_train(est, f"red-{n}", T0 + n * 600, [100.0, 120.0, 90.0, 80.0, 70.0])
    # the first segment (Howard, a terminal) is never learned: it holds the layover
    assert est.segment_estimate("red", "a", RED[1], RED[2], T0) == (pytest.approx(120.0), False)
    assert est.segment_estimate("red", "a", RED[2], RED[3], T0) == (pytest.approx(90.0), False)
    _, scheduled = est.segment_estimate("red", "a", RED[0], RED[1], T0)
    assert scheduled


def test_prediction_two_segments_ahead_is_the_sum_of_learned_times() -> None:
    est = Estimator(packaged())
    for n in range(3):
        run_train(est, f"red-{n}", T0 + n * 900, [100.0, 120.0, 90.0, 80.0, 70.0])
    # a new train at Jarvis (came from Howard)
    t = T0 + 4000
    est.observe(Arrival.at(t, RED[0], "red-9", "a", "red", branch="main", seq=1))
    preds = est.observe(
        Arrival.at(t + 100, RED[1], "red-9", "a", "red", IN_SERVICE, RED[0], "a", "main", seq=2)
    )
    by_station = {p.station_id: p for p in preds}
    assert by_station[RED[3]].predicted_ms / 1000 == pytest.approx(t + 100 + 120.0 + 90.0)
    assert not by_station[RED[3]].scheduled
    assert by_station[RED[2]].predicted_ms / 1000 == pytest.approx(t + 100 + 120.0)


def test_recent_samples_weigh_more_and_held_ones_are_ignored() -> None:
    est = Estimator(packaged())
    for n, seg in enumerate([100.0, 100.0, 100.0, 110.0, 110.0]):
        run_train(est, f"red-{n}", T0 + n * 900, [60.0, seg])
    learned, _ = est.segment_estimate("red", "a", RED[1], RED[2], T0)
    assert 104.5 < learned < 110.0  # above the plain mean 104: the recent 110s weigh more
    run_train(est, "red-held", T0 + 9000, [60.0, 700.0])  # a train stood 10 minutes
    after, _ = est.segment_estimate("red", "a", RED[1], RED[2], T0)
    assert after == pytest.approx(learned, abs=0.01)


def test_a_broken_down_train_delays_its_followers() -> None:
    est = Estimator(packaged())
    for n in range(3):
        run_train(est, f"red-{n}", T0 + n * 900, [100.0, 120.0, 90.0, 80.0, 70.0])
    t = T0 + 5000
    # the follower at Jarvis, leader at Loyola: without a failure it runs freely
    est.observe(Arrival.at(t - 300, RED[2], "red-lead", "a", "red", IN_SERVICE, RED[1], "a", "main", seq=5))
    est.observe(Arrival.at(t - 210, RED[3], "red-lead", "a", "red", IN_SERVICE, RED[2], "a", "main", seq=6))
    est.observe(Arrival.at(t - 100, RED[0], "red-f", "a", "red", branch="main", seq=1))
    free = {
        p.station_id: p
        for p in est.observe(
            Arrival.at(t, RED[1], "red-f", "a", "red", IN_SERVICE, RED[0], "a", "main", seq=2)
        )
    }
    assert free[RED[4]].predicted_ms / 1000 == pytest.approx(t + 120 + 90 + 80)
    assert not free[RED[4]].delayed
    # now the leader breaks down at Granville, ahead of the follower
    est.observe(Arrival.at(t + 10, RED[4], "red-lead", "a", "red", BROKEN_DOWN, RED[3], "a", "main", seq=7))
    lead = {p.station_id: p for p in est.predictions_for("red-lead", t + 20)}
    assert all(p.fault for p in lead.values())
    held = {p.station_id: p for p in est.tick(t + 30) if p.train_id == "red-f"}
    assert held[RED[4]].predicted_ms / 1000 > free[RED[4]].predicted_ms / 1000 + 300
    assert held[RED[4]].delayed


def test_fallback_before_history_is_flagged_scheduled() -> None:
    est = Estimator(packaged())
    est.observe(Arrival.at(T0, RED[0], "red-1", "a", "red", branch="main", seq=1))
    preds = est.observe(
        Arrival.at(T0 + 90, RED[1], "red-1", "a", "red", IN_SERVICE, RED[0], "a", "main", seq=2)
    )
    assert preds
    assert all(p.scheduled for p in preds)
    assert [p.station_id for p in preds[:3]] == RED[2:5]
    assert all((p.predicted_ms - p.generated_ms) / 1000 <= 15 * 60 for p in preds)


def test_an_overdue_train_moves_forward_and_is_flagged_delayed() -> None:
    est = Estimator(packaged())
    for n in range(3):
        run_train(est, f"red-{n}", T0 + n * 900, [100.0, 120.0, 90.0])
    est.observe(Arrival.at(T0 + 5000, RED[0], "red-s", "a", "red", branch="main", seq=1))
    est.observe(Arrival.at(T0 + 5100, RED[1], "red-s", "a", "red", IN_SERVICE, RED[0], "a", "main", seq=2))
    late = est.predictions_for("red-s", T0 + 5100 + 120 + 200)
    assert late[0].station_id == RED[2]
    assert late[0].predicted_ms / 1000 >= T0 + 5100 + 320
    assert late[0].delayed


def test_state_round_trips_through_changelog_records() -> None:
    est = Estimator(packaged())
    for n in range(3):
        run_train(est, f"red-{n}", T0 + n * 900, [100.0, 120.0, 90.0, 80.0])
    records = est.take_dirty()
    again = Estimator(packaged())
    for key, value in records.items():
        again.restore(key, value)
    assert again.segment_estimate("red", "a", RED[1], RED[2], T0) == est.segment_estimate(
        "red", "a", RED[1], RED[2], T0
    )
    assert again.trains.keys() == est.trains.keys()
    # the restored job's first predictions come from learned times, not the schedule
    preds = again.observe(Arrival.at(T0 + 9000, RED[0], "red-new", "a", "red", branch="main", seq=1))
    preds = again.observe(
        Arrival.at(T0 + 9100, RED[1], "red-new", "a", "red", IN_SERVICE, RED[0], "a", "main", seq=2)
    )
    assert preds and not preds[0].scheduled
    with pytest.raises(ValueError):
        again.restore("seg|red|a|x|y|am_peak", {"samples": [1.0]})


def test_a_record_read_again_after_a_restart_is_not_learned_twice() -> None:
    est = Estimator(packaged())
    run_train(est, "red-1", T0, [100.0, 120.0])
    before = list(est.samples.values())
    again = est.observe(
        Arrival.at(T0 + 220, RED[2], "red-1", "a", "red", IN_SERVICE, RED[1], "a", "main", seq=3)
    )
    assert again == []
    assert list(est.samples.values()) == before


def test_routes_go_round_the_loop_and_down_the_green_branches() -> None:
    m = packaged()
    brown = m.ahead("brown", "main", "a", 40730)  # Washington/Wells, first Loop stop
    assert [d for _, d in brown].count("b") > 0  # continues out of the Loop
    assert m.destination("brown", "main", "a") == "Loop"
    ashland = m.ahead("green", "ashland63", "a", 40020)
    cottage = m.ahead("green", "cottagegrove", "a", 40020)
    assert ashland[-1][0] != cottage[-1][0]
    assert m.destination("green", "cottagegrove", "a") == "Cottage Grove"
