"""A Train Tracker prediction (topic ``cta_core.topics.PREDICTIONS``, schema
``prediction_value.avsc``): when one train is expected at one station.

The prediction job makes :class:`Prediction` records and writes :meth:`Prediction.value`
(its fast encoder writes the same fields); the dashboard reads decoded values back with
:meth:`Prediction.from_value`. Times are simulated epoch milliseconds, as on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: "Due" when the train is this close (ms), as Train Tracker shows it
DUE_MS = 60_000


@dataclass(slots=True)
class Prediction:
    """One (station, train) prediction (key ``{station_id}``). Not frozen: made per
    prediction on the job's hot path; nothing mutates them."""

    station_id: int
    line: str
    direction: str
    train_id: str
    #: the name shown on the train: its run's last station, or Loop
    destination: str
    #: when the train is expected (``predicted_arrival``)
    predicted_ms: int
    #: when the prediction was made (``generated_at``); a train's set shares it
    generated_ms: int
    approaching: bool = False
    delayed: bool = False
    fault: bool = False
    #: from the schedule, not from observed run times
    scheduled: bool = False

    def minutes_label(self, now_ms: int) -> str:
        """ "Due" or "N min" at simulated time ``now_ms``, as Train Tracker shows it."""
        ahead = self.predicted_ms - now_ms
        if ahead <= DUE_MS or self.approaching:
            return "Due"
        return f"{round(ahead / 60_000)} min"

    def value(self) -> dict[str, Any]:
        """The Avro value (prediction_value.avsc)."""
        return {
            "station_id": self.station_id,
            "line": self.line,
            "direction": self.direction,
            "train_id": self.train_id,
            "destination": self.destination,
            "predicted_arrival": self.predicted_ms,
            "generated_at": self.generated_ms,
            "approaching": self.approaching,
            "delayed": self.delayed,
            "fault": self.fault,
            "scheduled": self.scheduled,
        }

    @classmethod
    def from_value(cls, value: Any) -> Prediction:
        """Read a decoded predictions value; ``KeyError``/``TypeError``/``ValueError`` when a
        required field is missing or not a number where one is needed."""
        if not isinstance(value, dict):
            raise TypeError("not a record")
        return cls(
            int(value["station_id"]),
            str(value["line"]),
            str(value["direction"]),
            str(value["train_id"]),
            str(value.get("destination") or ""),
            int(value["predicted_arrival"]),
            int(value["generated_at"]),
            bool(value.get("approaching")),
            bool(value.get("delayed")),
            bool(value.get("fault")),
            bool(value.get("scheduled")),
        )
