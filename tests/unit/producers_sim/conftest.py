from __future__ import annotations

import pytest
from sim_helpers import arrivals, chicago

from cta_core.records.arrival import Arrival
from producers_sim.network import Network, load_network


@pytest.fixture(scope="session")
def network() -> Network:
    return load_network()


@pytest.fixture(scope="session")
def midday_arrivals(network: Network) -> list[Arrival]:
    """Weekday (Tue 2026-12-01) 10:00-14:00, off-peak, all lines."""
    return arrivals(network, chicago(2026, 12, 1, 10, 0), 4.0)
