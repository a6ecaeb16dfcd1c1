"""Train movement: trains as state machines on a fixed-block network.

A train is either at a platform (dwelling, laying over at a terminal, broken down or
waiting for the track ahead) or between two stations with a progress fraction. Each
platform of a line and direction is a *block* together with the track leading to it;
a train may leave only when the block ahead is free, so trains never overtake on a
track and never share a platform in one direction — a train waits behind an occupied
block (and with ``--disruptions`` behind a broken-down train). Terminal platforms are
one block for both directions. The Green branches share the trunk's blocks.

Terminals dispatch trains at the headway of the moment: a train that has laid over
leaves when the headway since the last departure has passed; when no train is there
in time a new one enters service; when the line has more trains than its headway
needs, a train arriving at a terminal goes out of service.

Everything here is pure and deterministic for a given :class:`random.Random`.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import cast

from cta_core.records.arrival import BROKEN_DOWN, IN_SERVICE, OUT_OF_SERVICE, Arrival
from producers_sim.network import Network, Run, Service
from producers_sim.schedule import HeadwayPlan

BlockKey = tuple[str, ...]
#: a segment's length (m), its signal blocks in order (the last is the platform's) and the
#: running time through one block (s)
_Segment = tuple[float, tuple[BlockKey, ...], float]


class TrainState(StrEnum):
    AT_PLATFORM = "at_platform"
    MOVING = "moving"
    WAITING = "waiting"  # ready to leave, the block ahead is occupied
    LAYOVER = "layover"
    BROKEN = "broken_down"


@dataclass(frozen=True)
class MovementOptions:
    #: average running speed between stations, m/s (about 30 mph)
    line_speed_mps: float = 13.5
    #: longest signal block; longer segments are split so trains can follow closely
    block_m: float = 800.0
    dwell_s: float = 25.0
    dwell_jitter_s: float = 10.0
    layover_s: float = 90.0
    #: a new train enters service this long before its first departure
    entry_dwell_s: float = 30.0
    disruptions: bool = False
    #: chance per arrival that the train breaks down there (with disruptions)
    breakdown_probability: float = 0.001
    breakdown_min_s: float = 300.0
    breakdown_max_s: float = 900.0


@dataclass(slots=True, eq=False)
class Train:
    train_id: str
    service: Service
    direction: str
    idx: int
    state: TrainState
    held: BlockKey
    #: signal block inside the segment to stations[idx] the train is in; -1 at a platform
    sub: int = -1
    seq: int = 0
    status: str = IN_SERVICE
    prev_station: int | None = None
    prev_direction: str | None = None
    delay_s: float = 0.0
    depart_t: float = 0.0
    arrive_t: float = 0.0
    wait_since: float = 0.0

    @property
    def line(self) -> str:
        return self.service.line

    @property
    def stations(self) -> tuple[int, ...]:
        return self.service.runs[self.direction].stations

    @property
    def station_id(self) -> int:
        """The station the train is at, or heading to when moving."""
        return self.stations[self.idx]

    def progress(self, now: float) -> float:
        """0..1 along the segment to :attr:`station_id` while between stations; 1 at a platform."""
        if self.sub < 0 or self.arrive_t <= self.depart_t:
            return 1.0
        return min(1.0, max(0.0, (now - self.depart_t) / (self.arrive_t - self.depart_t)))


@dataclass(slots=True, eq=False)
class HeadwayGroup:
    """Shared by the Green branch ends: they take turns, spaced by the headway at the
    merge, so their trains join the trunk evenly."""

    last: float = -math.inf
    members: list[Terminal] = field(default_factory=list)
    turn: int = 0


@dataclass(slots=True, eq=False)
class Terminal:
    line: str
    station_id: int
    #: (service, direction) of the runs starting here; alternated (Green at Harlem/Lake)
    departures: list[tuple[Service, str]]
    #: departures of the terminals in one group are spaced by the headway where they merge
    group: HeadwayGroup
    #: seconds from this terminal's departure to the merge point (0 without branches)
    offset: float = 0.0
    last_departure: float = -math.inf
    train: Train | None = None
    layover_end: float = 0.0
    token: int = 0
    next_choice: int = 0


_ARRIVE, _DEPART, _DISPATCH = 0, 1, 2


@dataclass
class Movement:
    network: Network
    plan: HeadwayPlan
    rng: object  # random.Random; typed loosely so tests may pass any compatible generator
    options: MovementOptions = field(default_factory=MovementOptions)

    def __post_init__(self) -> None:
        self.trains: dict[str, Train] = {}
        self._heap: list[tuple[float, int, int, object]] = []
        self._counter = 0
        self._blocks: dict[BlockKey, str] = {}
        self._waiters: dict[BlockKey, list[Train]] = {}
        self._fleet: dict[str, int] = dict.fromkeys(self.network.lines, 0)
        self._train_numbers: dict[str, int] = dict.fromkeys(self.network.lines, 0)
        self._terminal_keys: set[tuple[str, int]] = set()
        self.terminals: dict[tuple[str, int], Terminal] = {}
        self._round_trip: dict[str, float] = {}
        self._segments: dict[tuple[int, int], _Segment] = {}
        self.now = -math.inf
        self._started = False
        for line in self.network.lines:
            services = self.network.services_of(line)
            starts: dict[int, list[tuple[Service, str]]] = {}
            for svc in services:
                starts.setdefault(svc.runs["a"].stations[0], []).append((svc, "a"))
                if not svc.loop:
                    starts.setdefault(svc.runs["b"].stations[0], []).append((svc, "b"))
            branch_group = HeadwayGroup()
            shared = set.intersection(*(set(svc.path) for svc in services))
            for sid, deps in starts.items():
                if len(services) > 1 and len(deps) == 1 and sid not in shared:
                    svc, direction = deps[0]
                    run = svc.runs[direction]
                    i = next(i for i, st in enumerate(run.stations) if st in shared)
                    offset = sum(run.distances[:i]) / self.options.line_speed_mps + i * self.options.dwell_s
                    self.terminals[(line, sid)] = Terminal(line, sid, deps, branch_group, offset)
                    branch_group.members.append(self.terminals[(line, sid)])
                else:
                    self.terminals[(line, sid)] = Terminal(line, sid, deps, HeadwayGroup())
                self._terminal_keys.add((line, sid))
            trips = [
                self._run_time(svc, "a")
                + self._run_time(svc, "b")
                + (1 if svc.loop else 2) * self.options.layover_s
                for svc in services
            ]
            self._round_trip[line] = sum(trips) / len(trips)

    # -- public ----------------------------------------------------------------------------
    def start(self, t: float) -> None:
        """Open every terminal at ``t`` (the lines start empty and fill from the terminals)."""
        self.now = t
        self._started = True
        for term in self.terminals.values():
            self._schedule_dispatch(term, t)

    def advance(self, until: float) -> list[Arrival]:
        """Process everything up to and including ``until``; return the arrivals, in time order."""
        out: list[Arrival] = []
        heap = self._heap
        while heap and heap[0][0] <= until:
            t, _, kind, obj = heapq.heappop(heap)
            self.now = t
            if kind == _ARRIVE:
                assert isinstance(obj, Train)
                self._arrive(obj, t, out)
            elif kind == _DEPART:
                assert isinstance(obj, Train)
                self._depart(obj, t)
            else:
                term, token = cast(tuple[Terminal, int], obj)
                if token == term.token:
                    self._dispatch(term, t, out)
        self.now = max(self.now, until)
        return out

    def target_fleet(self, line: str, t: float) -> int:
        """Trains the line needs at ``t``: round trip over headway, plus one spare."""
        return math.ceil(self._round_trip[line] / self.plan.headway_s(line, t)) + 1

    def block_holder(self, key: BlockKey) -> str | None:
        return self._blocks.get(key)

    # -- internals -------------------------------------------------------------------------
    def _push(self, t: float, kind: int, obj: object) -> None:
        self._counter += 1
        heapq.heappush(self._heap, (t, self._counter, kind, obj))

    def _run_time(self, svc: Service, direction: str) -> float:
        run = svc.runs[direction]
        return sum(run.distances) / self.options.line_speed_mps + len(run.stations) * self.options.dwell_s

    def _block_key(self, line: str, direction: str, station_id: int) -> BlockKey:
        if (line, station_id) in self._terminal_keys:
            return (line, str(station_id))
        return (line, direction, str(station_id))

    def _dwell(self) -> float:
        o = self.options
        return o.dwell_s + (self.rng.random() - 0.5) * o.dwell_jitter_s  # type: ignore[attr-defined]

    def _emit(self, train: Train, t: float, out: list[Arrival], status: str | None = None) -> None:
        train.seq += 1
        svc, direction = train.service, train.direction
        station = svc.runs[direction].stations[train.idx]
        # positional: t, sim_time, station_id, train_id, direction, line, train_status,
        # prev_station_id, prev_direction, branch, delay_s, seq (keywords cost a third more)
        out.append(
            Arrival(
                t, int(t * 1000), station, train.train_id, direction, svc.line, status or train.status,
                train.prev_station, train.prev_direction, svc.branch, int(train.delay_s), train.seq,
            )
        )  # fmt: skip
        train.prev_station = station
        train.prev_direction = direction

    def _release(self, key: BlockKey, t: float) -> None:
        del self._blocks[key]
        waiters = self._waiters.get(key)
        if waiters:
            nxt = waiters.pop(0)
            self._push(t, _DEPART, nxt)

    def _arrive(self, train: Train, t: float, out: list[Arrival]) -> None:
        train.state = TrainState.AT_PLATFORM
        train.sub = -1
        train.arrive_t = t
        last = train.idx == len(train.stations) - 1
        o = self.options
        if last and train.service.loop and train.direction == "a":
            # round the Loop: head back out from the last Loop station, same platform
            self._emit(train, t, out)
            train.direction = "b"
            train.idx = 0
            self._push(t + self._dwell(), _DEPART, train)
            return
        if last:
            term = self.terminals[(train.line, train.station_id)]
            if self._fleet[train.line] > self.target_fleet(train.line, t) + 1:
                self._emit(train, t, out, OUT_OF_SERVICE)
                self._retire(train, t)
                self._dispatch(term, t, out)
                return
            self._emit(train, t, out)
            train.state = TrainState.LAYOVER
            term.train = train
            term.layover_end = t + o.layover_s
            self._schedule_dispatch(term, max(term.layover_end, term.last_departure))
            return
        if o.disruptions and self.rng.random() < o.breakdown_probability:  # type: ignore[attr-defined]
            self._emit(train, t, out, BROKEN_DOWN)
            train.state = TrainState.BROKEN
            train.status = BROKEN_DOWN
            hold = o.breakdown_min_s + self.rng.random() * (o.breakdown_max_s - o.breakdown_min_s)  # type: ignore[attr-defined]
            train.delay_s += hold
            self._push(t + hold, _DEPART, train)
            return
        self._emit(train, t, out)
        self._push(t + self._dwell(), _DEPART, train)

    def _segment(self, line: str, direction: str, run: Run, target: int) -> _Segment:
        """The blocks of the segment from ``run.stations[target - 1]`` to ``stations[target]``
        (computed once per run and station: ``_depart`` is the movement's hot path)."""
        dist = run.distances[target - 1]
        parts = max(1, math.ceil(dist / self.options.block_m))
        frm, to = str(run.stations[target - 1]), str(run.stations[target])
        keys = (
            *((line, direction, frm, to, str(sub)) for sub in range(parts - 1)),
            self._block_key(line, direction, run.stations[target]),
        )
        return dist, keys, dist / parts / self.options.line_speed_mps

    def _depart(self, train: Train, t: float) -> None:
        """Try to enter the next block (from a platform or from inside a segment)."""
        if train.state is TrainState.WAITING:
            train.delay_s += t - train.wait_since
        train.status = IN_SERVICE
        direction = train.direction
        run = train.service.runs[direction]
        if train.sub < 0:  # at the platform of stations[idx]
            target, sub = train.idx + 1, 0
        else:
            target, sub = train.idx, train.sub + 1
        seg_key = (id(run), target)  # runs live as long as the network, so ids stay unique
        seg = self._segments.get(seg_key)
        if seg is None:
            seg = self._segments[seg_key] = self._segment(train.service.line, direction, run, target)
        dist, keys, piece = seg
        key = keys[sub]
        blocks = self._blocks
        if key in blocks:
            train.state = TrainState.WAITING
            train.wait_since = t
            self._waiters.setdefault(key, []).append(train)
            return
        blocks[key] = train.train_id
        old = train.held
        train.held = key
        self._release(old, t)
        if train.sub < 0:
            train.depart_t = t
            train.arrive_t = t + dist / self.options.line_speed_mps
        train.idx = target
        train.sub = sub
        train.state = TrainState.MOVING
        self._counter += 1
        heapq.heappush(
            self._heap, (t + piece, self._counter, _ARRIVE if sub == len(keys) - 1 else _DEPART, train)
        )

    def _retire(self, train: Train, t: float) -> None:
        self._fleet[train.line] -= 1
        del self.trains[train.train_id]
        self._release(train.held, t)

    def _schedule_dispatch(self, term: Terminal, t: float) -> None:
        term.token += 1
        self._push(t, _DISPATCH, (term, term.token))

    def _dispatch(self, term: Terminal, t: float, out: list[Arrival]) -> None:
        """Decide what the terminal does at ``t``; reschedules itself as needed."""
        group = term.group
        if len(group.members) > 1 and group.members[group.turn % len(group.members)] is not term:
            return  # the other branch goes first; its departure wakes this terminal
        headway = self.plan.headway_s(term.line, t)
        due = group.last + headway - term.offset
        if t < due:
            self._schedule_dispatch(term, due)
            return
        train = term.train
        if train is not None:
            if t < term.layover_end:
                self._schedule_dispatch(term, term.layover_end)
                return
            svc, direction = term.departures[term.next_choice % len(term.departures)]
            term.next_choice += 1
            train.service = svc
            train.direction = direction
            train.idx = 0
            train.delay_s = max(0.0, t - due) if math.isfinite(due) else 0.0
            term.train = None
            term.last_departure = t
            group.last = t + term.offset
            if len(group.members) > 1:
                group.turn += 1
                nxt = group.members[group.turn % len(group.members)]
                self._schedule_dispatch(nxt, max(t, group.last + headway - nxt.offset))
            train.state = TrainState.AT_PLATFORM
            self._depart(train, t)
            self._schedule_dispatch(term, t + headway)
            return
        key = (term.line, str(term.station_id))
        if key in self._blocks:
            return  # a train is on its way in; its arrival calls us again
        fleet_cap = self.target_fleet(term.line, t) * 1.5 + 2
        if self._fleet[term.line] >= fleet_cap:
            self._schedule_dispatch(term, t + headway)
            return
        svc, direction = term.departures[term.next_choice % len(term.departures)]
        self._train_numbers[term.line] += 1
        train_id = f"{term.line}-{self._train_numbers[term.line]:04d}"
        train = Train(train_id, svc, direction, 0, TrainState.LAYOVER, key)
        self._blocks[key] = train_id
        self.trains[train_id] = train
        self._fleet[term.line] += 1
        self._emit(train, t, out)
        term.train = train
        term.layover_end = t + self.options.entry_dwell_s
        self._schedule_dispatch(term, term.layover_end)
