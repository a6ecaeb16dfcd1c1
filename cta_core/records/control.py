"""The simulator's control command (topic ``cta_core.topics.SIM_CONTROL``).

The dashboard builds commands with :func:`make_command`; the simulator reads them with
:func:`parse_command`, which validates every field and never raises. The protocol is
described in docs/control-protocol.md.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

#: the command names, in the order the rejection message lists them
COMMANDS = ("pause", "resume", "set_speed", "step")
#: simulated seconds a ``step`` advances when it names none
DEFAULT_STEP_S = 60.0
#: longest ``sender`` accepted (a builder cuts a longer one to this)
MAX_SENDER = 200


@dataclass(frozen=True)
class Command:
    """One valid command, as the simulator applies it."""

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


@dataclass(frozen=True)
class Rejected:
    """A control message the simulator refused, and why (``last_rejected`` in its status)."""

    command_id: str | None
    reason: str


def _unknown_command(name: object) -> str:
    return f"unknown command {name!r}; expected one of {', '.join(COMMANDS)}"


def make_command(command: str, *, sender: str | None = None, **fields: Any) -> dict[str, Any]:
    """A command's JSON object with a fresh ``command_id`` (and ``sender``, when known, cut
    to :data:`MAX_SENDER`); ``fields`` are the command's own (``speed``, ``seconds``,
    ``run_id``)."""
    if command not in COMMANDS:
        raise ValueError(_unknown_command(command))
    cmd: dict[str, Any] = {"command_id": uuid.uuid4().hex, "command": command, **fields}
    if sender:
        cmd["sender"] = sender[:MAX_SENDER]
    return cmd


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
    """Decode and validate one control message; never raises."""
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
        return Rejected(cid, _unknown_command(name))
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
