"""Controlling the simulator: the JSON command and status formats, and how commands apply.

This module is pure (no Kafka); the Kafka side is
:mod:`producers_sim.control_listener`. ``docs/control-protocol.md`` carries
the same text for the dashboard.

Commands — topic ``cta_core.topics.SIM_CONTROL`` (``org.chicago.cta.sim.control.v1``)
-----------------------------------------------------------------------------------
UTF-8 JSON objects; the message key is optional and ignored::

    {"command_id": "6f1c…", "command": "pause"}
    {"command_id": "6f1d…", "command": "resume"}
    {"command_id": "6f1e…", "command": "set_speed", "speed": 120}      # or "speed": "max"
    {"command_id": "6f1f…", "command": "step", "seconds": 60}
    {"command_id": "6f20…", "command": "pause", "run_id": "c0ffee12"}   # one simulator only
    {"command_id": "6f21…", "command": "pause", "sender": "ssh alice@10.0.0.7 key SHA256:…"}

``command_id``: non-empty string chosen by the sender (a uuid4), echoed back as
``last_command_id`` once applied. ``speed``: number > 0 or ``"max"`` (set_speed only;
simulated seconds per wall second). ``seconds``: number > 0, default 60 (step only: the
clock moves that far and stays paused; a step while running pauses first).
``run_id`` (optional, any command): only the simulator whose status carries that
``run_id`` applies it; without it every running simulator does (several may share the
topics, e.g. tests and benchmarks, so a dashboard should address the run it shows).
``sender`` (optional, any command): who sent it, free text of at most 200 characters
(cta-tui sends ``cta-tui <user>@<host> pid <pid>``, or for an SSH session
``ssh <user>@<peer> key <fingerprint>``); echoed as ``last_command_sender`` and logged,
so an operator can see who paused the simulator. It is not authentication: anyone who
may write to the control topic may write any sender.
The simulator reads from the end of the topic (commands sent while it is not running
are not replayed). A command that is not JSON, lacks ``command_id``, names an unknown
command or has a bad ``speed``/``seconds`` is rejected: counted in
``rejected_commands`` and described in ``last_rejected``; the simulator carries on.
A ``step`` whose id was already applied is ignored; the others are idempotent.

Status — topic ``cta_core.topics.SIM_STATUS`` (``org.chicago.cta.sim.status.v1``)
--------------------------------------------------------------------------------
Key: the run id. Published once per wall second and right after every change
(command applied, keyboard pause/resume/speed, run finished)::

    {"run_id": "c0ffee12", "state": "running" | "paused" | "stopped",
     "sim_time": "2026-11-29T05:03:12.250-06:00",      # ISO 8601, ms, Chicago offset
     "sim_time_ms": 1795950192250,                      # epoch ms, like arrivals' sim_time
     "speed": 60.0 | "max", "paused": false,
     "produced":  {"<topic>": n, ...},                  # arrivals, turnstiles, weather topics
     "delivered": {"<topic>": n, ...},                  # acknowledged by Kafka / the REST proxy
     "failed":    {"<topic>": n, ...},
     "last_command_id": "6f1c…" | null,                 # last command applied
     "last_command_sender": "cta-tui …" | null,         # its sender, when it named one
     "rejected_commands": 0,
     "last_rejected": null | {"command_id": str | null, "reason": str},
     "started_at": "2026-11-29T11:02:58.101+00:00",     # wall clock, UTC
     "updated_at": "2026-11-29T11:03:15.402+00:00",
     "seed": 42, "lines": ["red", "blue", ...], "trains": 187}

``state`` is ``"stopped"`` exactly once, when the run ends. Readers should ignore
unknown fields.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cta_core import topics
from producers_sim.clock import CHICAGO, SimClock

log = logging.getLogger(__name__)

COMMANDS = ("pause", "resume", "set_speed", "step")
EVENT_TOPICS = (topics.ARRIVALS, topics.TURNSTILES, topics.WEATHER)
DEFAULT_STEP_S = 60.0


@dataclass(frozen=True)
class Command:
    command_id: str
    command: str
    #: set_speed: the new speed, None for max
    speed: float | None = None
    #: step: simulated seconds
    seconds: float = DEFAULT_STEP_S
    #: only the simulator with this run id applies it; None: every simulator
    run_id: str | None = None
    #: who sent it (free text, for the status and the log; not authentication)
    sender: str | None = None


#: longest ``sender`` accepted
MAX_SENDER = 200


@dataclass(frozen=True)
class Rejected:
    command_id: str | None
    reason: str


def parse_speed(value: Any) -> float | None:
    """A speed from a command or flag: a number > 0, or "max" (→ None). Raises ValueError."""
    if isinstance(value, str):
        if value.strip().lower() == "max":
            return None
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"speed must be a number > 0 or 'max', got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"speed must be a number > 0 or 'max', got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"speed must be > 0, got {value!r}")
    return float(value)


def parse_command(raw: bytes | str | None) -> Command | Rejected:
    """Decode one control message; never raises."""
    try:
        doc = json.loads(raw) if raw is not None else None
    except (ValueError, UnicodeDecodeError) as exc:
        return Rejected(None, f"not JSON: {exc}")
    if not isinstance(doc, dict):
        return Rejected(None, "not a JSON object")
    cid = doc.get("command_id")
    if not isinstance(cid, str) or not cid:
        return Rejected(None, "command_id missing or not a non-empty string")
    run_id = doc.get("run_id")
    if run_id is not None and not isinstance(run_id, str):
        return Rejected(cid, "run_id must be a string")
    sender = doc.get("sender")
    if sender is not None and (not isinstance(sender, str) or len(sender) > MAX_SENDER):
        return Rejected(cid, f"sender must be a string of at most {MAX_SENDER} characters")
    name = doc.get("command")
    if name not in COMMANDS:
        return Rejected(cid, f"unknown command {name!r}; expected one of {', '.join(COMMANDS)}")
    if name == "set_speed":
        try:
            return Command(cid, name, speed=parse_speed(doc.get("speed")), run_id=run_id, sender=sender)
        except ValueError as exc:
            return Rejected(cid, str(exc))
    if name == "step":
        seconds = doc.get("seconds", DEFAULT_STEP_S)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds < math.inf:
            return Rejected(cid, f"seconds must be a number > 0, got {seconds!r}")
        return Command(cid, name, seconds=float(seconds), run_id=run_id, sender=sender)
    return Command(cid, name, run_id=run_id, sender=sender)


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
    sim = clock.now()
    state = "stopped" if stopped else ("paused" if clock.paused else "running")
    rej = control.last_rejected
    return {
        "run_id": run_id,
        "state": state,
        "sim_time": _iso_ms(datetime.fromtimestamp(sim, CHICAGO)),
        "sim_time_ms": int(sim * 1000),
        "speed": "max" if clock.speed is None else clock.speed,
        "paused": clock.paused,
        "produced": dict(counters.produced),
        "delivered": dict(counters.delivered),
        "failed": dict(counters.failed),
        "last_command_id": control.last_command_id,
        "last_command_sender": control.last_command_sender,
        "rejected_commands": control.rejected_commands,
        "last_rejected": None if rej is None else {"command_id": rej.command_id, "reason": rej.reason},
        "started_at": _iso_ms(started_at.astimezone(UTC)),
        "updated_at": _iso_ms(now or datetime.now(UTC)),
        "seed": seed,
        "lines": list(lines),
        "trains": trains,
    }
