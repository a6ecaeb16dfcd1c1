"""Simulated time against wall time, per simulator run (pure: no Kafka, no Textual).

The simulator writes its status (run id, simulated clock, speed, paused) about once a
wall second to ``org.chicago.cta.sim.status.v1``; each status record's Kafka timestamp
says when. :func:`build_runs` groups those points by run, and :meth:`Run.wall_for`
answers "when (wall clock) did this run's simulated clock show ``sim_ms``?": the moment
whose records a rewind reads up to. Where the clock stood still at ``sim_ms`` (paused or
stopped) the answer is the end of that stretch: everything the run produced by then.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cta_core.errors import CtaError
from cta_core.records.status import SimStatus

CHICAGO = ZoneInfo("America/Chicago")


@dataclass(frozen=True, slots=True)
class StatusPoint:
    """One status record: its Kafka timestamp (wall ms) and what it said."""

    wall_ms: int
    status: SimStatus

    @property
    def sim_ms(self) -> int:
        return self.status.sim_time_ms or 0


@dataclass
class Run:
    """One simulator run's status points, in wall order."""

    run_id: str
    points: list[StatusPoint] = field(default_factory=list)
    #: when the run's records stop counting as its own (wall ms): the start of the next
    #: run, None while nothing followed (then: now)
    ends_at_ms: int | None = None

    @property
    def first(self) -> StatusPoint:
        return self.points[0]

    @property
    def last(self) -> StatusPoint:
        return self.points[-1]

    @property
    def sim_span(self) -> tuple[int, int]:
        return self.first.sim_ms, self.last.sim_ms

    @property
    def live(self) -> bool:
        """Still running (its last status is not a stop, and no run followed it)."""
        return not self.last.status.stopped and self.ends_at_ms is None

    def produced(self) -> dict[str, int]:
        """Records the run reported producing, per topic (its last status's counters)."""
        return dict(self.last.status.produced)

    def end_wall_ms(self, now_ms: int) -> int:
        return now_ms if self.ends_at_ms is None else min(now_ms, self.ends_at_ms - 1)

    def wall_for(self, sim_ms: int, now_ms: int) -> int:
        """The wall time (ms) at which the run's simulated clock showed ``sim_ms``;
        :class:`CtaError` before the earliest point held (:meth:`earliest_text`)."""
        if sim_ms < self.first.sim_ms:
            raise CtaError(
                f"{format_sim(sim_ms)} is before the earliest moment held for run {self.run_id}; "
                f"the earliest it can show is {format_sim(self.first.sim_ms)}"
            )
        sims = [p.sim_ms for p in self.points]
        i = bisect_right(sims, sim_ms) - 1
        here = self.points[i]
        if i + 1 >= len(self.points):
            return self.end_wall_ms(now_ms)
        after = self.points[i + 1]
        if sim_ms == here.sim_ms and (here.status.paused or here.status.stopped):
            return after.wall_ms - 1  # it stood still there until (about) the next status
        fraction = (sim_ms - here.sim_ms) / (after.sim_ms - here.sim_ms)
        return here.wall_ms + int(fraction * (after.wall_ms - here.wall_ms))

    def sim_for(self, wall_ms: int) -> int:
        """The run's simulated clock at wall time ``wall_ms`` (the inverse of
        :meth:`wall_for`, clamped to the run's span)."""
        walls = [p.wall_ms for p in self.points]
        i = bisect_right(walls, wall_ms) - 1
        if i < 0:
            return self.first.sim_ms
        here = self.points[i]
        if i + 1 >= len(self.points):
            return here.sim_ms
        after = self.points[i + 1]
        if after.wall_ms == here.wall_ms:
            return here.sim_ms
        fraction = (wall_ms - here.wall_ms) / (after.wall_ms - here.wall_ms)
        return here.sim_ms + int(fraction * (after.sim_ms - here.sim_ms))

    def status_at(self, wall_ms: int) -> StatusPoint:
        """The last status point written at or before ``wall_ms`` (the first if none)."""
        walls = [p.wall_ms for p in self.points]
        i = bisect_right(walls, wall_ms) - 1
        return self.points[max(i, 0)]


def build_runs(points: Iterable[StatusPoint]) -> list[Run]:
    """Status points grouped by run id, runs in order of their first point; a run ends
    where the first run that began after its last status begins (runs that overlap it
    ran beside it, on other topics). Points without a run id or a clock are skipped,
    and so are points that would set a run's clock back (a status of another run read
    out of order)."""
    runs: dict[str, Run] = {}
    for point in sorted(points, key=lambda p: p.wall_ms):
        run_id = point.status.run_id
        if not run_id or point.status.sim_time_ms is None:
            continue
        run = runs.setdefault(run_id, Run(run_id))
        if run.points and point.sim_ms < run.last.sim_ms:
            continue
        run.points.append(point)
    ordered = sorted(runs.values(), key=lambda r: r.first.wall_ms)
    starts = [r.first.wall_ms for r in ordered]
    for run in ordered:
        i = bisect_right(starts, run.last.wall_ms)
        run.ends_at_ms = starts[i] if i < len(starts) else None
    return ordered


def pick_run(runs: list[Run], run_id: str | None) -> Run:
    """The run asked for, or the current one (the latest started)."""
    if not runs:
        raise CtaError("no simulator run found on the status topic; start one with `cta-sim`")
    if run_id is None:
        return runs[-1]
    for run in runs:
        if run.run_id == run_id:
            return run
    known = ", ".join(r.run_id for r in runs[-5:])
    raise CtaError(f"no run {run_id} on the status topic (runs held: {known}); `cta-tui runs` lists them")


def format_sim(sim_ms: int, seconds: bool = False) -> str:
    """A simulated instant on Chicago's clock, HH:MM (or HH:MM:SS)."""
    return datetime.fromtimestamp(sim_ms / 1000, CHICAGO).strftime("%H:%M:%S" if seconds else "%H:%M")


def parse_sim_time(text: str, run: Run) -> int:
    """``HH:MM[:SS]`` on the run's simulated day (the day it falls within the run, when
    the run crosses midnight), or a full ISO 8601 date and time (Chicago's if no offset),
    as epoch ms; :class:`ValueError` for anything else."""
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is not None and ("T" in text or " " in text):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=CHICAGO)
        return int(moment.timestamp() * 1000)
    parts = text.split(":")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a time: {text!r} (HH:MM, HH:MM:SS or an ISO date and time)")
    hour, minute, second = (int(p) for p in (*parts, "0")[:3])
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"not a time: {text!r}")
    first, last = run.sim_span
    start = datetime.fromtimestamp(first / 1000, CHICAGO)
    best = None
    for days in range(-1, 3):
        day = (start + timedelta(days=days)).replace(hour=hour, minute=minute, second=second, microsecond=0)
        ms = int(day.timestamp() * 1000)
        if best is None or _distance(ms, first, last) < _distance(best, first, last):
            best = ms
    assert best is not None
    return best


def _distance(ms: int, first: int, last: int) -> int:
    """How far ``ms`` is outside [first, last] (0 inside)."""
    return max(first - ms, ms - last, 0)
