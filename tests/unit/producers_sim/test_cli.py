"""cta-sim's command line: bad options, dry runs, reproducibility."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from click.testing import CliRunner

from cta_core import topics
from producers_sim.cli import main, parse_duration, parse_start
from producers_sim.clock import CHICAGO


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lines", "red,teal"], "valid lines: red, blue, green, brown, purple, yellow, pink, orange"),
        (["--speed", "-5"], "speed must be > 0"),
        (["--speed", "fast"], "speed must be a number"),
        (["--start", "yesterday at noon"], "not an ISO datetime"),
        (["--start", "25:99"], "--start"),
        (["--duration", "forever"], "not a duration"),
        (["--count", "0"], "--count"),
    ],
)
def test_bad_options_exit_2_with_a_message(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, [*args, "--dry-run"])
    assert result.exit_code == 2, result.output
    assert message in result.output


def _dry(*extra: str) -> list[dict]:
    args = ["--dry-run", "--speed", "max", "--start", "2026-12-01T08:00", "--seed", "17", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_dry_run_is_reproducible_for_a_seed() -> None:
    first = _dry("--duration", "3m", "--lines", "red,blue,green")
    second = _dry("--duration", "3m", "--lines", "red,blue,green")
    assert first == second
    assert len(first) > 1000
    kinds = {e["topic"] for e in first}
    assert kinds == {topics.ARRIVALS, topics.TURNSTILES, topics.WEATHER}
    assert {e["value"]["line"] for e in first if e["topic"] == topics.ARRIVALS} == {"red", "blue", "green"}
    other = _dry("--duration", "3m", "--lines", "red,blue,green", "--seed", "18")
    assert other != first


def test_dry_run_events_follow_the_contract_and_the_limits() -> None:
    events = _dry("--count", "500")
    assert len(events) == 500
    start_ms = int(datetime(2026, 12, 1, 8, 0, tzinfo=CHICAGO).timestamp() * 1000)
    times = [e["value"]["sim_time"] for e in events]
    assert times == sorted(times) and times[0] >= start_ms
    arrival = next(e for e in events if e["topic"] == topics.ARRIVALS)
    assert arrival["key"] == {"train_id": arrival["value"]["train_id"]}
    assert set(arrival["value"]) == {
        "station_id", "train_id", "direction", "line", "train_status", "prev_station_id",
        "prev_direction", "sim_time", "branch", "delay_s", "seq",
    }  # fmt: skip
    assert arrival["value"]["direction"] in ("a", "b")
    entry = next(e for e in events if e["topic"] == topics.TURNSTILES)
    assert entry["key"] == {"station_id": entry["value"]["station_id"]}
    weather = next(e for e in events if e["topic"] == topics.WEATHER)
    assert weather["key"] == {"timestamp": weather["value"]["sim_time"]}
    limited = _dry("--duration", "90s")
    assert all(e["value"]["sim_time"] < start_ms + 90_000 for e in limited)
    assert max(e["value"]["sim_time"] for e in limited) > start_ms + 80_000


def test_parsers() -> None:
    assert parse_duration("30m") == 1800 and parse_duration("2h") == 7200
    assert parse_duration("90s") == 90 and parse_duration("1h30m") == 5400
    today = datetime(2026, 11, 29, 12, 0, tzinfo=CHICAGO)
    assert parse_start(None, today) == datetime(2026, 11, 29, 5, 0, tzinfo=CHICAGO)
    assert parse_start("7:30", today) == datetime(2026, 11, 29, 7, 30, tzinfo=CHICAGO)
    assert parse_start("2026-12-01T08:00", today) == datetime(2026, 12, 1, 8, 0, tzinfo=CHICAGO)
    assert parse_start("2026-12-01T14:00+00:00", today).hour == 14


def test_kafka_unreachable_gives_one_line_naming_the_servers_and_exit_1() -> None:
    import socket

    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    servers = f"127.0.0.1:{port}"
    result = CliRunner().invoke(main, ["--bootstrap-servers", servers, "--broker-wait", "1", "--count", "5"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert servers in lines[0] and "cta-stack up" in lines[0]


def test_no_weather_leaves_the_weather_to_cta_weather() -> None:
    events = _dry("--duration", "65m", "--lines", "yellow", "--no-weather")
    assert events and {e["topic"] for e in events} == {topics.ARRIVALS, topics.TURNSTILES}
    with_weather = _dry("--duration", "65m", "--lines", "yellow")
    assert sum(1 for e in with_weather if e["topic"] == topics.WEATHER) == 2  # 08:00 and 09:00
