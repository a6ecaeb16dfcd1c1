"""Runs the simulation against the clock: paces records, applies commands, reports status.

No Kafka here: records (events prepared for their sink, see :mod:`producers_sim.records`)
come from a :class:`~producers_sim.engine_pipe.EnginePipe` and go to an
:class:`~producers_sim.publishers.base.EventSink`, status documents to a
:class:`~producers_sim.publishers.base.StatusSink`, and commands come from a queue fed by
the control listener and the keyboard.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import math
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cta_core.records.control import Command, Rejected
from producers_sim.clock import CHICAGO, SimClock
from producers_sim.control import ControlState, TopicCounters, apply_command, status_document
from producers_sim.engine_pipe import EngineFailed, EnginePipe
from producers_sim.publishers.base import EventSink, StatusSink
from producers_sim.records import SinkRecord, record_time

#: a burst at full speed checks commands and the stop flag this often (wall seconds)
BURST_S = 0.05
#: records handed to the sink per call; the burst deadline is checked between calls
CHUNK = 1024
#: idle waits never exceed this, so commands apply promptly
MAX_WAIT_S = 0.05


@dataclass
class RunSummary:
    events: int
    counters: TopicCounters
    reason: str
    sim_start: float
    sim_end: float
    wall_s: float
    undelivered: int = 0
    #: turnstile entries handed to Kafka per station (only when ``--report`` asks for them)
    turnstile_entries_by_station: dict[int, int] | None = None

    def lines(self) -> list[str]:
        rate = self.events / self.wall_s if self.wall_s > 0 else 0.0
        out = [
            f"cta-sim stopped ({self.reason}): {self.events} events in {self.wall_s:.3f}s "
            f"({rate:,.0f}/s), simulated {datetime.fromtimestamp(self.sim_start, CHICAGO):%Y-%m-%d %H:%M:%S}"
            f" - {datetime.fromtimestamp(self.sim_end, CHICAGO):%Y-%m-%d %H:%M:%S} Chicago time"
        ]
        for topic, n in sorted(self.counters.produced.items()):
            out.append(
                f"  {topic}: produced {n}, delivered {self.counters.delivered.get(topic, 0)}, "
                f"failed {self.counters.failed.get(topic, 0)}"
            )
        if self.undelivered:
            out.append(f"  {self.undelivered} messages still undelivered at exit")
        return out


@dataclass
class _Position:
    """Where a run is in the pipe's batches: ``batch[i]`` is the next record to publish."""

    batches: Iterator[list[SinkRecord]]
    batch: list[SinkRecord]
    i: int = 0
    #: the pipe ended because the run is stopping
    ended: bool = False


class Runner:
    def __init__(
        self,
        pipe: EnginePipe,
        clock: SimClock,
        sink: EventSink,
        *,
        end_t: float | None = None,
        max_events: int | None = None,
        commands: queue.Queue[Command | Rejected] | None = None,
        status: StatusSink | None = None,
        on_status: Callable[[dict[str, Any]], None] | None = None,
        run_id: str | None = None,
        lines: list[str] | None = None,
        status_interval: float = 1.0,
        flush_timeout: float = 30.0,
    ):
        self.pipe = pipe
        self.clock = clock
        self.sink = sink
        self.end_t = end_t
        self.max_events = max_events
        self.commands: queue.Queue[Command | Rejected] = commands if commands is not None else queue.Queue()
        self.status = status
        self.on_status = on_status
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.lines = lines or pipe.lines
        self.status_interval = status_interval
        self.flush_timeout = flush_timeout
        self.control = ControlState()
        self.started_at = datetime.now(UTC)
        self._stop = threading.Event()
        self._held: list[Command | Rejected] = []
        self.count = 0

    def request_stop(self) -> None:
        """Thread- and signal-safe: the run ends after the current burst."""
        self._stop.set()

    def status_now(self, stopped: bool = False) -> dict[str, Any]:
        return status_document(
            run_id=self.run_id,
            clock=self.clock,
            counters=self.sink.counters,
            control=self.control,
            started_at=self.started_at,
            seed=self.pipe.seed,
            lines=self.lines,
            trains=self.pipe.trains_in_service,
            stopped=stopped,
        )

    def _publish_status(self, stopped: bool = False) -> None:
        doc = self.status_now(stopped)
        if self.status is not None:
            self.status.publish_status(self.run_id, json.dumps(doc, separators=(",", ":")).encode())
        if self.on_status is not None:
            self.on_status(doc)

    def _apply_commands(self) -> bool:
        changed = False
        items, self._held = self._held, []
        while True:
            try:
                items.append(self.commands.get_nowait())
            except queue.Empty:
                break
        for item in items:
            changed |= apply_command(self.clock, self.control, item, self.run_id)
        return changed

    def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(queue.Empty):
            self._held.append(self.commands.get(timeout=min(seconds, MAX_WAIT_S)))

    def _next_batch(self, batches: Iterator[list[SinkRecord]]) -> list[SinkRecord] | None:
        """The next non-empty batch; None when the pipe ended because the run is stopping
        (a signal sent to the whole process group reaches the engine process too)."""
        try:
            batch = next(batches)
            while not batch:
                batch = next(batches)
        except EngineFailed:
            if self._stop.is_set():
                return None
            raise
        return batch

    def run(self) -> RunSummary:
        """Publish records as the clock makes them due, until the duration, the event
        budget or the pipe ends, or a stop is requested; then flush and sum up."""
        batches = self.pipe.batches()
        pos = _Position(batches, self._next_batch(batches) or [])  # (empty: stopping already)
        wall0 = time.monotonic()
        self._publish_status()
        next_status = wall0 + self.status_interval
        reason: str | None = None
        while reason is None and not self._stop.is_set():
            next_status = self._housekeeping(next_status)
            reason = self._step(pos)
        return self._finish(reason or "signal", wall0)

    def _housekeeping(self, next_status: float) -> float:
        """Apply commands, publish the status when it changed or is due; the next due time."""
        changed = self._apply_commands()
        now = time.monotonic()
        if changed or now >= next_status:
            self._publish_status()
            next_status = now + self.status_interval
        self.sink.poll()
        return next_status

    def _step(self, pos: _Position) -> str | None:
        """Wait for the next record or publish a burst of due ones; why the run ends, if it does."""
        clock, end_t = self.clock, self.end_t
        fast = clock.is_max and not clock.paused
        limit = math.inf if fast else clock.now()
        pending_t = pos.batch[pos.i][0]
        if end_t is not None and pending_t >= end_t:
            return self._approach_end(end_t, fast)
        if pending_t > limit:
            self._wait(clock.wall_until(pending_t))
            return None
        bound = limit if end_t is None else min(limit, math.nextafter(end_t, -math.inf))
        n, last_t = self._burst(pos, bound)
        self.count += n
        if fast:
            clock.advance_to(last_t)
        if self.max_events is not None and self.count >= self.max_events:
            return "count"
        return "signal" if pos.ended else None

    def _approach_end(self, end_t: float, fast: bool) -> str | None:
        """The next record lies past the end: "duration" once the clock gets there."""
        if fast:
            self.clock.advance_to(end_t)
        if self.clock.now() >= end_t:
            return "duration"
        self._wait(self.clock.wall_until(end_t))
        return None

    def _burst(self, pos: _Position, bound: float) -> tuple[int, float]:
        """Publish the records due by ``bound``, ``CHUNK`` at a time, for at most ``BURST_S``
        wall seconds and within the event budget; (records published, time of the last)."""
        monotonic = time.monotonic
        deadline = monotonic() + BURST_S
        budget = self.max_events - self.count if self.max_events is not None else None
        publish_many = self.sink.publish_many
        batch, i = pos.batch, pos.i
        last_t = batch[i][0]
        n = 0
        while True:
            j = bisect.bisect_right(batch, bound, lo=i, hi=min(len(batch), i + CHUNK), key=record_time)
            if budget is not None:
                j = min(j, i + budget - n)
            if j > i:
                publish_many(batch[i:j])
                last_t = batch[j - 1][0]
                n += j - i
                i = j
            if i == len(batch):
                following = None if n == budget else self._next_batch(pos.batches)
                if following is None:
                    pos.ended = n != budget
                    break
                batch, i = following, 0
            if n == budget or batch[i][0] > bound or monotonic() > deadline:
                break
        pos.batch, pos.i = batch, i
        return n, last_t

    def _finish(self, reason: str, wall0: float) -> RunSummary:
        sink = self.sink
        undelivered = sink.flush(self.flush_timeout)
        wall = time.monotonic() - wall0  # including the flush: events/s means delivered
        self._publish_status(stopped=True)
        undelivered = sink.flush(5.0)
        return RunSummary(
            events=self.count,
            counters=sink.counters,
            reason=reason,
            sim_start=self.pipe.start,
            sim_end=self.clock.now(),
            wall_s=wall,
            undelivered=undelivered,
        )
