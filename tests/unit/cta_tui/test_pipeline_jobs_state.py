"""Lag, catch-up and rates from two offset samples (pure)."""

from __future__ import annotations

import pytest

from cta_tui.pipeline.view import format_catch_up
from cta_tui.state.pipeline_jobs import OffsetsSample, group_lags, job_rates, topic_rates

T = "org.chicago.cta.turnstiles.v1"
S = "TURNSTILE_SUMMARY"


def test_lag_is_summed_over_partitions_and_catch_up_is_how_fast_it_shrinks() -> None:
    before = OffsetsSample(100.0, {(T, 0): 1000, (T, 1): 500}, {"faust": {(T, 0): 400, (T, 1): 500}})
    after = OffsetsSample(
        102.0, {(T, 0): 1100, (T, 1): 600}, {"faust": {(T, 0): 900, (T, 1): 580}}, {"faust": "Stable"}
    )
    (lag,) = group_lags(before, after)
    assert lag.group == "faust" and lag.topic == T and lag.state == "Stable"
    assert lag.lag == 200 + 20
    assert lag.consumed_rate == pytest.approx((500 + 80) / 2)
    assert lag.catch_up == pytest.approx((600 - 220) / 2)
    assert format_catch_up(lag.catch_up).startswith("catching up")


def test_a_stopped_group_falls_behind() -> None:
    before = OffsetsSample(0.0, {(T, 0): 100}, {"g": {(T, 0): 100}})
    after = OffsetsSample(4.0, {(T, 0): 500}, {"g": {(T, 0): 100}})
    (lag,) = group_lags(before, after)
    assert lag.lag == 400 and lag.consumed_rate == 0 and lag.catch_up == pytest.approx(-100.0)
    assert format_catch_up(lag.catch_up) == "falling behind 100/s"


def test_first_sample_has_lag_but_no_rates_and_unknown_end_offsets_are_skipped() -> None:
    only = OffsetsSample(0.0, {(T, 0): 10}, {"g": {(T, 0): 4, ("other", 0): 1}})
    (lag,) = group_lags(None, only)
    assert lag.lag == 6 and lag.consumed_rate is None and lag.catch_up is None
    assert topic_rates(None, only) == {}


def test_job_rates_combine_produced_topics_and_its_group() -> None:
    before = OffsetsSample(0.0, {(T, 0): 0, (S, 0): 0}, {"faust": {(T, 0): 0}})
    after = OffsetsSample(2.0, {(T, 0): 200, (S, 0): 40}, {"faust": {(T, 0): 150}})
    rates = topic_rates(before, after)
    assert rates == {T: 100.0, S: 20.0}
    produced, consumed, lag = job_rates([S], "faust", rates, group_lags(before, after))
    assert produced == 20.0 and consumed == 75.0 and lag == {T: 50}
    assert job_rates([], None, rates, []) == (None, None, {})


def test_the_tail_lists_the_contract_topics_first_and_internal_ones_last() -> None:
    from cta_tui.feeds.tail_source import order_topics

    names = [
        "zz-test",
        "_schemas",
        "__consumer_offsets",
        "TURNSTILE_SUMMARY",
        "org.chicago.cta.station.arrivals.v1",
        "a",
    ]
    assert order_topics(names) == [
        "org.chicago.cta.station.arrivals.v1",
        "TURNSTILE_SUMMARY",
        "a",
        "zz-test",
        "_schemas",
    ]
