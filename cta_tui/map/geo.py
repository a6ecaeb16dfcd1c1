"""The map's geography: station coordinates per line and a projection onto pixels.

Coordinates come from ``cta_core/data/cta_lines.csv`` (the CTA 'L' stops derivative
the simulator also reads; the stations table has no coordinates). Pure apart
from reading that packaged file once.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from functools import lru_cache

from cta_core import data
from cta_tui.state.model import LOOP_STATION_IDS
from cta_tui.state.motion import Position

LatLon = tuple[float, float]


@dataclass(frozen=True)
class Geography:
    """Per line, each branch's stations in order with (lat, lon); per (line, station)
    the coordinates (Roosevelt differs between the subway and the elevated)."""

    paths: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    coords: dict[tuple[str, int], LatLon] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def where(self, line: str, station_id: int) -> LatLon | None:
        found = self.coords.get((line, station_id))
        if found is not None:
            return found
        return next((c for (ln, sid), c in self.coords.items() if sid == station_id), None)


def parse_geography(text: str) -> Geography:
    geo = Geography()
    rows = sorted(
        csv.DictReader(io.StringIO(text)), key=lambda r: (r["line"], r["branch"], int(r["position"]))
    )
    for row in rows:
        line, sid = row["line"], int(row["station_id"])
        geo.paths.setdefault(line, {}).setdefault(row["branch"], []).append(sid)
        geo.coords[(line, sid)] = (float(row["lat"]), float(row["lon"]))
        geo.names[sid] = row["station_name"]
    return geo


@lru_cache(maxsize=1)
def geography() -> Geography:
    text = data.read_text("cta_lines.csv")
    return parse_geography(text)


def position_latlon(geo: Geography, line: str, position: Position) -> LatLon | None:
    """A train's place on the map: between its station and the next by the fraction."""
    here = geo.where(line, position.station_id)
    if here is None:
        return None
    if position.next_id is None or position.fraction <= 0:
        return here
    there = geo.where(line, position.next_id)
    if there is None:
        return here
    f = position.fraction
    return (here[0] + f * (there[0] - here[0]), here[1] + f * (there[1] - here[1]))


@dataclass(frozen=True)
class Projection:
    """Lat/lon onto a ``width`` x ``height`` pixel grid (north up), equal distances
    equal pixels (half-block pixels are about square), the area centred."""

    south: float
    west: float
    scale: float  # pixels per degree of latitude
    kx: float  # cos(latitude): a degree of longitude is shorter
    x0: float
    y0: float
    width: int
    height: int

    def raw(self, lat: float, lon: float) -> tuple[int, int]:
        """The pixel, possibly outside the grid (lines are clipped by the canvas)."""
        return round(self.x0 + (lon - self.west) * self.kx * self.scale), round(
            self.y0 - (lat - self.south) * self.scale
        )

    def pixel(self, lat: float, lon: float) -> tuple[int, int] | None:
        """The pixel, or None outside the grid."""
        x, y = self.raw(lat, lon)
        if 0 <= x < self.width and 0 <= y < self.height:
            return x, y
        return None


def fit(bounds: tuple[float, float, float, float], width: int, height: int, margin: int = 1) -> Projection:
    """The projection showing ``bounds`` (south, west, north, east) as large as fits."""
    south, west, north, east = bounds
    kx = math.cos(math.radians((south + north) / 2))
    span_x = max((east - west) * kx, 1e-6)
    span_y = max(north - south, 1e-6)
    usable_w, usable_h = max(1, width - 2 * margin - 1), max(1, height - 2 * margin - 1)
    scale = min(usable_w / span_x, usable_h / span_y)
    x0 = (width - 1 - span_x * scale) / 2
    y0 = (height - 1 + span_y * scale) / 2
    return Projection(south, west, scale, kx, x0, y0, width, height)


def system_bounds(geo: Geography) -> tuple[float, float, float, float]:
    lats = [c[0] for c in geo.coords.values()]
    lons = [c[1] for c in geo.coords.values()]
    return min(lats), min(lons), max(lats), max(lons)


def loop_bounds(geo: Geography, pad: float = 0.004) -> tuple[float, float, float, float]:
    """The Loop's elevated stations and a few blocks around them."""
    pts = [c for (_, sid), c in geo.coords.items() if sid in LOOP_STATION_IDS]
    lats, lons = [p[0] for p in pts], [p[1] for p in pts]
    return min(lats) - pad, min(lons) - pad * 1.3, max(lats) + pad, max(lons) + pad * 1.3
