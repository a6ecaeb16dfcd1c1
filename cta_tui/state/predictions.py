"""Train Tracker predictions in the dashboard's state (pure: no Textual, no Kafka).

Records of ``org.chicago.cta.predictions.v1`` are one (station, train) prediction each;
a train's current set is the records with its newest ``generated_at`` (the job publishes
a train's whole set at once), so a station the train has passed drops off the board.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cta_tui.state.records import Record

#: "Due" when the train is this close (ms), as Train Tracker shows it
DUE_MS = 60_000
#: a prediction this far in the past (ms, simulated) is no longer shown
STALE_MS = 120_000
#: how many next trains a board lists per direction
NEXT_PER_DIRECTION = 6


@dataclass(slots=True)
class PredictionEntry:
    station_id: int
    line: str
    direction: str
    train_id: str
    destination: str
    predicted_ms: int
    generated_ms: int
    approaching: bool = False
    delayed: bool = False
    fault: bool = False
    scheduled: bool = False

    def minutes_label(self, now_ms: int) -> str:
        """ "Due" or "N min", as Train Tracker shows it."""
        ahead = self.predicted_ms - now_ms
        if ahead <= DUE_MS or self.approaching:
            return "Due"
        return f"{round(ahead / 60_000)} min"

    def as_json(self, now_ms: int) -> dict[str, Any]:
        return {
            "train_id": self.train_id,
            "line": self.line,
            "direction": self.direction,
            "destination": self.destination,
            "predicted_arrival_ms": self.predicted_ms,
            "due": self.minutes_label(now_ms),
            "approaching": self.approaching,
            "delayed": self.delayed,
            "fault": self.fault,
            "scheduled": self.scheduled,
        }


#: two readings of the simulated clock this far apart (ms) belong to different simulator
#: runs (a restarted run's clock and its trains' arrival ``seq`` start again); the
#: arrival reducer uses it too (model.py imports this module, so it lives here)
RUN_JUMP_MS = 10 * 60_000


@dataclass
class PredictionBook:
    #: station -> train -> its latest prediction there
    by_station: dict[int, dict[str, PredictionEntry]] = field(default_factory=dict)
    #: train -> generated_at of its newest set
    generation: dict[str, int] = field(default_factory=dict)
    #: the newest generated_at seen: the simulated "now" of the predictions
    now_ms: int = 0
    malformed: int = 0

    def current(self, entry: PredictionEntry) -> bool:
        return entry.generated_ms >= self.generation.get(entry.train_id, 0) and (
            entry.predicted_ms >= self.now_ms - STALE_MS
        )

    def next_at(self, station_id: int) -> list[PredictionEntry]:
        """The station's current predictions, soonest first."""
        entries = self.by_station.get(station_id, {}).values()
        return sorted((e for e in entries if self.current(e)), key=lambda e: e.predicted_ms)

    def train_stops(self, train_id: str) -> list[PredictionEntry]:
        """A followed train's upcoming stops, soonest first."""
        out = [
            e
            for per_station in self.by_station.values()
            for tid, e in per_station.items()
            if tid == train_id and self.current(e)
        ]
        return sorted(out, key=lambda e: e.predicted_ms)

    def delayed_trains(self) -> set[str]:
        """Trains whose current predictions say delayed or fault (the line view marks them)."""
        out: set[str] = set()
        for per_station in self.by_station.values():
            for e in per_station.values():
                if (e.delayed or e.fault) and self.current(e):
                    out.add(e.train_id)
        return out


def _entry(value: Any) -> PredictionEntry:
    if not isinstance(value, dict):
        raise TypeError("not a record")
    return PredictionEntry(
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


def apply_prediction_records(book: PredictionBook, records: Iterable[Record]) -> int:
    """Fold records into the book; malformed ones are counted and skipped."""
    n = 0
    for record in records:
        try:
            e = _entry(record.value)
        except (KeyError, TypeError, ValueError):
            book.malformed += 1
            continue
        if e.generated_ms < book.now_ms - RUN_JUMP_MS:
            # far behind everything shown: a new simulator run (its clock starts again),
            # not a late set; what the book holds belongs to the earlier run
            book.by_station.clear()
            book.generation.clear()
            book.now_ms = e.generated_ms
        if e.generated_ms < book.generation.get(e.train_id, 0):
            continue  # an older set than the one shown
        book.generation[e.train_id] = e.generated_ms
        book.now_ms = max(book.now_ms, e.generated_ms)
        book.by_station.setdefault(e.station_id, {})[e.train_id] = e
        n += 1
    if n:
        _forget_stale(book)
    return n


def _forget_stale(book: PredictionBook) -> None:
    limit = book.now_ms - STALE_MS
    for sid in list(book.by_station):
        per = book.by_station[sid]
        for tid in [t for t, e in per.items() if e.predicted_ms < limit]:
            del per[tid]
        if not per:
            del book.by_station[sid]


def predictions_json(book: PredictionBook, station_ids: Iterable[int]) -> dict[str, list[dict[str, Any]]]:
    """Each station's next predictions for ``cta-tui --once --json``."""
    out: dict[str, list[dict[str, Any]]] = {}
    for sid in station_ids:
        nxt = book.next_at(sid)
        if nxt:
            out[str(sid)] = [e.as_json(book.now_ms) for e in nxt[: 2 * NEXT_PER_DIRECTION]]
    return out
