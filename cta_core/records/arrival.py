"""An arrival (topic ``cta_core.topics.ARRIVALS``, schema ``arrival_value.avsc``) and the
statuses a train reports in it.

The simulator makes :class:`Arrival` records and writes them (its fast encoder writes
:data:`FIELDS` in order); the prediction job and the dashboard read decoded values back
with :meth:`Arrival.from_value`. Slotted and not frozen: hundreds of thousands are made
per second and frozen dataclasses construct several times slower; nothing mutates them.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any, ClassVar

from cta_core import topics

IN_SERVICE = "in_service"
BROKEN_DOWN = "broken_down"
OUT_OF_SERVICE = "out_of_service"
#: every ``train_status`` the simulator writes
TRAIN_STATUSES = (IN_SERVICE, BROKEN_DOWN, OUT_OF_SERVICE)

#: the arrival_value fields in schema order (the order the Avro encoding writes them)
FIELDS = (
    "station_id", "train_id", "direction", "line", "train_status", "prev_station_id",
    "prev_direction", "sim_time", "branch", "delay_s", "seq",
)  # fmt: skip


class MalformedArrival(ValueError):
    """A decoded arrival whose fields do not fit the topic contract."""


@dataclass(slots=True)
class Arrival:
    """A train reached a station (key ``{train_id}``).

    ``t`` is the simulated time in epoch seconds (the simulator's clock, finer than a
    millisecond); ``sim_time`` the contract's epoch milliseconds, ``int(t * 1000)`` when
    written (None when a record had none, and then ``t`` is NaN).
    """

    topic: ClassVar[str] = topics.ARRIVALS
    t: float
    sim_time: int | None
    station_id: int
    train_id: str
    direction: str
    line: str
    train_status: str = IN_SERVICE
    prev_station_id: int | None = None
    prev_direction: str | None = None
    branch: str | None = None
    delay_s: int | None = None
    seq: int | None = None

    @classmethod
    def at(
        cls, t: float, station_id: int, train_id: str, direction: str, line: str, *rest: Any, **kw: Any
    ) -> Arrival:
        """An arrival at simulated time ``t`` (epoch seconds), ``sim_time`` from it; the
        other fields as the constructor takes them."""
        return cls(t, int(t * 1000), station_id, train_id, direction, line, *rest, **kw)

    def key(self) -> dict[str, Any]:
        return {"train_id": self.train_id}

    def value(self) -> dict[str, Any]:
        """The Avro value (arrival_value.avsc)."""
        return {
            "station_id": self.station_id,
            "train_id": self.train_id,
            "direction": self.direction,
            "line": self.line,
            "train_status": self.train_status,
            "prev_station_id": self.prev_station_id,
            "prev_direction": self.prev_direction,
            "sim_time": self.sim_time,
            "branch": self.branch,
            "delay_s": self.delay_s,
            "seq": self.seq,
        }

    @classmethod
    def from_value(cls, value: Any) -> Arrival:
        """Read a decoded arrivals value; :class:`MalformedArrival` when it has no integer
        ``station_id``, no ``train_id`` or no string ``line``. Tolerant otherwise: a missing
        direction is "a", a missing status in service, a missing time None.

        Per record on the dashboard's hot path: a decoded Avro value has every field, so
        one C call takes them all; a partial one (a course consumer's) falls back to ``get``.
        """
        try:
            station_id, train_id, direction, line, status, prev, prev_dir, ms, branch, delay, seq = _fields(
                value
            )
        except KeyError:
            station_id, train_id, direction, line, status, prev, prev_dir, ms, branch, delay, seq = map(
                value.get, FIELDS
            )
        except TypeError:
            raise MalformedArrival("not a record") from None
        if station_id.__class__ is not int or train_id is None or line.__class__ is not str:
            raise MalformedArrival("station_id, train_id or line missing or mistyped")
        if ms.__class__ is not int:
            ms = _millis(ms)
        return cls(
            _NAN if ms is None else ms / 1000.0,
            ms,
            station_id,
            train_id if train_id.__class__ is str else str(train_id),
            direction or "a",
            line,
            status or IN_SERVICE,
            prev,
            prev_dir,
            branch,
            delay,
            seq,
        )


_fields = operator.itemgetter(*FIELDS)
_NAN = math.nan


def _millis(sim_time: Any) -> int | None:
    """Epoch milliseconds from what a decoder gives for ``sim_time``: None, an int, or a
    datetime (fastavro's reading of timestamp-millis when logical types are kept)."""
    if sim_time is None:
        return None
    if hasattr(sim_time, "timestamp"):
        return round(sim_time.timestamp() * 1000)
    if isinstance(sim_time, float) and math.isfinite(sim_time):
        return int(sim_time)
    raise MalformedArrival(f"sim_time must be epoch milliseconds, got {sim_time!r}")
