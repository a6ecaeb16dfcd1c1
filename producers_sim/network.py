"""The 'L' network from the packaged ``cta_lines.csv`` (:mod:`cta_core.data`).

A *service* is one line and branch (Green has two sharing the trunk Harlem/Lake … Garfield).
Each service has two *runs*, the ordered station lists a train follows in direction
``"a"`` (position 0 → last) and ``"b"`` (back). For the Loop lines (Brown, Purple, Pink,
Orange) run ``a`` goes out to the Loop and once round it one way; run ``b`` leaves from
the last Loop station straight back out, without stopping at the Loop stations again.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass, field
from functools import cache

from cta_core import data
from cta_core.geo import track_length_m

#: All eight lines, in the order used for display and defaults.
LINES: tuple[str, ...] = ("red", "blue", "green", "brown", "purple", "yellow", "pink", "orange")

#: The stations of the Union Loop elevated (map ids).
LOOP_STATIONS: frozenset[int] = frozenset({40380, 40260, 40200, 40640, 40680, 40850, 40160, 40040, 40730})

#: Lines that circulate the Loop one way and return.
LOOP_LINES: frozenset[str] = frozenset({"brown", "purple", "pink", "orange"})


@dataclass(frozen=True)
class Station:
    station_id: int
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Run:
    """The stations a train stops at, in order, for one direction of one service."""

    direction: str
    stations: tuple[int, ...]
    #: metres from stations[i] to stations[i + 1]
    distances: tuple[float, ...]


@dataclass(frozen=True)
class Service:
    line: str
    branch: str
    path: tuple[int, ...]
    loop: bool
    runs: dict[str, Run] = field(hash=False, compare=False)

    @property
    def name(self) -> str:
        return self.line if self.branch == "main" else f"{self.line}/{self.branch}"


@dataclass(frozen=True)
class Network:
    stations: dict[int, Station]
    services: tuple[Service, ...]

    def services_of(self, line: str) -> list[Service]:
        return [s for s in self.services if s.line == line]

    @property
    def lines(self) -> list[str]:
        return [ln for ln in LINES if any(s.line == ln for s in self.services)]

    def station_lines(self) -> dict[int, list[str]]:
        """Station id → the lines stopping there (in :data:`LINES` order)."""
        out: dict[int, list[str]] = {}
        for line in self.lines:
            for svc in self.services_of(line):
                for sid in svc.path:
                    lst = out.setdefault(sid, [])
                    if line not in lst:
                        lst.append(line)
        return out


def _run(direction: str, stations: list[int], coords: dict[int, tuple[float, float]]) -> Run:
    dists = []
    for a, b in itertools.pairwise(stations):
        dists.append(track_length_m(coords[a], coords[b]))
    return Run(direction, tuple(stations), tuple(dists))


def parse_lines(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(text.splitlines()))


@cache
def _packaged_rows() -> tuple[tuple[str, str, int, int, str, float, float], ...]:
    text = data.read_text("cta_lines.csv")
    return tuple(
        (
            r["line"],
            r["branch"],
            int(r["position"]),
            int(r["station_id"]),
            r["station_name"],
            float(r["lat"]),
            float(r["lon"]),
        )
        for r in parse_lines(text)
    )


def load_network(lines: list[str] | tuple[str, ...] | None = None) -> Network:
    """Build the network for ``lines`` (default: all eight) from the packaged data."""
    wanted = list(lines) if lines else list(LINES)
    unknown = [ln for ln in wanted if ln not in LINES]
    if unknown:
        raise ValueError(f"unknown line(s): {', '.join(unknown)}; valid: {', '.join(LINES)}")
    paths: dict[tuple[str, str], list[tuple[int, int]]] = {}
    stations: dict[int, Station] = {}
    # coordinates per (line, station): Roosevelt differs between subway and elevated
    coords: dict[str, dict[int, tuple[float, float]]] = {}
    for line, branch, pos, sid, name, lat, lon in _packaged_rows():
        if line not in wanted:
            continue
        paths.setdefault((line, branch), []).append((pos, sid))
        stations.setdefault(sid, Station(sid, name, lat, lon))
        coords.setdefault(line, {})[sid] = (lat, lon)
    services = []
    for line in LINES:
        if line not in wanted:
            continue
        for (ln, branch), items in paths.items():
            if ln != line:
                continue
            path = [sid for _, sid in sorted(items)]
            loop = line in LOOP_LINES
            run_a = _run("a", path, coords[line])
            if loop:
                start = next(i for i, sid in enumerate(path) if sid in LOOP_STATIONS)
                back = [path[-1], *reversed(path[:start])]
            else:
                back = list(reversed(path))
            run_b = _run("b", back, coords[line])
            services.append(Service(line, branch, tuple(path), loop, {"a": run_a, "b": run_b}))
    return Network(stations, tuple(services))
