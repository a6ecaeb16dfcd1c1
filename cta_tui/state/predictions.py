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
set of the same train supersedes them anyway. The station board decodes only its own
station's records (:meth:`PredictionBook.at_station`, :class:`StationView`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from cta_core.avro import zigzag_long
from cta_core.records.prediction import Prediction
from cta_tui.state.records import Deferred, Record, settle_values

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
    #: records received in all (the station view reads the ones it has not seen)
    received: int = 0
    #: (station, train) -> simulated ms of the train's last arrival there (see StationView)
    visits: dict[tuple[int, str], int] = field(default_factory=dict)
    _view: StationView | None = field(default=None, repr=False)
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
            self._view = None  # what it had not read is applied here: seeded again

    def visited(self, station_id: int, train_id: str, sim_ms: int) -> None:
        """A train arrived at a station (the arrivals reducer tells; the station view
        hides that train's older predictions there)."""
        self.visits[(station_id, train_id)] = sim_ms

    def at_station(self, station_id: int) -> tuple[list[Prediction], int]:
        """One station's current predictions, soonest first, and the simulated "now" to
        label them with (the newest generated_at among them: every train bound there
        publishes a new set at each of its arrivals), decoding only the records keyed by
        that station (the station board's question: see :class:`StationView`)."""
        view = self._view
        if view is None or view.station_id != station_id:
            view = self._view = StationView.seeded(self, station_id)
        view.read(self)
        return view.shown(self), view.newest_ms

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


@dataclass
class StationView:
    """One station's predictions read from the stream without decoding the rest of it.

    The topic is keyed by station, so the records of other stations are told apart by
    their key's bytes and never decoded (at --speed 600 the board decoded 7,600 records a
    second for the dozen it shows). Without the other stations' records a train's newest
    set is not known, so a station the train has passed is told by the arrivals instead:
    a prediction made before the train's last arrival at this station is hidden. Records
    whose key is not a Confluent-framed Avro long are decoded and told by their value.
    """

    station_id: int
    #: the key's bytes after the 5-byte Confluent header: the station id as an Avro long
    key_tail: bytes
    #: train -> its newest prediction at this station
    entries: dict[str, Prediction] = field(default_factory=dict)
    newest_ms: int = 0
    #: the book's ``received`` when the view last read
    seen: int = 0

    @classmethod
    def seeded(cls, book: PredictionBook, station_id: int) -> StationView:
        """A view starting from what the book has applied (its pending records unread)."""
        entries = {t: e for t, e in book.by_station.get(station_id, {}).items() if book.current(e)}
        view = cls(station_id, zigzag_long(station_id), entries, book.newest_ms)
        view.seen = book.received - len(book.pending)
        return view

    def read(self, book: PredictionBook) -> None:
        """Apply the station's records among those received since the last read."""
        new = min(book.received - self.seen, len(book.pending))
        self.seen = book.received
        if new <= 0:
            return
        tail = self.key_tail
        mine = [
            r
            for r in islice(reversed(book.pending), new)
            if not isinstance(r.value, Deferred)
            or (key := r.value.key) is None
            or key[:1] != b"\x00"
            or key[5:] == tail
        ]
        mine.sort(key=_written_ms)
        for value in settle_values(mine):
            try:
                e = Prediction.from_value(value)
            except (KeyError, TypeError, ValueError):
                continue  # counted when the whole stream is decoded (``malformed``)
            if e.station_id == self.station_id:
                self._apply(e)

    def _apply(self, e: Prediction) -> None:
        if e.generated_ms < self.newest_ms - RUN_JUMP_MS:
            self.entries.clear()  # a new simulator run (see _apply below)
            self.newest_ms = e.generated_ms
        old = self.entries.get(e.train_id)
        if old is None or e.generated_ms >= old.generated_ms:
            self.entries[e.train_id] = e
        self.newest_ms = max(self.newest_ms, e.generated_ms)

    def shown(self, book: PredictionBook) -> list[Prediction]:
        """The current entries, soonest first; stale and passed ones forgotten."""
        limit = self.newest_ms - STALE_MS
        visits, sid = book.visits, self.station_id
        for tid in [
            t for t, e in self.entries.items() if e.predicted_ms < limit or _passed(e, visits.get((sid, t)))
        ]:
            del self.entries[tid]
        return sorted(self.entries.values(), key=lambda e: e.predicted_ms)


def _passed(entry: Prediction, visit_ms: int | None) -> bool:
    """Whether the train arrived at the entry's station after the prediction was made
    (within a run: a visit far from it belongs to another simulator run)."""
    return visit_ms is not None and 0 < visit_ms - entry.generated_ms <= RUN_JUMP_MS


def _written_ms(record: Record) -> int:
    """When the record was written (0 when unknown: such records keep their order)."""
    return record.timestamp_ms or 0


def apply_prediction_records(book: PredictionBook, records: Iterable[Record]) -> int:
    """Keep records for the book (decoded and applied when a screen asks)."""
    kept = records if isinstance(records, list) else list(records)
    book.pending.extend(kept)
    book.received += len(kept)
    return len(kept)


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
