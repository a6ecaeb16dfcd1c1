"""Several prediction workers: who publishes for which train, and what a worker that
learns from another's trains keeps (pure: Ownership, Estimator.observe_quietly/republish)."""

from __future__ import annotations

from cta_core.records.arrival import IN_SERVICE, Arrival
from stream_jobs.predict.estimator import Estimator
from stream_jobs.predict.ownership import Ownership
from stream_jobs.predict.routes import packaged
from tests.unit.stream_jobs.test_predict_estimator import RED, T0, run_train


def test_a_train_belongs_to_the_owner_of_its_partition() -> None:
    own = Ownership()
    own.saw("red-1", 0)
    own.saw("red-2", 1)
    assert not own.owns_train("red-1")
    own.assign({0})
    assert own.owns_train("red-1") and not own.owns_train("red-2")
    assert not own.owns_train("never-seen")
    assert own.take_gained() == {0}
    assert own.take_gained() == set()


def test_partitions_gained_then_revoked_before_the_take_over_are_not_taken_over() -> None:
    own = Ownership()
    own.assign({0, 1})
    own.take_gained()
    own.assign({2})
    own.revoke({2, 1})
    assert own.owned == {0}
    assert own.take_gained() == set()
    own.saw("a", 2)
    own.saw("b", 0)
    own.saw("c", 2)
    assert own.trains_in({2}) == ["a", "c"]


def _two_trains(est: Estimator, quiet: bool) -> None:
    """Three trains learn the segments; a fourth is at Jarvis."""
    for n in range(3):
        run_train(est, f"red-{n}", T0 + n * 900, [100.0, 120.0, 90.0, 80.0])
    arrivals = [
        Arrival.at(T0 + 4000, RED[0], "red-9", "a", "red", branch="main", seq=1),
        Arrival.at(T0 + 4100, RED[1], "red-9", "a", "red", IN_SERVICE, RED[0], "a", "main", seq=2),
    ]
    for a in arrivals:
        if quiet:
            est.observe_quietly(a)
        else:
            est.observe(a)


def test_learning_quietly_learns_the_same_but_writes_no_changelog_records() -> None:
    loud, quiet = Estimator(packaged()), Estimator(packaged())
    _two_trains(loud, quiet=False)
    _two_trains(quiet, quiet=True)
    assert quiet.segment_estimate("red", "a", RED[1], RED[2], T0) == loud.segment_estimate(
        "red", "a", RED[1], RED[2], T0
    )
    assert quiet.trains.keys() == loud.trains.keys()
    assert "train|red-9" in loud.take_dirty()
    assert "train|red-9" not in quiet.take_dirty()


def test_taking_a_train_over_publishes_its_current_predictions_and_its_position() -> None:
    est = Estimator(packaged())
    _two_trains(est, quiet=True)
    est.take_dirty()
    now = T0 + 4130
    preds = est.republish(["red-9", "gone"], now)
    assert preds and {p.train_id for p in preds} == {"red-9"}
    assert all(p.generated_ms == int(now * 1000) for p in preds)
    assert preds == est.predictions_for("red-9", now)
    assert "train|red-9" in est.take_dirty()
    # recorded as published: the next tick does not send the same set again
    assert [p for p in est.tick(now + 1) if p.train_id == "red-9"] == []
