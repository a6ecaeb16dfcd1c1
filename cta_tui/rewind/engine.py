"""A past moment as the dashboard's own state: the windows read, folded by the reducers.

:class:`Rewinder` holds the reader (one consumer, kept open between rewinds) and the
runs read from the status topic; :meth:`Rewinder.state_at` returns a
:class:`~cta_tui.state.model.DashboardState` that every screen and ``--once --json``
show as they show the live one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cta_core import topics
from cta_core.settings import Settings
from cta_tui.feeds.topic_names import TopicNames
from cta_tui.rewind import windows
from cta_tui.rewind.reader import KafkaWindowReader, Ranges
from cta_tui.rewind.timeline import Run, build_runs, pick_run
from cta_tui.state.model import DashboardState
from cta_tui.state.records import Record
from cta_tui.state.reducers import apply_records, summary_station_id

#: how many weather readings before the moment are read (as the live feed does at start)
WEATHER_LAST = 3


@dataclass
class Rewound:
    """A rewind's result: the state, the run and the windows it was read from."""

    state: DashboardState
    run: Run
    plan: windows.Plan
    records: int = 0
    seconds: float = 0.0
    #: per contract topic: partition -> end offset read up to (where playing forward resumes)
    ends: dict[str, dict[int, int]] = field(default_factory=dict)


@dataclass
class Advance:
    """The records between a rewound moment and a later one (playing forward), for the
    app to fold into the moment's state on its own thread (:func:`apply_advance`)."""

    run: Run
    plan: windows.Plan
    status: Record
    records: dict[str, list[Record]]
    ends: dict[str, dict[int, int]]


def apply_advance(rewound: Rewound, step: Advance) -> None:
    """Fold a step forward into the rewound state (as the live feed folds new records)."""
    state = rewound.state
    at_s = step.plan.at_ms / 1000.0
    stations = step.records.get(topics.STATIONS_TABLE, [])
    if stations:
        apply_records(state, topics.STATIONS_TABLE, stations, at_s)
    apply_records(state, topics.SIM_STATUS, [step.status], (step.status.timestamp_ms or 0) / 1000.0)
    for topic in (topics.ARRIVALS, topics.TURNSTILE_SUMMARY, topics.WEATHER, topics.PREDICTIONS):
        records = step.records.get(topic, [])
        if records:
            apply_records(state, topic, records, at_s)
    rewound.run, rewound.plan, rewound.ends = step.run, step.plan, step.ends
    rewound.records += sum(len(v) for v in step.records.values())


class Rewinder:
    """Rewinds (blocking: a worker thread's or a command's)."""

    def __init__(
        self,
        settings: Settings,
        names: TopicNames,
        *,
        replay_minutes: float = 5.0,
        clock: Callable[[], float] = time.time,
        reader: KafkaWindowReader | None = None,
    ) -> None:
        self.names = names
        self.replay_ms = int(replay_minutes * 60_000)
        self.clock = clock
        self.reader = reader or KafkaWindowReader(settings, names)
        self._summary_keys: set[int] = set()

    def runs(self) -> list[Run]:
        return build_runs(self.reader.status_points())

    def run(self, run_id: str | None) -> Run:
        return pick_run(self.runs(), run_id)

    def state_at(self, run: Run, sim_ms: int, progress: Callable[[int], None] | None = None) -> Rewound:
        """The dashboard's state at the run's simulated instant ``sim_ms`` (CtaError before
        the earliest moment held)."""
        started = time.monotonic()
        now_ms = int(self.clock() * 1000)
        plan = windows.plan(run, sim_ms, now_ms, self.replay_ms)
        state = DashboardState()
        at_s = plan.at_ms / 1000.0
        ends: dict[str, dict[int, int]] = {}
        count = self._stations(state, plan, ends, at_s)
        point = run.status_at(plan.at_ms)
        status = Record(topics.SIM_STATUS, run.run_id, point.status.to_json(), point.wall_ms)
        apply_records(state, topics.SIM_STATUS, [status], point.wall_ms / 1000.0)
        ranges = self._event_ranges(plan, ends)
        decoded = self.reader.decode(self.reader.read(ranges, progress))
        summary = self._summary(state, plan, ends)
        decoded[topics.TURNSTILE_SUMMARY] = summary
        for topic in (topics.ARRIVALS, topics.TURNSTILE_SUMMARY, topics.WEATHER, topics.PREDICTIONS):
            records = sorted(decoded.get(topic, []), key=_timestamp)
            if records:
                apply_records(state, topic, records, at_s)
            count += len(records)
        state.feed_connected = True
        return Rewound(state, run, plan, count, time.monotonic() - started, ends)

    def advance(self, rewound: Rewound, sim_ms: int) -> Advance:
        """The records from ``rewound``'s moment to the later ``sim_ms`` of its run (read
        from where it stopped: playing forward costs what it reads, not a rewind)."""
        run = self.run(rewound.run.run_id)
        plan = windows.plan(run, sim_ms, int(self.clock() * 1000), self.replay_ms)
        ranges: Ranges = {}
        ends: dict[str, dict[int, int]] = {}
        for topic, physical in self._physical().items():
            bounds = self._ends(topic, plan.at_ms)
            ends[topic] = {p: end for p, (_low, end) in bounds.items()}
            done = rewound.ends.get(topic, {})
            for p, (low, end) in bounds.items():
                ranges[(physical, p)] = (max(low, done.get(p, end)), end)
        decoded = self.reader.decode(self.reader.read(ranges))
        point = run.status_at(plan.at_ms)
        status = Record(topics.SIM_STATUS, run.run_id, point.status.to_json(), point.wall_ms)
        records = {topic: sorted(recs, key=_timestamp) for topic, recs in decoded.items()}
        return Advance(run, plan, status, records, ends)

    def _physical(self) -> dict[str, str]:
        n = self.names
        return {
            topics.STATIONS_TABLE: n.stations_table,
            topics.ARRIVALS: n.arrivals,
            topics.TURNSTILE_SUMMARY: n.summary,
            topics.WEATHER: n.weather,
            topics.PREDICTIONS: n.predictions,
        }

    def _ends(self, topic: str, at_ms: int) -> dict[int, tuple[int, int]]:
        """Per partition (low watermark, end offset) at ``at_ms``."""
        physical = self._physical()[topic]
        found = self.reader.offsets_at(physical, at_ms + 1)
        out = {}
        for p, offset in found.items():
            low, high = self.reader.watermarks(physical, p)
            out[p] = (low, windows.end_offset(offset, high))
        return out

    def _stations(
        self, state: DashboardState, plan: windows.Plan, ends: dict[str, dict[int, int]], at_s: float
    ) -> int:
        physical = self._physical()[topics.STATIONS_TABLE]
        bounds = self._ends(topics.STATIONS_TABLE, plan.at_ms)
        ends[topics.STATIONS_TABLE] = {p: end for p, (_low, end) in bounds.items()}
        ranges: Ranges = {(physical, p): (low, end) for p, (low, end) in bounds.items()}
        records = self.reader.decode(self.reader.read(ranges)).get(topics.STATIONS_TABLE, [])
        if records:
            apply_records(state, topics.STATIONS_TABLE, records, at_s)
        return len(records)

    def _event_ranges(self, plan: windows.Plan, ends: dict[str, dict[int, int]]) -> Ranges:
        """Arrivals and predictions in the replay window, the last weather readings."""
        ranges: Ranges = {}
        for topic in (topics.ARRIVALS, topics.PREDICTIONS, topics.WEATHER):
            physical = self._physical()[topic]
            bounds = self._ends(topic, plan.at_ms)
            ends[topic] = {p: end for p, (_low, end) in bounds.items()}
            starts = self.reader.offsets_at(physical, plan.since_ms) if topic != topics.WEATHER else {}
            for p, (low, end) in bounds.items():
                if topic == topics.WEATHER:
                    start = max(low, end - WEATHER_LAST)
                else:
                    keep = windows.kept_per_partition(len(bounds)) if topic == topics.PREDICTIONS else None
                    start = windows.bounded_start(starts.get(p, -1), low, end, keep)
                ranges[(physical, p)] = (start, end)
        return ranges

    def _summary(
        self, state: DashboardState, plan: windows.Plan, ends: dict[str, dict[int, int]]
    ) -> list[Record]:
        """TURNSTILE_SUMMARY read backwards from the moment in chunks (see windows)."""
        physical = self._physical()[topics.TURNSTILE_SUMMARY]
        bounds = self._ends(topics.TURNSTILE_SUMMARY, plan.at_ms)
        ends[topics.TURNSTILE_SUMMARY] = {p: end for p, (_low, end) in bounds.items()}
        # the stations this summary has counted before (else the table's), so a later
        # rewind stops as soon as each has its count
        wanted = set(self._summary_keys) or set(state.station_names)
        upper = {p: end for p, (_low, end) in bounds.items()}
        seen: set[int] = set()
        out: list[Record] = []
        idle = 0
        while True:
            ranges: Ranges = {}
            for p, (low, _end) in bounds.items():
                start = max(low, upper[p] - windows.SUMMARY_CHUNK)
                ranges[(physical, p)] = (start, upper[p])
                upper[p] = start
            chunk = self.reader.decode(self.reader.read(ranges)).get(topics.TURNSTILE_SUMMARY, [])
            out = chunk + out  # older chunks first: each partition's offsets in order
            before = len(seen)
            seen.update(s for s in map(summary_station_id, chunk) if s is not None)
            idle = idle + 1 if len(seen) == before else 0
            oldest = min((r.timestamp_ms for r in chunk if r.timestamp_ms is not None), default=None)
            at_start = all(upper[p] <= low for p, (low, _end) in bounds.items())
            if windows.summary_done(seen, wanted, oldest, plan.history_ms, at_start, idle):
                self._summary_keys |= seen
                return out


def _timestamp(record: Record) -> Any:
    return record.timestamp_ms or 0
