"""Controlling the simulator: how commands apply to its clock, and its status message.

Pure (no Kafka); the Kafka side is :mod:`producers_sim.control_listener`. The command
and the status are records of :mod:`cta_core.records` (read with
:func:`cta_core.records.control.parse_command`, written with
:meth:`cta_core.records.status.SimStatus.to_json`); docs/control-protocol.md describes
the protocol.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cta_core import topics
from cta_core.records.control import Command, Rejected
from cta_core.records.status import PAUSED, RUNNING, STOPPED, SimStatus
from producers_sim.clock import CHICAGO, SimClock

log = logging.getLogger(__name__)

EVENT_TOPICS = (topics.ARRIVALS, topics.TURNSTILES, topics.WEATHER)


@dataclass
class TopicCounters:
    produced: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EVENT_TOPICS, 0))
    delivered: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EVENT_TOPICS, 0))
    failed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EVENT_TOPICS, 0))

    def merged(self, other: TopicCounters) -> TopicCounters:
        out = TopicCounters()
        for name in ("produced", "delivered", "failed"):
            mine, theirs, dest = getattr(self, name), getattr(other, name), getattr(out, name)
            for t in set(mine) | set(theirs):
                dest[t] = mine.get(t, 0) + theirs.get(t, 0)
        return out


@dataclass
class ControlState:
    """What the status reports about commands."""

    last_command_id: str | None = None
    last_command_sender: str | None = None
    rejected_commands: int = 0
    last_rejected: Rejected | None = None
    applied_steps: set[str] = field(default_factory=set)


def apply_command(
    clock: SimClock, state: ControlState, item: Command | Rejected, run_id: str | None = None
) -> bool:
    """Apply a command to the clock; return True when the status should be republished.

    A command addressed to another run id is ignored (not counted, not acknowledged)."""
    if isinstance(item, Command) and item.run_id is not None and item.run_id != run_id:
        return False
    if isinstance(item, Rejected):
        state.rejected_commands += 1
        state.last_rejected = item
        return True
    if item.command == "pause":
        clock.pause()
    elif item.command == "resume":
        clock.resume()
    elif item.command == "set_speed":
        clock.set_speed(item.speed)
    elif item.command == "step":
        if item.command_id in state.applied_steps:
            return False
        state.applied_steps.add(item.command_id)
        clock.step(item.seconds)
    state.last_command_id = item.command_id
    state.last_command_sender = item.sender
    log.info("applied %s (%s) from %s", item.command, item.command_id, item.sender or "an unnamed sender")
    return True


def _iso_ms(dt: datetime) -> str:
    return dt.isoformat(timespec="milliseconds")


def status_document(
    *,
    run_id: str,
    clock: SimClock,
    counters: TopicCounters,
    control: ControlState,
    started_at: datetime,
    seed: int | None,
    lines: list[str],
    trains: int,
    stopped: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The status message for the run as it stands (docs/control-protocol.md)."""
    sim = clock.now()
    return SimStatus(
        run_id=run_id,
        state=STOPPED if stopped else (PAUSED if clock.paused else RUNNING),
        sim_time=_iso_ms(datetime.fromtimestamp(sim, CHICAGO)),
        sim_time_ms=int(sim * 1000),
        speed="max" if clock.speed is None else clock.speed,
        paused=clock.paused,
        produced=counters.produced,
        delivered=counters.delivered,
        failed=counters.failed,
        last_command_id=control.last_command_id,
        last_command_sender=control.last_command_sender,
        rejected_commands=control.rejected_commands,
        last_rejected=control.last_rejected,
        started_at=_iso_ms(started_at.astimezone(UTC)),
        updated_at=_iso_ms(now or datetime.now(UTC)),
        seed=seed,
        lines=lines,
        trains=trains,
    ).to_json()
