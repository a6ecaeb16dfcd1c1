"""The terminal status line and the keys (pure parts; the TTY loop is not exercised here)."""

from __future__ import annotations

from datetime import UTC, datetime

from producers_sim.clock import SimClock
from producers_sim.control import ControlState, TopicCounters, apply_command, status_document
from producers_sim.terminal import key_command, status_text


def test_keys_map_to_commands() -> None:
    clock = SimClock(0.0, 60.0)
    space = key_command(" ", clock)
    assert space is not None and space.command == "pause"
    apply_command(clock, ControlState(), space)
    again = key_command(" ", clock)
    assert again is not None and again.command == "resume"
    plus = key_command("+", clock)
    assert plus is not None and plus.command == "set_speed" and plus.speed == 120.0
    minus = key_command("-", clock)
    assert minus is not None and minus.speed == 30.0
    assert key_command("x", clock) is None
    assert space.command_id != again.command_id


def test_status_line_shows_state_time_speed_and_counts() -> None:
    clock = SimClock(1_795_950_000.0, None, paused=True)
    counters = TopicCounters()
    counters.produced["org.chicago.cta.turnstiles.v1"] = 12345
    counters.failed["org.chicago.cta.turnstiles.v1"] = 2
    doc = status_document(
        run_id="r", clock=clock, counters=counters, control=ControlState(),
        started_at=datetime.now(UTC), seed=1, lines=["red"], trains=7,
    )  # fmt: skip
    text = status_text(doc).plain
    assert "PAUSED" in text and "2026-11-29 05:00:00" in text
    assert "speed max" in text and "trains 7" in text
    assert "produced 12,345" in text and "failed 2" in text
