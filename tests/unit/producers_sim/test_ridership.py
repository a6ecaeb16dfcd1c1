"""Turnstile entries follow seed x curve for the right day type."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import date

import pytest
from sim_helpers import chicago

from producers_sim.network import Network
from producers_sim.ridership import Turnstiles, load_curve, load_seed, poisson
from producers_sim.schedule import DayType, day_type


def _day(turnstiles: Turnstiles, y: int, m: int, d: int) -> Counter[int]:
    counts: Counter[int] = Counter()
    t0 = chicago(y, m, d, 0, 0)
    for minute in range(24 * 60):
        for e in turnstiles.minute(t0 + 60 * minute):
            assert t0 + 60 * minute <= e.t < t0 + 60 * (minute + 1)
            counts[e.station_id] += 1
    return counts


def test_a_weekday_matches_seed_times_curve(network: Network) -> None:
    seed, curve = load_seed(), load_curve()
    share = sum(curve)  # hours 0..23
    stations = [(sid, network.stations[sid].name, lines[0]) for sid, lines in network.station_lines().items()]
    counts = _day(Turnstiles(stations, random.Random(2018)), 2026, 12, 1)  # a Tuesday
    expected = {sid: seed.daily(sid, DayType.WEEKDAY) * share for sid, _, _ in stations}
    total, total_expected = sum(counts.values()), sum(expected.values())
    assert total_expected > 500_000
    assert abs(total - total_expected) / total_expected < 0.01
    busy = [sid for sid, exp in expected.items() if exp >= 5000]
    assert len(busy) > 40
    for sid in busy:
        assert abs(counts[sid] - expected[sid]) / expected[sid] < 0.05, sid
    for sid, exp in expected.items():  # the quiet ones: within 5 standard deviations
        assert abs(counts[sid] - exp) <= 5 * math.sqrt(exp) + 1, sid


@pytest.mark.parametrize(
    ("day", "column"),
    [
        ((2026, 12, 5), DayType.SATURDAY),
        ((2026, 12, 6), DayType.SUNDAY),
        ((2026, 11, 26), DayType.SUNDAY),  # Thanksgiving, a Thursday: Sunday/holiday column
        ((2026, 12, 2), DayType.WEEKDAY),
    ],
)
def test_each_day_type_uses_its_own_column(day: tuple[int, int, int], column: DayType) -> None:
    assert day_type(date(*day)) is column
    seed, share = load_seed(), sum(load_curve())
    # busy stations whose three columns differ by more than 20%
    stations = [(40260, "State/Lake", "brown"), (41660, "Lake", "red"), (41220, "Fullerton", "red")]
    counts = _day(Turnstiles(stations, random.Random(5)), *day)
    for sid, _, _ in stations:
        expected = seed.daily(sid, column) * share
        assert abs(counts[sid] - expected) / expected < 0.05, (sid, counts[sid], expected)
        for other in DayType:
            if other is not column:
                assert abs(counts[sid] - seed.daily(sid, other) * share) / expected > 0.05


def test_curve_and_seed_are_the_packaged_data() -> None:
    curve = load_curve()
    assert len(curve) == 24 and curve[8] == curve[18] == max(curve)
    seed = load_seed()
    assert seed.daily(40380, DayType.WEEKDAY) == pytest.approx(22811.6)
    assert seed.daily(40380, DayType.SATURDAY) == pytest.approx(6901.8)
    assert seed.daily(40380, DayType.SUNDAY) == pytest.approx(6233.5)
    assert seed.daily(99999, DayType.WEEKDAY) == 0.0


def test_poisson_mean_and_variance() -> None:
    rng = random.Random(1)
    for lam in (0.3, 4.0, 40.0):
        draws = [poisson(rng, lam) for _ in range(20_000)]
        mean = sum(draws) / len(draws)
        var = sum((d - mean) ** 2 for d in draws) / len(draws)
        assert abs(mean - lam) < 4 * math.sqrt(lam / len(draws)) + 1e-9
        assert abs(var - lam) / lam < 0.1
    assert poisson(rng, 0.0) == 0
