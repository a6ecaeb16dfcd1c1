"""Where a train is between two stations: pure interpolation, no Textual.

The feed only says when a train *arrived* somewhere. Between arrivals the network
and map screens move it along towards its next station at the pace the line's recent
run times suggest (learned by the reducer in ``DashboardState.segment_run_ms`` /
``line_run_ms``), and the next arrival snaps it to the station it reached. The
simulated clock is extrapolated from the simulator's last status at its speed, so a
paused simulator stops every train where it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from cta_tui.state.model import DOWN, DWELL_MS, TRUNK_BRANCHES, DashboardState, Line, Train

#: run time assumed before any has been observed on a line (simulated ms)
DEFAULT_RUN_MS = 120_000.0
#: how close to the next station an interpolated train may get before its arrival
#: arrives (it never reaches it on its own: the arrival snaps it there)
MAX_FRACTION = 0.95
#: how long (wall s) the simulated clock is extrapolated after the last status; beyond
#: that the simulator is presumably gone and trains stop
EXTRAPOLATE_S = 5.0
#: a train this late (s) counts as delayed in the panels' figures
DELAYED_S = 120


def sim_clock_ms(state: DashboardState, now: float) -> int | None:
    """The simulated clock now: the last status's clock advanced by the wall time since
    at the simulator's speed; frozen while it is paused or stopped."""
    sim = state.sim
    if sim is None or sim.sim_time_ms is None:
        return None
    speed = sim.speed
    if sim.paused or sim.state != "running" or not isinstance(speed, int | float) or isinstance(speed, bool):
        return sim.sim_time_ms
    elapsed = min(max(0.0, now - sim.received_at), EXTRAPOLATE_S)
    return sim.sim_time_ms + int(elapsed * speed * 1000)


def travel_fraction(
    arrived_ms: int, run_ms: float, sim_ms: int, dwell_ms: float = DWELL_MS, limit: float = MAX_FRACTION
) -> float:
    """How far (0..``limit``) a train that arrived at ``arrived_ms`` has gone towards the
    next station, if runs (arrival to arrival) take ``run_ms`` and the first
    ``dwell_ms`` of them (at most half) are spent at the platform."""
    dwell = min(dwell_ms, run_ms / 2)
    moving = run_ms - dwell
    if moving <= 0:
        return 0.0
    fraction = (sim_ms - arrived_ms - dwell) / moving
    return min(max(fraction, 0.0), limit)


def line_paths(line: Line) -> dict[str | None, list[int]]:
    """The line's station sequences: ``{None: trunk}``, or per branch the trunk followed
    by that branch (Green: Harlem/Lake … Garfield, then Ashland/63rd or Cottage Grove)."""
    trunk: list[tuple[int, int]] = []
    branches: dict[str, list[tuple[int, int]]] = {}
    for s in line.stations.values():
        if (s.branch or "") in TRUNK_BRANCHES:
            trunk.append((s.order, s.station_id))
        else:
            branches.setdefault(str(s.branch), []).append((s.order, s.station_id))
    base = [sid for _, sid in sorted(trunk)]
    if not branches:
        return {None: base}
    return {name: base + [sid for _, sid in sorted(items)] for name, items in sorted(branches.items())}


def next_station(paths: dict[str | None, list[int]], train: Train) -> int | None:
    """The station the train runs to next (None at a terminal or off the line)."""
    path = paths.get(train.branch)
    if path is None or train.station_id not in path:
        path = next((p for p in paths.values() if train.station_id in p), None)
        if path is None:
            return None
    i = path.index(train.station_id)
    j = i + 1 if train.heading == DOWN else i - 1
    return path[j] if 0 <= j < len(path) else None


def run_time_ms(state: DashboardState, line: str, from_id: int, to_id: int) -> float:
    """The expected run time between two stations: the segment's, else the line's, else
    a default."""
    return state.segment_run_ms.get((from_id, to_id)) or state.line_run_ms.get(line) or DEFAULT_RUN_MS


@dataclass(frozen=True, slots=True)
class Position:
    """A train on the strip: at ``station_id`` (fraction 0) or that far towards ``next_id``."""

    train: Train
    station_id: int
    next_id: int | None
    fraction: float


def train_position(
    state: DashboardState, train: Train, sim_ms: int | None, paths: dict[str | None, list[int]]
) -> Position:
    """A broken-down train, one at a terminal, or one without a clock stands where it is."""
    nxt = next_station(paths, train)
    if nxt is None or train.broken or sim_ms is None or train.sim_time_ms is None:
        return Position(train, train.station_id, nxt, 0.0)
    run = run_time_ms(state, train.line, train.station_id, nxt)
    return Position(train, train.station_id, nxt, travel_fraction(train.sim_time_ms, run, sim_ms))


#: a train last seen further than this from the simulated clock (ms) belongs to another
#: run (read back from the topic at start) or has gone; the network and map leave it out
CURRENT_BEHIND_MS = 30 * 60_000
CURRENT_AHEAD_MS = 10 * 60_000


def is_current(train: Train, sim_ms: int | None) -> bool:
    if sim_ms is None or train.sim_time_ms is None:
        return True
    return sim_ms - CURRENT_BEHIND_MS <= train.sim_time_ms <= sim_ms + CURRENT_AHEAD_MS


def line_positions(
    state: DashboardState, line: str, sim_ms: int | None, paths: dict[str | None, list[int]] | None = None
) -> list[Position]:
    """Every in-service train of ``line`` with its interpolated position, by train id
    (``paths``: the line's :func:`line_paths`, when the caller has them already)."""
    line_obj = state.lines.get(line)
    if line_obj is None:
        return []
    if paths is None:
        paths = line_paths(line_obj)
    return [
        train_position(state, t, sim_ms, paths)
        for t in sorted(state.trains.values(), key=lambda t: t.train_id)
        if t.line == line and t.in_service and t.station_id in line_obj.stations and is_current(t, sim_ms)
    ]


def is_delayed(train: Train) -> bool:
    return train.delay_s is not None and train.delay_s >= DELAYED_S


def sim_now_ms(state: DashboardState) -> int | None:
    """The simulated clock of the last status (not extrapolated)."""
    return state.sim.sim_time_ms if state.sim is not None else None


def is_departed(train: Train, sim_ms: int | None) -> bool:
    """True when the train has left its last station (dwell over) and runs to the next."""
    if sim_ms is None or train.sim_time_ms is None:
        return False
    return sim_ms - train.sim_time_ms > DWELL_MS
