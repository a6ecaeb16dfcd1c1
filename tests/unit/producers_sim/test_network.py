from __future__ import annotations

import pytest

from producers_sim.network import LINES, LOOP_STATIONS, Network, load_network


def test_all_eight_lines_and_green_branches(network: Network) -> None:
    assert network.lines == list(LINES)
    green = {s.branch for s in network.services_of("green")}
    assert green == {"ashland63", "cottagegrove"}
    # the branches share the trunk Harlem/Lake ... Garfield
    a, c = (s.path for s in network.services_of("green"))
    assert a[:25] == c[:25] and a[-1] == 40290 and c[-1] == 40720


def test_runs_and_distances(network: Network) -> None:
    red = network.services_of("red")[0]
    assert red.runs["a"].stations[0] == 40900  # Howard
    assert red.runs["b"].stations == tuple(reversed(red.runs["a"].stations))
    total_km = sum(red.runs["a"].distances) / 1000
    assert 30 < total_km < 45  # Howard to 95th is about 35 km of track


def test_loop_lines_return_without_stopping_in_the_loop_again(network: Network) -> None:
    brown = network.services_of("brown")[0]
    back = brown.runs["b"].stations
    assert back[0] == 40380  # Clark/Lake, last Loop stop
    assert back[1] == 40460  # Merchandise Mart
    assert not set(back[1:]) & LOOP_STATIONS
    assert back[-1] == 41290  # Kimball


def test_subset_and_unknown_lines() -> None:
    net = load_network(["red", "blue", "green"])
    assert net.lines == ["red", "blue", "green"]
    with pytest.raises(ValueError, match="valid"):
        load_network(["red", "teal"])
