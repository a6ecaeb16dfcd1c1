"""Train Tracker predictions in the dashboard's state (pure: no Textual, no Kafka).

Records of ``org.chicago.cta.predictions.v1`` are one (station, train) prediction each
(:class:`cta_core.records.prediction.Prediction`);
a train's current set is the records with its newest ``generated_at`` (the job publishes
a train's whole set at once), so a station the train has passed drops off the board.

The stream is the biggest the dashboard reads (about 14 records per arrival) and only
the station board, the line view's delay marks and a followed train show it, so records
are kept as they come (undecoded, see :class:`cta_tui.state.records.Deferred`) and
decoded when one of those asks (:meth:`PredictionBook.settle`): the other screens pay
nothing for them. At most :data:`PENDING_MAX` wait; older ones are dropped, as a newer
set of the same train supersedes them anyway.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cta_core.records.prediction import Prediction
from cta_tui.state.records import Record, settle_values

#: a prediction this far in the past (ms, simulated) is no longer shown
STALE_MS = 120_000
#: how many next trains a board lists per direction
NEXT_PER_DIRECTION = 6
#: records kept undecoded until a screen shows predictions (20,000: 29 s of the stream at
#: --speed 60, 2.6 s at --speed 600, i.e. 26 simulated minutes: every train publishes a
#: new set at each arrival, every few simulated minutes)
PENDING_MAX = 20_000


#: two readings of the simulated clock this far apart (ms) belong to different simulator
#: runs (a restarted run's clock and its trains' arrival ``seq`` start again); the
#: arrival reducer uses it too (model.py imports this module, so it lives here)
RUN_JUMP_MS = 10 * 60_000


@dataclass
class PredictionBook:
    #: station -> train -> its latest prediction there
    by_station: dict[int, dict[str, Prediction]] = field(default_factory=dict)
    #: train -> generated_at of its newest set
    generation: dict[str, int] = field(default_factory=dict)
    #: the newest generated_at applied (see :attr:`now_ms`)
    newest_ms: int = 0
    bad: int = 0
    #: records not decoded yet (bounded)
    pending: deque[Record] = field(default_factory=lambda: deque(maxlen=PENDING_MAX))
    #: bumped whenever records are applied (what the views' caches compare)
    version: int = 0
    _delayed: tuple[int, set[str]] = field(default=(-1, set()), repr=False)

    def settle(self) -> None:
        """Decode and apply the records that wait (what every question asks first)."""
        if self.pending:
            # in the order they were written (the records' Kafka timestamps), not the order
            # they were read: a set's records are spread over the topic's partitions (keyed
            # by station), and a backlog (a dashboard starting, a rewind) reads one
            # partition far ahead of another, which would look like a new simulator run
            records = sorted(self.pending, key=_written_ms)
            self.pending.clear()
            _apply(self, settle_values(records))

    @property
    def now_ms(self) -> int:
        """The newest generated_at seen: the simulated "now" of the predictions."""
        self.settle()
        return self.newest_ms

    @property
    def malformed(self) -> int:
        self.settle()
        return self.bad

    def current(self, entry: Prediction) -> bool:
        return entry.generated_ms >= self.generation.get(entry.train_id, 0) and (
            entry.predicted_ms >= self.newest_ms - STALE_MS
        )

    def next_at(self, station_id: int) -> list[Prediction]:
        """The station's current predictions, soonest first."""
        self.settle()
        entries = self.by_station.get(station_id, {}).values()
        return sorted((e for e in entries if self.current(e)), key=lambda e: e.predicted_ms)

    def train_stops(self, train_id: str) -> list[Prediction]:
        """A followed train's upcoming stops, soonest first."""
        self.settle()
        out = [
            e
            for per_station in self.by_station.values()
            for tid, e in per_station.items()
            if tid == train_id and self.current(e)
        ]
        return sorted(out, key=lambda e: e.predicted_ms)

    def delayed_trains(self) -> set[str]:
        """Trains whose current predictions say delayed or fault (the line view marks them)."""
        self.settle()
        if self._delayed[0] == self.version:
            return set(self._delayed[1])  # nothing applied since: the same answer
        out: set[str] = set()
        for per_station in self.by_station.values():
            for e in per_station.values():
                if (e.delayed or e.fault) and self.current(e):
                    out.add(e.train_id)
        self._delayed = (self.version, out)
        return set(out)


def _written_ms(record: Record) -> int:
    """When the record was written (0 when unknown: such records keep their order)."""
    return record.timestamp_ms or 0


def apply_prediction_records(book: PredictionBook, records: Iterable[Record]) -> int:
    """Keep records for the book (decoded and applied when a screen asks)."""
    before = len(book.pending)
    book.pending.extend(records)
    return len(book.pending) - before


def _apply(book: PredictionBook, values: list[Any]) -> int:
    """Fold decoded values into the book; malformed ones are counted and skipped."""
    n = 0
    book.version += 1
    for value in values:
        try:
            e = Prediction.from_value(value)
        except (KeyError, TypeError, ValueError):
            book.bad += 1
            continue
        if e.generated_ms < book.newest_ms - RUN_JUMP_MS:
            # far behind everything shown: a new simulator run (its clock starts again),
            # not a late set; what the book holds belongs to the earlier run
            book.by_station.clear()
            book.generation.clear()
            book.newest_ms = e.generated_ms
        if e.generated_ms < book.generation.get(e.train_id, 0):
            continue  # an older set than the one shown
        book.generation[e.train_id] = e.generated_ms
        book.newest_ms = max(book.newest_ms, e.generated_ms)
        book.by_station.setdefault(e.station_id, {})[e.train_id] = e
        n += 1
    if n:
        _forget_stale(book)
    return n


def _forget_stale(book: PredictionBook) -> None:
    limit = book.newest_ms - STALE_MS
    for sid in list(book.by_station):
        per = book.by_station[sid]
        for tid in [t for t, e in per.items() if e.predicted_ms < limit]:
            del per[tid]
        if not per:
            del book.by_station[sid]


def prediction_json(p: Prediction, now_ms: int) -> dict[str, Any]:
    """One prediction as ``cta-tui --once --json`` shows it."""
    return {
        "train_id": p.train_id,
        "line": p.line,
        "direction": p.direction,
        "destination": p.destination,
        "predicted_arrival_ms": p.predicted_ms,
        "due": p.minutes_label(now_ms),
        "approaching": p.approaching,
        "delayed": p.delayed,
        "fault": p.fault,
        "scheduled": p.scheduled,
    }


def predictions_json(book: PredictionBook, station_ids: Iterable[int]) -> dict[str, list[dict[str, Any]]]:
    """Each station's next predictions for ``cta-tui --once --json``."""
    out: dict[str, list[dict[str, Any]]] = {}
    for sid in station_ids:
        nxt = book.next_at(sid)
        if nxt:
            out[str(sid)] = [prediction_json(e, book.now_ms) for e in nxt[: 2 * NEXT_PER_DIRECTION]]
    return out
