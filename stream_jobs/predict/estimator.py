"""Learn run times from observed arrivals and predict where each train arrives next.

Pure: no Kafka, no clock of its own. Feed it arrivals in (roughly) time order with
:meth:`Estimator.observe` and call :meth:`Estimator.tick` every ~30 simulated seconds;
both return the predictions to publish.

What it learns, all from ``org.chicago.cta.station.arrivals.v1`` alone:

* **Segment times**: seconds from a train's arrival at the previous station to its
  arrival at the next one (so the dwell at the previous station is included), per
  (line, direction, previous station, station) and time-of-day period. The estimate
  is a recency-weighted mean of the recent samples near their median: a sample far
  above the median was a train held (by a failure or the train ahead), which the
  prediction models separately instead of smearing it over every later train.
* **Follow gaps**: the shortest arrival-to-arrival spacing of two trains at a station
  (the leader's dwell plus the time to run into the platform once it is clear). A train
  cannot pass the one ahead, so it is predicted no earlier than the leader's predicted
  arrival plus this gap, at every station ahead.
* **Failure holds**: how long a train reported ``broken_down`` stood still. A broken
  train is predicted to leave after the expected rest of its hold (given how long it
  has stood already), flagged ``fault``; the trains behind it inherit the hold through
  the no-passing rule and are flagged ``delayed``.

A train that has not reached its next station by its predicted time is moved forward
to "any moment now" (and flagged ``delayed`` once it is a minute overdue), so its
predictions and its followers' widen as it stands. Before a segment has any sample,
its time comes from the line map's scheduled estimate and the prediction is flagged
``scheduled``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cta_core.records.arrival import BROKEN_DOWN, OUT_OF_SERVICE, Arrival
from cta_core.records.prediction import Prediction
from stream_jobs.predict.routes import LOOP_LINES, LineMap, Stop

CHICAGO = ZoneInfo("America/Chicago")

#: predictions are published up to this far ahead (simulated seconds), as the CTA does
HORIZON_S = 15 * 60.0
#: ... and computed a little further, so followers see their leaders' times
LOOKAHEAD_S = HORIZON_S + 5 * 60.0
#: recent samples kept per segment and period
SAMPLES = 12
#: newest-first weight ratio of the recency-weighted mean
RECENCY = 0.85
#: a sample more than this above the median is a held train, not a run time
HELD_MARGIN_S = 20.0
#: a tick re-publishes a train's predictions when one moves by at least this much
REPUBLISH_S = 15.0
#: overdue by more than this: flagged delayed
DELAYED_AFTER_S = 60.0
#: an overdue train is expected this long after "now"
OVERDUE_REMAINING_S = 20.0
#: "approaching": due within this long
APPROACHING_S = 60.0
#: without samples: a failure holds a train this long; a follower arrives this long after the leader
PRIOR_HOLD_S = 600.0
PRIOR_GAP_S = 60.0
#: two trains arriving at a station closer than this were queued: their spacing is a follow gap
QUEUED_GAP_S = 150.0
#: an arrival this far before the train's last one is from a new run of the simulator
NEW_RUN_S = 1800.0
#: a train not heard from for this long is forgotten
FORGET_S = 3600.0


@dataclass(slots=True)
class Position:
    """Where a train was last seen."""

    line: str
    branch: str | None
    direction: str
    station_id: int
    t: float
    status: str
    seq: int | None


_PERIOD_CACHE: dict[int, str] = {}


def period_of(t: float) -> str:
    """The time-of-day period (Chicago local time) a sample or prediction belongs to."""
    hour_key = int(t // 3600)
    p = _PERIOD_CACHE.get(hour_key)
    if p is None:
        h = datetime.fromtimestamp(hour_key * 3600, UTC).astimezone(CHICAGO).hour
        p = (
            "night"
            if h < 6
            else "am_peak"
            if h < 9
            else "midday"
            if h < 15
            else "pm_peak"
            if h < 19
            else "evening"
        )
        _PERIOD_CACHE[hour_key] = p
    return p


def robust_recent_mean(samples: list[float] | deque[float]) -> float:
    """Recency-weighted mean of the samples near their median (newest last)."""
    ordered = sorted(samples)
    median = ordered[len(ordered) // 2]
    limit = median + HELD_MARGIN_S
    total = weight_sum = 0.0
    w = 1.0
    for x in reversed(samples):
        if x <= limit:
            total += w * x
            weight_sum += w
        w *= RECENCY
    return total / weight_sum


def conditional_remaining(holds: list[float], elapsed: float, prior: float) -> float:
    """Expected rest of a hold that has lasted ``elapsed`` s, from observed holds."""
    longer = [h - elapsed for h in holds if h > elapsed]
    if longer:
        return sum(longer) / len(longer)
    if not holds:
        return max(prior - elapsed, OVERDUE_REMAINING_S)
    return OVERDUE_REMAINING_S


SegKey = tuple[str, str, int, int]  # line, direction, prev station, station


@dataclass
class Estimator:
    """Learned state plus the latest position of every train."""

    line_map: LineMap
    horizon_s: float = HORIZON_S
    #: (segment, period) -> recent samples, newest last
    samples: dict[tuple[SegKey, str], deque[float]] = field(default_factory=dict)
    #: segment -> periods with samples (a period without falls back to another period's)
    periods_of: dict[SegKey, set[str]] = field(default_factory=dict)
    holds: deque[float] = field(default_factory=lambda: deque(maxlen=50))
    #: (line, direction, station) -> recent arrival-to-arrival gaps between two trains
    gaps: dict[tuple[str, str, int], deque[float]] = field(default_factory=dict)
    trains: dict[str, Position] = field(default_factory=dict)
    now: float = -math.inf
    #: changelog keys changed since :meth:`take_dirty`
    dirty: set[str] = field(default_factory=set)
    _estimates: dict[tuple[SegKey, str], float] = field(default_factory=dict)
    _gap_estimates: dict[tuple[str, str, int], float] = field(default_factory=dict)
    _last_at: dict[tuple[str, str, int], tuple[str, float]] = field(default_factory=dict)
    #: train -> station -> predicted arrival (the no-passing rule reads the leader's)
    _plan: dict[str, dict[Stop, float]] = field(default_factory=dict)
    _plan_stamp: dict[str, float] = field(default_factory=dict)
    _published: dict[str, tuple[tuple[int, float, bool, bool, bool], ...]] = field(default_factory=dict)
    _occ: dict[tuple[str, str, int], str] | None = None
    #: train -> the train ahead it was last planned behind, and the reverse
    _leader_of: dict[str, str] = field(default_factory=dict)
    _followers: dict[str, set[str]] = field(default_factory=dict)
    #: train -> its planned arrival at its next station (past it, the train is overdue)
    _first_eta: dict[str, float] = field(default_factory=dict)
    #: trains a tick must re-plan (their leader moved)
    _stale: set[str] = field(default_factory=set)
    _todo: set[str] = field(default_factory=set)

    # ------------------------------------------------------------------ learning
    def segment_estimate(
        self, line: str, direction: str, prev: int, station: int, t: float
    ) -> tuple[float, bool]:
        """(seconds, scheduled?) for one segment at time ``t``."""
        seg = (line, direction, prev, station)
        per = period_of(t)
        est = self._estimates.get((seg, per))
        if est is not None:
            return est, False
        periods = self.periods_of.get(seg)
        if periods:
            # another period's learned time beats the schedule; prefer the most samples
            best = max(periods, key=lambda p: len(self.samples[(seg, p)]))
            return self._estimates[(seg, best)], False
        return self.line_map.scheduled_s(line, prev, station), True

    def follow_gap(self, line: str, direction: str, station: int) -> float:
        return self._gap_estimates.get((line, direction, station), PRIOR_GAP_S)

    def hold_remaining(self, elapsed: float) -> float:
        return conditional_remaining(list(self.holds), elapsed, PRIOR_HOLD_S)

    def _learn_segment(self, seg: SegKey, t: float, value: float) -> None:
        per = period_of(t)
        key = (seg, per)
        dq = self.samples.get(key)
        if dq is None:
            dq = self.samples[key] = deque(maxlen=SAMPLES)
            self.periods_of.setdefault(seg, set()).add(per)
        dq.append(value)
        self._estimates[key] = robust_recent_mean(dq)
        self.dirty.add(_seg_key(seg, per))

    def _learn_gap(self, a: Arrival) -> None:
        key = (a.line, a.direction, a.station_id)
        last = self._last_at.get(key)
        self._last_at[key] = (a.train_id, a.t)
        if last is None or last[0] == a.train_id:
            return
        gap = a.t - last[1]
        if not 0 < gap < QUEUED_GAP_S:
            return  # trains this far apart ran freely: their spacing is the headway
        dq = self.gaps.get(key)
        if dq is None:
            dq = self.gaps[key] = deque(maxlen=20)
        dq.append(gap)
        self._gap_estimates[key] = _low(dq)
        self.dirty.add(_gap_key(key))

    def _starts_run(self, p: Position) -> bool:
        """Whether ``p`` is a terminal where the train lays over before its next run."""
        return not self.line_map.ahead(p.line, p.branch, p.direction, p.station_id) or (
            self.line_map.index.get((p.line, p.branch or "main", p.direction, p.station_id)) == 0
        )

    def observe(self, a: Arrival) -> list[Prediction]:
        """Learn from one arrival; return the arriving train's new predictions."""
        self.now = max(self.now, a.t)
        prev = self.trains.get(a.train_id)
        if prev is not None and a.t < prev.t - NEW_RUN_S:
            prev = None  # a new run of the simulator from an earlier time: a new train
        elif prev is not None and (
            (a.seq is not None and prev.seq is not None and a.seq <= prev.seq) or a.t < prev.t
        ):
            return []  # a record read again after a restart: already learned
        if (
            prev is not None
            and prev.status != OUT_OF_SERVICE
            and a.prev_station_id == prev.station_id
            and not self._starts_run(prev)
            and (a.direction == prev.direction or (a.line in LOOP_LINES and prev.direction == "a"))
        ):
            dt = a.t - prev.t
            seg = (a.line, a.direction, prev.station_id, a.station_id)
            if prev.status == BROKEN_DOWN:
                run, _ = self.segment_estimate(a.line, a.direction, prev.station_id, a.station_id, prev.t)
                self.holds.append(max(0.0, dt - run))
                self.dirty.add("hold")
            elif dt > 0:
                self._learn_segment(seg, prev.t, dt)
        self._learn_gap(a)
        if a.train_status == OUT_OF_SERVICE:
            self.trains.pop(a.train_id, None)
            self._plan.pop(a.train_id, None)
            self._published.pop(a.train_id, None)
            self.dirty.add(_train_key(a.train_id))
            return []
        self.trains[a.train_id] = Position(
            a.line, a.branch, a.direction, a.station_id, a.t, a.train_status, a.seq
        )
        self.dirty.add(_train_key(a.train_id))
        self._occupant[(a.line, a.direction, a.station_id)] = a.train_id
        # as of the arrival's own time: arrivals of other partitions may be read ahead of it
        preds = self._predict(a.train_id, a.t, stamp=math.nan)
        self._published[a.train_id] = _signature(preds)
        self._stale.update(self._followers.get(a.train_id, ()))
        return preds

    # ---------------------------------------------------------------- predicting
    @property
    def _occupant(self) -> dict[tuple[str, str, int], str]:
        """(line, direction, station) -> the train that arrived there last."""
        if self._occ is None:
            self._occ = {(p.line, p.direction, p.station_id): tid for tid, p in self.trains.items()}
        return self._occ

    def _leader(self, train_id: str, p: Position, route: tuple[Stop, ...]) -> tuple[str, int] | None:
        """The nearest train ahead on this train's route and the route index where it is."""
        occ = self._occupant
        for i, (sid, d) in enumerate(route):
            other = occ.get((p.line, d, sid))
            if other is None or other == train_id:
                continue
            q = self.trains.get(other)
            if q is not None and q.station_id == sid and q.direction == d:
                return other, i
        return None

    def _predict(self, train_id: str, now: float, stamp: float, depth: int = 0) -> list[Prediction]:
        """The train's predictions at ``now``; updates its plan for its followers.

        ``stamp`` marks a tick: leaders not yet planned in this tick are planned first.
        """
        p = self.trains.get(train_id)
        if p is None:
            return []
        route = self.line_map.ahead(p.line, p.branch, p.direction, p.station_id)
        plan: dict[Stop, float] = {}
        self._plan[train_id] = plan
        self._first_eta.pop(train_id, None)
        if not route:
            return []
        fault = p.status == BROKEN_DOWN
        hold = self.hold_remaining(now - p.t) + (now - p.t) if fault else 0.0
        lead_plan = self._leader_plan(train_id, p, route, now, stamp, depth)
        plan[(p.station_id, p.direction)] = p.t + hold
        return self._walk(train_id, p, route, plan, lead_plan, now, p.t + hold, fault)

    def _leader_plan(
        self, train_id: str, p: Position, route: tuple[Stop, ...], now: float, stamp: float, depth: int
    ) -> dict[Stop, float]:
        """The plan of the train ahead (refreshed first in a tick), with where it stands now."""
        lead = self._leader(train_id, p, route[:40])
        self._set_leader(train_id, lead[0] if lead is not None else None)
        if lead is None:
            return {}
        if stamp == stamp and lead[0] in self._todo and self._plan_stamp.get(lead[0]) != stamp and depth < 60:
            self._plan_stamp[lead[0]] = stamp
            self._predict(lead[0], now, stamp, depth + 1)
        lead_plan = self._plan.get(lead[0], {})
        q = self.trains[lead[0]]
        here = (q.station_id, q.direction)
        if here not in lead_plan:
            at = q.t + (self.hold_remaining(now - q.t) + (now - q.t) if q.status == BROKEN_DOWN else 0.0)
            lead_plan = {**lead_plan, here: at}
        return lead_plan

    def _walk(
        self,
        train_id: str,
        p: Position,
        route: tuple[Stop, ...],
        plan: dict[Stop, float],
        lead_plan: dict[Stop, float],
        now: float,
        eta: float,
        fault: bool,
    ) -> list[Prediction]:
        """Add up the segment times along ``route``, never closer to the train ahead than
        its learned following gap; the stops within the horizon become predictions."""
        destination = self.line_map.destination(p.line, p.branch, p.direction)
        out: list[Prediction] = []
        prev = p.station_id
        scheduled = False
        delayed = False
        line = p.line
        # the hot loop: one period for the whole walk, dictionary lookups inlined
        per = period_of(eta)
        estimates = self._estimates
        gaps = self._gap_estimates
        horizon = now + self.horizon_s
        now_ms = int(now * 1000)
        lookahead = now + LOOKAHEAD_S
        for i, stop in enumerate(route):
            sid, d = stop
            seg = (line, d, prev, sid)
            run = estimates.get((seg, per))
            if run is None:
                run, sched = self.segment_estimate(line, d, prev, sid, eta)
                scheduled = scheduled or sched
            eta += run
            if i == 0:
                self._first_eta[train_id] = eta
                if eta < now:
                    delayed = now - eta > DELAYED_AFTER_S
                    eta = now + OVERDUE_REMAINING_S
            lead_t = lead_plan.get(stop)
            if lead_t is not None:
                floor = lead_t + gaps.get((line, d, sid), PRIOR_GAP_S)
                if floor > eta:
                    # held behind the train ahead: from here on the train is late
                    delayed = delayed or floor - eta > DELAYED_AFTER_S
                    eta = floor
            if eta > lookahead:
                break
            plan[stop] = eta
            if eta <= horizon:
                near = i == 0 and eta - now <= APPROACHING_S
                ms = int(eta * 1000)
                out.append(
                    Prediction(
                        sid, line, d, train_id, destination, ms, now_ms, near, delayed, fault, scheduled
                    )
                )
            prev = sid
        return out

    def _set_leader(self, train_id: str, leader: str | None) -> None:
        old = self._leader_of.get(train_id)
        if old == leader:
            return
        if old is not None:
            self._followers.get(old, set()).discard(train_id)
        if leader is None:
            self._leader_of.pop(train_id, None)
        else:
            self._leader_of[train_id] = leader
            self._followers.setdefault(leader, set()).add(train_id)

    def tick(self, now: float) -> list[Prediction]:
        """Re-plan the trains whose plan may have moved by ``now`` (overdue, broken down, or
        behind a train that moved); return the sets that changed noticeably."""
        self.now = max(self.now, now)
        for tid, p in list(self.trains.items()):
            if now - p.t > FORGET_S:
                del self.trains[tid]
                self._plan.pop(tid, None)
                self._published.pop(tid, None)
                self._occ = None
                self.dirty.add(_train_key(tid))
        out: list[Prediction] = []
        stamp = now
        inf = math.inf
        todo = {
            tid
            for tid, p in self.trains.items()
            if p.status == BROKEN_DOWN or self._first_eta.get(tid, inf) <= now
        }
        todo |= self._stale & self.trains.keys()
        self._stale.clear()
        self._todo = todo
        queue = sorted(todo)
        while queue:
            tid = queue.pop()
            if self._plan_stamp.get(tid) == stamp and tid not in todo:
                continue
            todo.discard(tid)
            self._plan_stamp[tid] = stamp
            preds = self._predict(tid, now, stamp)
            sig = _signature(preds)
            if _changed(self._published.get(tid), sig):
                self._published[tid] = sig
                out.extend(preds)
                # the trains behind it see its new times
                for f in self._followers.get(tid, ()):
                    if f in self.trains and self._plan_stamp.get(f) != stamp:
                        todo.add(f)
                        queue.append(f)
        self._todo = set()
        return out

    def predictions_for(self, train_id: str, now: float) -> list[Prediction]:
        """The train's predictions at ``now`` without publishing bookkeeping (tests, scoring)."""
        return self._predict(train_id, now, stamp=math.nan)

    def republish(self, train_ids: list[str], now: float) -> list[Prediction]:
        """The current predictions of ``train_ids`` at ``now``, recorded as published and
        their positions marked for the changelog (a worker taking trains over)."""
        out: list[Prediction] = []
        for tid in train_ids:
            if tid not in self.trains:
                continue
            preds = self._predict(tid, now, stamp=math.nan)
            self._published[tid] = _signature(preds)
            self.dirty.add(_train_key(tid))
            out.extend(preds)
        return out

    def observe_quietly(self, a: Arrival) -> None:
        """Learn from an arrival another worker publishes for: no changelog records."""
        kept, self.dirty = self.dirty, set()
        try:
            self.observe(a)
        finally:
            self.dirty = kept

    # ------------------------------------------------------------ changelog state
    def take_dirty(self) -> dict[str, dict[str, Any] | None]:
        """Changelog records (key -> JSON value, None = tombstone) for what changed."""
        out = {key: self.export(key) for key in self.dirty}
        self.dirty.clear()
        return out

    def export(self, key: str) -> dict[str, Any] | None:
        kind, _, rest = key.partition("|")
        if kind == "seg":
            line, direction, prev, station, per = rest.split("|")
            dq = self.samples.get(((line, direction, int(prev), int(station)), per))
            return {"samples": list(dq)} if dq else None
        if kind == "gap":
            line, direction, station = rest.split("|")
            g = self.gaps.get((line, direction, int(station)))
            return {"gaps": list(g)} if g else None
        if kind == "hold":
            return {"holds": list(self.holds)}
        if kind == "train":
            p = self.trains.get(rest)
            if p is None:
                return None
            return {
                "line": p.line,
                "branch": p.branch,
                "direction": p.direction,
                "station_id": p.station_id,
                "t": p.t,
                "status": p.status,
                "seq": p.seq,
            }
        raise KeyError(key)

    def restore(self, key: str, value: dict[str, Any] | None) -> None:
        """Apply one changelog record (the latest per key wins); ``ValueError`` when malformed."""
        kind, _, rest = key.partition("|")
        try:
            if kind == "seg":
                line, direction, prev, station, per = rest.split("|")
                seg = (line, direction, int(prev), int(station))
                if value is None:
                    self.samples.pop((seg, per), None)
                    self._estimates.pop((seg, per), None)
                    self.periods_of.get(seg, set()).discard(per)
                    return
                dq = deque((float(x) for x in value["samples"]), maxlen=SAMPLES)
                if not dq:
                    return
                self.samples[(seg, per)] = dq
                self.periods_of.setdefault(seg, set()).add(per)
                self._estimates[(seg, per)] = robust_recent_mean(dq)
            elif kind == "gap":
                line, direction, station = rest.split("|")
                gkey = (line, direction, int(station))
                if value is None or not value["gaps"]:
                    self.gaps.pop(gkey, None)
                    self._gap_estimates.pop(gkey, None)
                    return
                self.gaps[gkey] = deque((float(x) for x in value["gaps"]), maxlen=20)
                self._gap_estimates[gkey] = _low(self.gaps[gkey])
            elif kind == "hold":
                self.holds = deque((float(x) for x in (value or {}).get("holds", [])), maxlen=50)
            elif kind == "train":
                self._occ = None
                if value is None:
                    self.trains.pop(rest, None)
                    return
                p = Position(
                    str(value["line"]),
                    value.get("branch"),
                    str(value["direction"]),
                    int(value["station_id"]),
                    float(value["t"]),
                    str(value["status"]),
                    value.get("seq"),
                )
                self.trains[rest] = p
                self.now = max(self.now, p.t)
            else:
                raise ValueError(f"unknown state key {key!r}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"malformed state record {key!r}: {exc}") from None

    def learned_segments(self) -> int:
        return len(self.periods_of)


def _seg_key(seg: SegKey, per: str) -> str:
    return f"seg|{seg[0]}|{seg[1]}|{seg[2]}|{seg[3]}|{per}"


def _gap_key(key: tuple[str, str, int]) -> str:
    return f"gap|{key[0]}|{key[1]}|{key[2]}"


def _train_key(train_id: str) -> str:
    return f"train|{train_id}"


def _low(values: deque[float]) -> float:
    """A low quantile (the second smallest): queued trains set the shortest spacing."""
    ordered = sorted(values)
    return ordered[min(1, len(ordered) - 1)]


def _signature(preds: list[Prediction]) -> tuple[tuple[int, float, bool, bool, bool], ...]:
    return tuple((p.station_id, p.predicted_ms / 1000.0, p.delayed, p.fault, p.scheduled) for p in preds)


def _changed(
    old: tuple[tuple[int, float, bool, bool, bool], ...] | None,
    new: tuple[tuple[int, float, bool, bool, bool], ...],
) -> bool:
    if old is None:
        return bool(new)
    if len(old) != len(new):
        return True
    for a, b in zip(old, new, strict=True):
        if a[0] != b[0] or a[2:] != b[2:] or abs(a[1] - b[1]) >= REPUBLISH_S:
            return True
    return False
