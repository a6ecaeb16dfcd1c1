"""Distances between stations, shared by the simulator and the prediction job."""

from __future__ import annotations

import pytest

from cta_core.geo import MIN_SEGMENT_M, TRACK_FACTOR, haversine_m, track_length_m


def test_one_degree_of_latitude_is_about_111_km() -> None:
    assert haversine_m(41.0, -87.6, 42.0, -87.6) == pytest.approx(111_195, rel=1e-3)


def test_track_is_longer_than_the_straight_line() -> None:
    a, b = (41.8781, -87.6298), (41.9484, -87.6553)
    assert track_length_m(a, b) == pytest.approx(haversine_m(*a, *b) * TRACK_FACTOR)


def test_stations_on_top_of_each_other_are_still_a_segment_apart() -> None:
    assert track_length_m((41.88, -87.63), (41.88, -87.63)) == MIN_SEGMENT_M
