"""cta-weather: which readings fall due, the clock it follows, its command line."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from click.testing import CliRunner

from producers_sim.clock import CHICAGO, SimClock
from producers_sim.weather import Weather
from producers_sim.weather_clock import HOUR_S, MAX_CATCH_UP, FollowedStatus, due_hours, hour_of
from producers_sim.weather_job import WeatherJob, main

T0 = datetime(2026, 7, 1, 5, 0, tzinfo=CHICAGO).timestamp()


def test_due_hours_one_reading_per_hour_boundary() -> None:
    assert due_hours(None, T0 + 59 * 60) == [T0]  # the current hour first
    assert due_hours(T0, T0 + 59 * 60) == []  # same hour: nothing more
    assert due_hours(T0, T0 + 3 * HOUR_S + 5) == [T0 + HOUR_S, T0 + 2 * HOUR_S, T0 + 3 * HOUR_S]
    assert due_hours(T0 + 5 * HOUR_S, T0 + 10) == [T0]  # a clock that went back: a new run
    far = due_hours(T0, T0 + 1000 * HOUR_S)
    assert len(far) == MAX_CATCH_UP and far[-1] == T0 + 1000 * HOUR_S
    assert hour_of(T0 + 3599.9) == T0


def test_status_parse_and_extrapolation() -> None:
    doc = {"run_id": "r", "state": "running", "sim_time_ms": int(T0 * 1000), "speed": 60, "paused": False}
    st = FollowedStatus.parse(doc, received=100.0)
    assert st is not None and st.now(102.0) == T0 + 120.0
    paused = FollowedStatus.parse({**doc, "state": "paused", "paused": True}, received=100.0)
    assert paused is not None and paused.now(500.0) == T0  # pause applies
    at_max = FollowedStatus.parse({**doc, "speed": "max"}, received=100.0)
    assert at_max is not None and at_max.speed is None and at_max.now(500.0) == T0
    assert FollowedStatus.parse({"run_id": "r"}, 0.0) is None
    assert FollowedStatus.parse({**doc, "paused": "yes"}, 0.0) is None  # not a status
    assert FollowedStatus.parse([doc], 0.0) is None
    stopped = FollowedStatus.parse({**doc, "state": "stopped"}, 0.0)
    assert stopped is not None and stopped.stopped


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def publish(self, event: Any) -> None:
        self.events.append(event)


class Follower:
    def __init__(self) -> None:
        self.latest: FollowedStatus | None = None


def _status(
    run: str, t: float, speed: float | None = 60.0, state: str = "running", received: float = 0.0
) -> FollowedStatus:
    return FollowedStatus(run, t, speed, state == "paused", state == "stopped", received=received)


def test_job_follows_the_simulator_once_it_runs_and_restarts_hours_on_a_new_run(monkeypatch: Any) -> None:
    wall = [0.0]
    monkeypatch.setattr("producers_sim.weather_job.time.monotonic", lambda: wall[0])
    own = SimClock(T0, 3600.0, wall=lambda: wall[0])
    follower = Follower()
    pub = Recorder()
    job = WeatherJob(pub, Weather(random.Random(1)), own, follower)  # type: ignore[arg-type]
    job.step()
    wall[0] = 2.0  # two hours on its own clock
    job.step()
    assert [e.t for e in pub.events] == [T0, T0 + HOUR_S, T0 + 2 * HOUR_S]
    # a simulator appears at 05:30 of its own run: its clock rules from now on
    follower.latest = _status("run1", T0 + 1800, received=wall[0])
    job.step()
    assert pub.events[-1].t == T0 and job.run_id == "run1"
    follower.latest = _status("run1", T0 + 1800, state="paused")
    wall[0] = 10_000.0
    assert job.step() == 0  # paused: no reading however long the wall clock runs
    follower.latest = _status("run1", T0 + 2 * HOUR_S + 1, state="running", received=wall[0])
    job.step()
    assert [e.t for e in pub.events][-2:] == [T0 + HOUR_S, T0 + 2 * HOUR_S]
    follower.latest = _status("run1", T0 + 5 * HOUR_S, state="stopped")
    assert job.step() == 0  # a stopped simulator: wait for the next run
    follower.latest = _status("run2", T0 + 60, received=wall[0])
    job.step()
    assert pub.events[-1].t == T0  # a new run starts its hours again
    keys = [e.key()["timestamp"] for e in pub.events]
    assert all(k % 3_600_000 == 0 for k in keys)  # keyed by the hour


def test_a_simulator_in_the_same_hour_as_the_own_clock_gets_no_second_reading(monkeypatch: Any) -> None:
    monkeypatch.setattr("producers_sim.weather_job.time.monotonic", lambda: 0.0)
    follower = Follower()
    pub = Recorder()
    job = WeatherJob(pub, Weather(random.Random(1)), SimClock(T0, 60.0, wall=lambda: 0.0), follower)  # type: ignore[arg-type]
    job.step()
    follower.latest = _status("run1", T0 + 30)  # make demo: cta-weather first, cta-sim a moment later
    job.step()
    assert [e.t for e in pub.events] == [T0]


def test_cli_help_and_bad_flags() -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["--help"])
    assert out.exit_code == 0
    assert "CTA_FOLLOW_SIM" in out.output and "--no-follow-sim" in out.output
    bad = runner.invoke(main, ["--speed", "fast"])
    assert bad.exit_code == 2 and "--speed" in bad.output
    assert runner.invoke(main, ["--no-follow-sim", "--speed", "max"]).exit_code == 2


def test_unreachable_proxy_names_its_url() -> None:
    out = CliRunner().invoke(main, ["--rest-proxy-url", "http://127.0.0.1:9", "--no-follow-sim"])
    assert out.exit_code == 1
    assert "REST Proxy at http://127.0.0.1:9 is not reachable" in out.output
