"""Which records a rewind reads (pure: no Kafka): the window of each topic.

A rewind to wall time ``T`` shows what a dashboard opened at ``T`` would have shown,
read up to ``T`` and not past it:

- the stations table: from its start (compacted, small) up to ``T``;
- the simulator's status: the run's last status at or before ``T`` (from the timeline);
- arrivals and predictions: the dashboard's replay window before ``T``, at most
  :data:`REPLAY_SIM_MS` of simulated time and never before the run began; of predictions at
  most :data:`PREDICTIONS_KEPT` in all, the last of each partition's share
  (the state keeps no more undecoded);
- weather: the last few readings before ``T``;
- TURNSTILE_SUMMARY (a running count per station): read backwards from ``T`` in chunks
  until every station has its latest count and the last simulated hour (the sparklines)
  is covered; never the whole log.
"""

from __future__ import annotations

from dataclasses import dataclass

from cta_tui.rewind.timeline import Run
from cta_tui.state.model import HISTORY_MINUTES
from cta_tui.state.predictions import PENDING_MAX

#: predictions read at most, shared among the partitions (the state keeps no more
#: undecoded: a train's newest set is among them)
PREDICTIONS_KEPT = PENDING_MAX


def kept_per_partition(partitions: int) -> int:
    """Each partition's share of :data:`PREDICTIONS_KEPT` (rounded up)."""
    return -(-PREDICTIONS_KEPT // max(1, partitions))


#: arrivals and predictions are read at most this far back in simulated time (at --speed 60
#: the replay window's five wall minutes are five simulated hours; every train in service
#: arrives somewhere within minutes, so an hour finds each one's last arrival)
REPLAY_SIM_MS = 60 * 60_000
#: records read per step when the summary is read backwards
SUMMARY_CHUNK = 5000
#: the summary is read back no further than this many chunks past the history window
#: when they bring no station not seen yet (a station without a count since is taken
#: as never counted: reading the log from its start is what a rewind must not do)
SUMMARY_IDLE_CHUNKS = 1


@dataclass(frozen=True, slots=True)
class Plan:
    """A rewind's wall times (epoch ms)."""

    #: read up to and including this instant
    at_ms: int
    #: arrivals and predictions from here
    since_ms: int
    #: the summary at least back to here (the last simulated hour's sparklines)
    history_ms: int
    #: the simulated instant shown
    sim_ms: int


def plan(run: Run, sim_ms: int, now_ms: int, replay_ms: int) -> Plan:
    """The windows of a rewind of ``run`` to simulated ``sim_ms``."""
    at = run.wall_for(sim_ms, now_ms)
    replay_sim = sim_ms - REPLAY_SIM_MS
    replay_wall = run.wall_for(replay_sim, now_ms) if replay_sim > run.first.sim_ms else run.first.wall_ms
    since = max(at - replay_ms, replay_wall, run.first.wall_ms)
    history_sim = max(sim_ms - HISTORY_MINUTES * 60_000, run.first.sim_ms)
    history = run.wall_for(history_sim, now_ms) if history_sim > run.first.sim_ms else run.first.wall_ms
    return Plan(at_ms=at, since_ms=since, history_ms=min(history, at), sim_ms=sim_ms)


def bounded_start(found: int, low: int, end: int, keep: int | None = None) -> int:
    """A partition's first offset to read: the offset found for the window's start (-1:
    none, i.e. nothing in the window), never below the log's start, and at most ``keep``
    before ``end``."""
    start = end if found < 0 else max(found, low)
    if keep is not None:
        start = max(start, end - keep)
    return min(start, end)


def end_offset(found: int, high: int) -> int:
    """A partition's end (exclusive): the first offset written after ``T`` (-1: none
    after, so the high watermark)."""
    return high if found < 0 else min(found, high)


def summary_done(
    seen: set[int], wanted: set[int], oldest_ms: int | None, history_ms: int, at_start: bool, idle: int = 0
) -> bool:
    """Whether reading the summary backwards can stop: at the log's start; else once the
    chunks reach back past the history window and every wanted station has its count, or
    the last :data:`SUMMARY_IDLE_CHUNKS` chunks brought no new station (``idle``)."""
    if at_start:
        return True
    if oldest_ms is None or oldest_ms > history_ms:
        return False
    return wanted <= seen or idle >= SUMMARY_IDLE_CHUNKS
