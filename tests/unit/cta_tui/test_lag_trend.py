"""The pipeline screen's lag trend: a job's lag that keeps growing is flagged, noise is not."""

from __future__ import annotations

from rich.text import Text

from cta_tui.pipeline.jobs_table import lag_cell
from cta_tui.state.lag_trend import GROWING, SHRINKING, STEADY, LagHistory, lag_trend
from cta_tui.state.pipeline_jobs import JobView


def every_2s(lags: list[int]) -> list[tuple[float, int]]:
    return [(2.0 * i, lag) for i, lag in enumerate(lags)]


def test_a_lag_that_climbs_sample_after_sample_is_growing() -> None:
    assert lag_trend(every_2s([1_000, 6_000, 12_000, 20_000, 31_000, 45_000])) == GROWING


def test_a_lag_that_drains_is_shrinking() -> None:
    assert lag_trend(every_2s([90_000, 70_000, 50_000, 30_000, 10_000])) == SHRINKING


def test_commit_steps_and_small_changes_are_steady() -> None:
    # a worker committing every few seconds: the lag saws between two levels
    assert lag_trend(every_2s([500, 30_000, 800, 29_000, 600, 31_000, 700])) == STEADY
    assert lag_trend(every_2s([500, 30_000, 800, 29_000, 600, 31_000])) == STEADY
    assert lag_trend(every_2s([10_000, 10_500, 11_000, 11_400, 11_900])) == STEADY  # < 25 %
    assert lag_trend(every_2s([100, 900, 1_500, 1_900, 2_000])) == STEADY  # < 2,000 events


def test_too_short_a_span_says_nothing_yet() -> None:
    assert lag_trend(every_2s([0, 50_000, 100_000])) == STEADY
    assert lag_trend([]) == STEADY


def test_only_the_last_window_counts() -> None:
    old_climb = every_2s([0, 20_000, 40_000, 60_000])
    flat_since = [(t + 10.0, 60_000) for t, _ in every_2s([0] * 12)]
    assert lag_trend(old_climb + flat_since) == STEADY


def test_history_keeps_a_window_per_job_and_forgets_jobs_without_lag() -> None:
    history = LagHistory()
    for i, lag in enumerate([1_000, 8_000, 16_000, 25_000, 40_000, 60_000]):
        history.add(2.0 * i, {"faust": lag, "predict": 10})
    assert history.trend("faust") == GROWING and history.trend("predict") == STEADY
    history.add(12.0, {"faust": 61_000})
    assert "predict" not in history.samples
    history.add(100.0, {"faust": 61_000})
    assert list(history.samples["faust"]) == [(100.0, 61_000)]


def test_the_lag_cell_shows_the_arrow_in_the_warning_colour_within_its_width() -> None:
    job = JobView("faust", "running", "running", lag={"t1": 150_000, "t2": 3_000})
    cell = lag_cell(job, GROWING)
    assert isinstance(cell, Text) and cell.plain == "153k↑" and "yellow" in str(cell.style)
    assert lag_cell(job, STEADY) == "153,000"
    assert lag_cell(JobView("a", "running", "running", lag={"t": 900}), SHRINKING) == Text("900↓")
    assert lag_cell(JobView("b", "running", "running"), GROWING) == "—"
