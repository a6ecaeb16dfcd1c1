"""The fault trials' pure parts: the simulator's command line and summary lines, the
read-back comparison, the summary's figures, the stall measure, a separate stack's
environment, and the command line listing every trial."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bench.trials import __main__ as trials_main
from bench.trials.checks import SummaryFigures, canonical, compare, summary_station, turnstiles_per_station
from bench.trials.faust import per_station
from bench.trials.harness import (
    TrialResult,
    longest_stall,
    sim_args,
    sim_failed,
    suffix,
    topic_lines,
)
from bench.trials.restarts import RestartResult
from cta_core import topics

SIM_OUTPUT = """\
org.chicago.cta.station.arrivals.v1: produced 1,200 delivered 1,198 failed 2
org.chicago.cta.turnstiles.v1: produced 800, delivered 800, failed 0
org.chicago.cta.weather.v1: produced 13 delivered 13 failed 0
"""


def test_sim_args_pin_the_run_and_leave_control_out_unless_asked() -> None:
    args = sim_args(600, topic_suffix=".fault1")
    assert args[0].endswith("cta-sim")
    pinned = ["--speed", "max", "--count", "600", "--seed", "20261201"]
    assert args[1:] == [*pinned, "--topic-suffix", ".fault1", "--no-control"]
    assert "--no-control" not in sim_args(600, control=True)
    assert "--seed" not in sim_args(600, seed=None)


def test_simulator_summary_lines_give_per_topic_counts_and_failed_deliveries() -> None:
    lines = topic_lines(SIM_OUTPUT)
    assert lines[topics.WEATHER] == (13, 13, 0)
    assert lines[topics.ARRIVALS] == (1200, 1198, 2)
    assert lines[topics.TURNSTILES] == (800, 800, 0)
    assert sim_failed(SIM_OUTPUT) == 2
    assert sim_failed("nothing here") == 0


def test_compare_counts_lost_and_duplicated_as_multisets() -> None:
    a, b, c = (canonical(topics.ARRIVALS, {"station_id": i}) for i in (1, 2, 3))
    expected = Counter({a: 2, b: 1, c: 1})
    got = Counter({a: 1, b: 3, c: 1})
    assert compare(expected, got) == (1, 2)
    assert compare(expected, expected) == (0, 0)


def test_canonical_ignores_field_order() -> None:
    assert canonical("t", {"a": 1, "b": 2}) == canonical("t", {"b": 2, "a": 1})


def test_turnstiles_per_station_counts_only_turnstile_events() -> None:
    expected = Counter(
        {
            canonical(topics.TURNSTILES, {"station_id": 40380, "line": "red"}): 3,
            canonical(topics.TURNSTILES, {"station_id": 40390, "line": "red"}): 1,
            canonical(topics.ARRIVALS, {"station_id": 40380}): 7,
        }
    )
    assert turnstiles_per_station(expected) == {40380: 3, 40390: 1}
    assert per_station([1, 2, 1]) == {1: 2, 2: 1}


def test_summary_figures_name_stations_over_and_under_counted() -> None:
    figures = SummaryFigures.of({1: 5, 2: 3, 3: 2}, {1: 5, 2: 4, 3: 1})
    assert figures == SummaryFigures(stations=3, stations_exact=1, total=10, over=1, under=1)


def test_summary_station_reads_the_value_else_the_key() -> None:
    assert summary_station({"STATION_ID": 40380, "COUNT": 1}, None) == 40380
    assert summary_station({"COUNT": 1}, (40390).to_bytes(4, "big")) == 40390


def test_longest_stall_is_the_longest_time_without_growth_in_the_window() -> None:
    samples = [(0.0, 0), (1.0, 10), (2.0, 10), (3.0, 10), (4.0, 20), (5.0, 30)]
    assert longest_stall(samples, 0.0, 5.0) == pytest.approx(3.0)
    # no growth after the last sample counts up to the end of the window
    assert longest_stall(samples, 0.0, 9.0) == pytest.approx(4.0)
    assert longest_stall([], 1.0, 2.0) == pytest.approx(1.0)


def test_suffixes_differ_and_results_print_as_json() -> None:
    assert suffix("fault").startswith(".fault")
    row = json.loads(RestartResult("connect", 8.0, events=5).json())
    assert row["service"] == "connect" and row["events"] == 5
    assert isinstance(RestartResult("x", 1.0), TrialResult)


@pytest.mark.parametrize(
    "trial", ["broker-kill", "restarts", "inputs", "faust-kill", "faust-coalesce", "cluster-pipeline"]
)
def test_the_command_line_lists_and_parses_every_trial(trial: str) -> None:
    parser = trials_main._parser()
    assert trial in parser.format_help()
    args = parser.parse_args([trial])
    assert args.trial == trial


def test_an_unknown_trial_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exc:
        trials_main._parser().parse_args(["no-such-trial"])
    assert exc.value.code == 2
