"""Simulator control: sending commands to ``SIM_CONTROL`` (built with
:func:`cta_core.records.control.make_command`; docs/control-protocol.md) and tracking
which ones the simulator acknowledged (``last_command_id`` in its status).

:class:`ControlPublisher` is the interface; :class:`KafkaControlPublisher` sends with
confluent-kafka, :class:`MemoryControlPublisher` records commands for tests.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cta_core import topics
from cta_core.settings import Settings

#: Seconds to wait for the simulator's acknowledgement before telling the user.
ACK_TIMEOUT = 3.0

#: Speed steps for + and -.
SPEEDS: tuple[float, ...] = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1200)


#: set by ``cta-tui serve --ssh`` for each session's dashboard: who its commands come from
SENDER_ENV = "CTA_TUI_SENDER"


def default_sender(env: Mapping[str, str] | None = None) -> str:
    """Who this dashboard's commands come from (docs/control-protocol.md, ``sender``):
    what the SSH server set for the session, else ``cta-tui <user>@<host> pid <pid>``."""
    env = os.environ if env is None else env
    given = env.get(SENDER_ENV)
    if given:
        return given
    user = env.get("USER") or env.get("LOGNAME") or "?"
    return f"cta-tui {user}@{socket.gethostname()} pid {os.getpid()}"


def next_speed(current: float | str | None, faster: bool) -> float:
    """The next speed step up or down from ``current`` (unknown: 60x, the demo default)."""
    if not isinstance(current, int | float):
        current = SPEEDS[-1] if current == "max" else 60.0
    if faster:
        return next((s for s in SPEEDS if s > current), SPEEDS[-1])
    return next((s for s in reversed(SPEEDS) if s < current), SPEEDS[0])


class ControlPublisher(Protocol):
    def send(self, command: dict[str, Any]) -> None:
        """Send one command (non-blocking); raise on a local error."""

    def close(self) -> None: ...


@dataclass
class MemoryControlPublisher:
    """Keeps the commands it was given, for tests."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False

    def send(self, command: dict[str, Any]) -> None:
        self.sent.append(command)

    def close(self) -> None:
        self.closed = True


class KafkaControlPublisher:
    """Produces commands as JSON to ``SIM_CONTROL``; the producer is made on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producer: Any = None
        self.delivered = 0
        self.failed = 0
        #: the one-line refusal when the cluster refuses this principal the control topic
        self.refused: str | None = None

    def _on_delivery(self, err: Any, _msg: Any) -> None:
        if err is None:
            self.delivered += 1
            return
        self.failed += 1
        from cta_core.kafka_clients import refusal

        refused = refusal(err, self.settings, "WRITE", topics.SIM_CONTROL)
        if refused is not None and self.refused is None:
            self.refused = str(refused)  # e.g. a read-only principal: said once, in one line
            logging.getLogger(__name__).error("%s", self.refused)

    def send(self, command: dict[str, Any]) -> None:
        if self._producer is None:
            from cta_core.kafka_clients import make_producer
            from cta_tui.logs import kafka_logger

            self._producer = make_producer(
                self.settings, **{"linger.ms": 0, "message.timeout.ms": 10000, "logger": kafka_logger()}
            )
        self._producer.produce(
            topics.SIM_CONTROL,
            key=str(command["command_id"]).encode(),
            value=json.dumps(command).encode(),
            on_delivery=self._on_delivery,
        )
        self._producer.poll(0)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(3.0)
            self._producer = None


@dataclass
class PendingAcks:
    """Commands sent and not yet acknowledged, with their send times (pure)."""

    pending: dict[str, tuple[str, float]] = field(default_factory=dict)

    def sent(self, command: dict[str, Any], now: float) -> None:
        self.pending[str(command["command_id"])] = (str(command["command"]), now)

    def acknowledged(self, last_command_id: str | None) -> str | None:
        """Mark ``last_command_id`` (from a status) acknowledged; return its command name.

        Commands are applied in order, so every command sent before it is settled too.
        """
        if not last_command_id or last_command_id not in self.pending:
            return None
        _name, sent_at = self.pending[last_command_id]
        name = self.pending.pop(last_command_id)[0]
        for cid, (_, t) in list(self.pending.items()):
            if t <= sent_at:
                del self.pending[cid]
        return name

    def expired(self, now: float, timeout: float = ACK_TIMEOUT) -> list[str]:
        """Drop and return the names of commands older than ``timeout`` seconds."""
        out = []
        for cid, (name, t) in list(self.pending.items()):
            if now - t >= timeout:
                out.append(name)
                del self.pending[cid]
        return out
