"""The stations a train calls at next, from the public line map (``cta_core/data/cta_lines.csv``).

Only station order and coordinates are used: no run times, dwell or headways. Direction
``"a"`` runs from position 0 to the last station; on the Loop lines (Brown, Purple, Pink,
Orange) it goes out to the Loop and once round it, then the train continues as direction
``"b"`` straight back out without calling at the Loop stations again (the topic contract's
convention). Green's two branches share the trunk; an arrival's ``branch`` names its run.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from functools import cache

from cta_core import data
from cta_core.geo import track_length_m

#: Stations of the Union Loop elevated (map ids).
LOOP_STATIONS: frozenset[int] = frozenset({40380, 40260, 40200, 40640, 40680, 40850, 40160, 40040, 40730})
LOOP_LINES: frozenset[str] = frozenset({"brown", "purple", "pink", "orange"})

#: What a schedule assumes before anything was observed: an average speed including
#: acceleration (m/s) over 1.15x the straight-line distance, plus a station stop (s).
SCHEDULE_SPEED_MPS = 11.0
SCHEDULE_STOP_S = 30.0

#: (station_id, direction the train has when it arrives there)
Stop = tuple[int, str]


@dataclass(frozen=True)
class LineMap:
    """Routes of every (line, branch, direction), station names, scheduled segment times."""

    #: (line, branch, direction) -> the stops of that run in order, with the continuation
    #: of a Loop line's run ``a`` into run ``b``
    routes: dict[tuple[str, str, str], tuple[Stop, ...]]
    #: (line, branch, direction, station) -> index of the station in ``routes``
    index: dict[tuple[str, str, str, int], int]
    names: dict[int, str]
    #: (line, prev station, station) -> scheduled seconds from arrival to arrival
    scheduled: dict[tuple[str, int, int], float]
    #: line -> its branches
    branches: dict[str, tuple[str, ...]]

    def ahead(self, line: str, branch: str | None, direction: str, station_id: int) -> tuple[Stop, ...]:
        """The stops after ``station_id`` for a train of this run (empty at a terminal or
        for a station not on the run)."""
        br = branch if branch else "main"
        key = (line, br, direction)
        i = self.index.get((*key, station_id))
        if i is None:
            for other in self.branches.get(line, ()):
                i = self.index.get((line, other, direction, station_id))
                if i is not None:
                    key = (line, other, direction)
                    break
            else:
                return ()
        return self.routes[key][i + 1 :]

    def destination(self, line: str, branch: str | None, direction: str) -> str:
        """The name shown on the train: its run's last station, "Loop" for Loop-bound trains."""
        br = branch if branch else "main"
        route = self.routes.get((line, br, direction))
        if route is None:
            candidates = [self.routes[(line, b, direction)] for b in self.branches.get(line, ())]
            if not candidates:
                return ""
            route = candidates[0]
        if line in LOOP_LINES and direction == "a":
            return "Loop"
        return self.names.get(route[-1][0], "")

    def scheduled_s(self, line: str, prev: int, station: int) -> float:
        return self.scheduled.get((line, prev, station), 120.0)


def parse(text: str) -> LineMap:
    rows = list(csv.DictReader(text.splitlines()))
    paths: dict[tuple[str, str], list[tuple[int, int]]] = {}
    coords: dict[tuple[str, int], tuple[float, float]] = {}
    names: dict[int, str] = {}
    for r in rows:
        line, branch, sid = r["line"], r["branch"], int(r["station_id"])
        paths.setdefault((line, branch), []).append((int(r["position"]), sid))
        coords[(line, sid)] = (float(r["lat"]), float(r["lon"]))
        names.setdefault(sid, r["station_name"])
    routes: dict[tuple[str, str, str], tuple[Stop, ...]] = {}
    scheduled: dict[tuple[str, int, int], float] = {}
    branches: dict[str, list[str]] = {}
    for (line, branch), items in paths.items():
        branches.setdefault(line, []).append(branch)
        path = [sid for _, sid in sorted(items)]
        if line in LOOP_LINES:
            start = next(i for i, sid in enumerate(path) if sid in LOOP_STATIONS)
            back = [path[-1], *reversed(path[:start])]
            run_a = [(s, "a") for s in path] + [(s, "b") for s in back[1:]]
            run_b = [(s, "b") for s in back]
        else:
            back = list(reversed(path))
            run_a = [(s, "a") for s in path]
            run_b = [(s, "b") for s in back]
        routes[(line, branch, "a")] = tuple(run_a)
        routes[(line, branch, "b")] = tuple(run_b)
        for run in (run_a, run_b):
            for (p, _), (s, _) in itertools.pairwise(run):
                d = track_length_m(coords[(line, p)], coords[(line, s)])
                scheduled[(line, p, s)] = d / SCHEDULE_SPEED_MPS + SCHEDULE_STOP_S
    index: dict[tuple[str, str, str, int], int] = {}
    for key, route in routes.items():
        for i, (sid, _) in enumerate(route):
            # a Loop line's run a passes its outer stations twice: the outbound call counts
            index.setdefault((*key, sid), i)
    return LineMap(routes, index, names, scheduled, {k: tuple(v) for k, v in branches.items()})


@cache
def packaged() -> LineMap:
    """The map shipped with the stream jobs."""
    return parse(data.read_text("cta_lines.csv"))
