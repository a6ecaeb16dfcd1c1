"""Commands, the clock, and the status document."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cta_core import topics
from cta_core.records.control import Command, Rejected, parse_command
from producers_sim.clock import SimClock
from producers_sim.control import ControlState, TopicCounters, apply_command, status_document


class FakeWall:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_clock_speed_pause_resume_step() -> None:
    wall = FakeWall()
    clock = SimClock(0.0, 60.0, wall=wall)
    wall.t += 2
    assert clock.now() == pytest.approx(120.0)
    clock.pause()
    wall.t += 10
    assert clock.now() == pytest.approx(120.0)
    assert clock.wall_until(121) == float("inf")
    clock.step(30)
    assert clock.paused and clock.now() == pytest.approx(150.0)
    clock.resume()
    wall.t += 1
    assert clock.now() == pytest.approx(210.0)
    clock.set_speed(1.0)
    wall.t += 1
    assert clock.now() == pytest.approx(211.0)
    assert clock.wall_until(221.0) == pytest.approx(10.0)
    clock.set_speed(None)
    assert clock.is_max and clock.wall_until(1e9) == 0.0
    clock.advance_to(500.0)
    assert clock.now() == 500.0
    with pytest.raises(ValueError):
        clock.set_speed(-1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"command_id": "a", "command": "pause"}', Command("a", "pause")),
        (b'{"command_id": "b", "command": "resume"}', Command("b", "resume")),
        (
            b'{"command_id": "c", "command": "set_speed", "speed": 120}',
            Command("c", "set_speed", speed=120.0),
        ),
        (
            b'{"command_id": "d", "command": "set_speed", "speed": "max"}',
            Command("d", "set_speed", speed=None),
        ),
        (b'{"command_id": "e", "command": "step", "seconds": 5}', Command("e", "step", seconds=5.0)),
        (b'{"command_id": "f", "command": "step"}', Command("f", "step", seconds=60.0)),
        (
            b'{"command_id": "g", "command": "pause", "sender": "ssh ada@10.0.0.7 key SHA256:x"}',
            Command("g", "pause", sender="ssh ada@10.0.0.7 key SHA256:x"),
        ),
    ],
)
def test_parse_valid_commands(raw: bytes, expected: Command) -> None:
    assert parse_command(raw) == expected


@pytest.mark.parametrize(
    ("raw", "cid", "reason"),
    [
        (b"not json", None, "not JSON"),
        (b"[1]", None, "object"),
        (b'{"command": "pause"}', None, "command_id"),
        (b'{"command_id": "x", "command": "explode"}', "x", "unknown command"),
        (b'{"command_id": "x", "command": "set_speed", "speed": -3}', "x", "> 0"),
        (b'{"command_id": "x", "command": "set_speed"}', "x", "speed"),
        (b'{"command_id": "x", "command": "step", "seconds": 0}', "x", "seconds"),
        (b'{"command_id": "x", "command": "pause", "sender": 7}', "x", "sender"),
        (b'{"command_id": "x", "command": "pause", "sender": "' + b"a" * 201 + b'"}', "x", "sender"),
        (None, None, "object"),
    ],
)
def test_malformed_commands_are_rejected_not_raised(raw: bytes | None, cid: str | None, reason: str) -> None:
    result = parse_command(raw)
    assert isinstance(result, Rejected)
    assert result.command_id == cid and reason in result.reason


def test_apply_commands_and_report_them_in_the_status() -> None:
    wall = FakeWall()
    clock = SimClock(1_795_950_000.0, 60.0, wall=wall)
    state = ControlState()
    assert apply_command(clock, state, Command("p1", "pause"))
    assert clock.paused and state.last_command_id == "p1"
    assert apply_command(clock, state, Command("s1", "step", seconds=30))
    assert not apply_command(clock, state, Command("s1", "step", seconds=30))  # the same step once only
    assert clock.now() == pytest.approx(1_795_950_030.0)
    assert apply_command(clock, state, Rejected("bad", "unknown command"))
    assert state.last_command_id == "s1" and state.rejected_commands == 1
    apply_command(clock, state, Command("v1", "set_speed", speed=None, sender="cta-tui ada@box pid 7"))
    counters = TopicCounters()
    counters.produced[topics.ARRIVALS] = 5
    doc = status_document(
        run_id="r1",
        clock=clock,
        counters=counters,
        control=state,
        started_at=datetime(2026, 11, 29, 11, 0, tzinfo=UTC),
        seed=42,
        lines=["red"],
        trains=3,
    )
    json.dumps(doc)
    assert doc["state"] == "paused" and doc["paused"] is True and doc["speed"] == "max"
    assert doc["sim_time"] == "2026-11-29T05:00:30.000-06:00"
    assert doc["sim_time_ms"] == 1_795_950_030_000
    assert doc["last_command_id"] == "v1" and doc["last_command_sender"] == "cta-tui ada@box pid 7"
    assert doc["last_rejected"] == {"command_id": "bad", "reason": "unknown command"}
    assert set(doc["produced"]) == {topics.ARRIVALS, topics.TURNSTILES, topics.WEATHER}
    assert doc["produced"][topics.ARRIVALS] == 5
    assert doc["started_at"] == "2026-11-29T11:00:00.000+00:00"
    apply_command(clock, state, Command("r1", "resume"))
    assert not clock.paused


def test_commands_for_another_run_are_ignored() -> None:
    clock = SimClock(0.0, 60.0, wall=FakeWall())
    state = ControlState()
    other = parse_command(b'{"command_id": "x", "command": "pause", "run_id": "someone-else"}')
    assert isinstance(other, Command) and other.run_id == "someone-else"
    assert not apply_command(clock, state, other, "mine")
    assert not clock.paused and state.last_command_id is None
    mine = parse_command(b'{"command_id": "y", "command": "pause", "run_id": "mine"}')
    assert apply_command(clock, state, mine, "mine")
    assert clock.paused and state.last_command_id == "y"
    everyone = parse_command(b'{"command_id": "z", "command": "resume"}')
    assert apply_command(clock, state, everyone, "mine")
    assert not clock.paused
    assert isinstance(parse_command(b'{"command_id": "w", "command": "pause", "run_id": 5}'), Rejected)
