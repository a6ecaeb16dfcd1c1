"""App-wide messages (past tense, small dataclasses) posted by the workers.

Workers post these from their threads; handlers on the app apply them to the state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from cta_tui.state.model import ServiceHealth
from cta_tui.state.records import Batch, Record


class DataMessage(Message):
    """Base of the app's messages (Textual's Message initialises dataclasses in __post_init__)."""


@dataclass(eq=False)
class RecordsReceived(DataMessage):
    """Base: one topic's records from one poll."""

    records: list[Record]
    #: set on the last message of a batch: handling it frees the feed worker's slot
    releases_slot: bool = False


@dataclass(eq=False)
class ArrivalsReceived(RecordsReceived):
    pass


@dataclass(eq=False)
class StationsReceived(RecordsReceived):
    pass


@dataclass(eq=False)
class SummaryReceived(RecordsReceived):
    pass


@dataclass(eq=False)
class WeatherReceived(RecordsReceived):
    pass


@dataclass(eq=False)
class SimStatusReceived(RecordsReceived):
    pass


@dataclass(eq=False)
class FeedStatsReceived(DataMessage):
    """Malformed counts and lag measured in one poll (no records)."""

    batch: Batch = field(default_factory=Batch)


@dataclass(eq=False)
class FeedFailed(DataMessage):
    """The feed's backend failed; the worker retries after ``retry_in`` seconds."""

    error: str
    retry_in: float


@dataclass(eq=False)
class FeedConnected(DataMessage):
    """The feed's first poll succeeded: Kafka answers, even if no topic has data yet."""


@dataclass(eq=False)
class FeedRecovered(DataMessage):
    """The feed answers again after a failure."""


@dataclass(eq=False)
class HealthChecked(DataMessage):
    services: list[ServiceHealth]


@dataclass(eq=False)
class SimulatorAcknowledged(DataMessage):
    command: str
    command_id: str


@dataclass(eq=False)
class MomentRead(DataMessage):
    """A rewind's past moment, read (a :class:`cta_tui.rewind.engine.Rewound`)."""

    rewound: object
    #: the request it answers (older answers are dropped)
    request: int = 0


@dataclass(eq=False)
class MomentFailed(DataMessage):
    """A rewind could not be read: why (the earliest moment it can show, Kafka down...)."""

    error: str
    request: int = 0


@dataclass(eq=False)
class MomentProgressed(DataMessage):
    """Records read so far by a rewind (shown while it takes long)."""

    records: int
    request: int = 0


@dataclass(eq=False)
class LiveReached(DataMessage):
    """A rewind or a play forward reached the present: back to live."""

    request: int = 0


@dataclass(eq=False)
class MomentAdvanced(DataMessage):
    """The records from the moment shown to a later one (a :class:`cta_tui.rewind.engine.Advance`)."""

    step: object
    request: int = 0
