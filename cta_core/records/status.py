"""The simulator's status message (topic ``cta_core.topics.SIM_STATUS``).

The simulator writes one :class:`SimStatus` as JSON (:meth:`SimStatus.to_json`) once a
wall second and after every change; the dashboard and ``cta-weather`` read it with
:meth:`SimStatus.from_json`, a tolerant reader: unknown fields are ignored, missing or
mistyped optional ones take their defaults, and a message that is not an object (or
whose ``paused`` is not a boolean) raises :class:`MalformedStatus`. The fields are
described in docs/control-protocol.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self, TypeGuard

from cta_core.records.control import Rejected

RUNNING = "running"
PAUSED = "paused"
STOPPED = "stopped"


class MalformedStatus(ValueError):
    """A status message that is not a JSON object of the protocol's shape."""


@dataclass(frozen=True, slots=True)
class SimStatus:
    """One status message; every field has the value a reader assumes when it is missing."""

    run_id: str | None = None
    state: str = RUNNING
    #: simulated clock, ISO 8601 with milliseconds and the America/Chicago offset
    sim_time: str | None = None
    #: the same instant in epoch milliseconds
    sim_time_ms: int | None = None
    #: simulated seconds per wall second, or "max"
    speed: float | str | None = None
    paused: bool = False
    produced: dict[str, int] = field(default_factory=dict)
    delivered: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    last_command_id: str | None = None
    last_command_sender: str | None = None
    rejected_commands: int = 0
    #: the last rejected command (``{"command_id": str | None, "reason": str}``)
    last_rejected: Rejected | None = None
    #: wall clock, ISO 8601 UTC with milliseconds
    started_at: str | None = None
    updated_at: str | None = None
    seed: int | None = None
    lines: list[str] = field(default_factory=list)
    #: trains in service
    trains: int | None = None

    @property
    def stopped(self) -> bool:
        return self.state == STOPPED

    @property
    def speed_factor(self) -> float | None:
        """The speed as a number; None at "max" (or when unknown)."""
        return float(self.speed) if _number(self.speed) else None

    def to_json(self) -> dict[str, Any]:
        """The JSON object the simulator publishes (docs/control-protocol.md's field order)."""
        rej = self.last_rejected
        return {
            "run_id": self.run_id,
            "state": self.state,
            "sim_time": self.sim_time,
            "sim_time_ms": self.sim_time_ms,
            "speed": self.speed,
            "paused": self.paused,
            "produced": dict(self.produced),
            "delivered": dict(self.delivered),
            "failed": dict(self.failed),
            "last_command_id": self.last_command_id,
            "last_command_sender": self.last_command_sender,
            "rejected_commands": self.rejected_commands,
            "last_rejected": None if rej is None else {"command_id": rej.command_id, "reason": rej.reason},
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "seed": self.seed,
            "lines": list(self.lines),
            "trains": self.trains,
        }

    @classmethod
    def from_json(cls, doc: Any, **extra: Any) -> Self:
        """Read a decoded status message (``extra``: fields a subclass adds, such as when it
        was received); :class:`MalformedStatus` when it is not a status at all."""
        if not isinstance(doc, Mapping):
            raise MalformedStatus("not a JSON object")
        paused = doc.get("paused", False)
        if not isinstance(paused, bool):
            raise MalformedStatus(f"paused must be a boolean, got {paused!r}")
        speed = doc.get("speed")
        lines = doc.get("lines")
        return cls(
            run_id=_str(doc.get("run_id")),
            state=str(doc.get("state") or (PAUSED if paused else RUNNING)),
            sim_time=_str(doc.get("sim_time")),
            sim_time_ms=as_int(doc.get("sim_time_ms")),
            speed=speed if speed == "max" or _number(speed) else None,
            paused=paused,
            produced=_counts(doc.get("produced")),
            delivered=_counts(doc.get("delivered")),
            failed=_counts(doc.get("failed")),
            last_command_id=_str(doc.get("last_command_id")),
            last_command_sender=_str(doc.get("last_command_sender")),
            rejected_commands=as_int(doc.get("rejected_commands")) or 0,
            last_rejected=_rejected(doc.get("last_rejected")),
            started_at=_str(doc.get("started_at")),
            updated_at=_str(doc.get("updated_at")),
            seed=as_int(doc.get("seed")),
            lines=[x for x in lines if isinstance(x, str)] if isinstance(lines, list) else [],
            trains=as_int(doc.get("trains")),
            **extra,
        )


def as_int(value: Any) -> int | None:
    """An integer from an int, an integral float or a string of digits; else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _rejected(value: Any) -> Rejected | None:
    if not isinstance(value, Mapping) or not isinstance(value.get("reason"), str):
        return None
    return Rejected(_str(value.get("command_id")), value["reason"])


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): n for k, v in value.items() if (n := as_int(v)) is not None}
