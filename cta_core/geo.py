"""Distances on the ground between stations, from their coordinates (the simulator's
running times and the prediction job's route lengths use the same figures)."""

from __future__ import annotations

import math

#: mean Earth radius, metres
EARTH_RADIUS_M = 6_371_000.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


#: track is longer than the straight line between stations
TRACK_FACTOR = 1.15
#: no two stations are closer than this along the track, metres
MIN_SEGMENT_M = 300.0


def track_length_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The length of track between two stations given as (lat, lon)."""
    return max(haversine_m(*a, *b) * TRACK_FACTOR, MIN_SEGMENT_M)
