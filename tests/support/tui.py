"""Fixed data and helpers for the dashboard's Textual tests (no clocks, no Kafka)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from cta_core import topics
from cta_core.settings import Settings
from cta_tui.app import CtaApp, make_app
from cta_tui.control import MemoryControlPublisher
from cta_tui.feeds.memory_source import MemorySource
from cta_tui.state.records import Record
from tests.support.tui_samples import station_records

NOW = 1_795_950_192.0
SIM_MS = 1_795_950_192_250

RED = [(40900, "Howard"), (41190, "Jarvis"), (40100, "Morse"), (41300, "Loyola"), (40760, "Granville")]
BROWN = [(41290, "Kimball"), (41180, "Kedzie"), (40730, "Washington/Wells"), (40380, "Clark/Lake")]


class FakeClock:
    """A settable wall clock (tests move time instead of sleeping)."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def arrival(train: str, station: int, seq: int, prev: int | None, line: str = "red", **extra: Any) -> Record:
    return Record(
        topics.ARRIVALS,
        {"train_id": train},
        {
            "station_id": station,
            "train_id": train,
            "direction": "b",
            "line": line,
            "train_status": extra.pop("status", "in_service"),
            "prev_station_id": prev,
            "prev_direction": "b" if prev else None,
            "sim_time": SIM_MS - 10_000,
            "seq": seq,
            **extra,
        },
        int(NOW * 1000),
    )


def sim_status(paused: bool = False, last_command_id: str | None = None, speed: float = 60.0) -> Record:
    return Record(
        topics.SIM_STATUS,
        "run1",
        {
            "run_id": "run1",
            "state": "paused" if paused else "running",
            "sim_time": "2026-11-29T05:03:12.250-06:00",
            "sim_time_ms": SIM_MS,
            "speed": speed,
            "paused": paused,
            "last_command_id": last_command_id,
            "trains": 3,
        },
        int(NOW * 1000),
    )


def fixed_records() -> list[Record]:
    """A small, fixed network: red and brown stations, three trains, counts, weather."""
    records = station_records("red", RED) + station_records("brown", BROWN)
    records.append(sim_status())
    records += [
        arrival("R1", 41190, 2, prev=40900),
        arrival("R2", 41300, 5, prev=40760, direction="a"),
        arrival("R3", 40100, 3, prev=41190, status="broken_down"),
        arrival("B1", 40730, 1, prev=41180, line="brown"),
    ]
    records += [
        Record(topics.TURNSTILE_SUMMARY, sid, {"STATION_ID": sid, "COUNT": 100 + i * 37}, int(NOW * 1000))
        for i, (sid, _) in enumerate(RED)
    ]
    records.append(
        Record(topics.WEATHER, None, {"temperature": 41.0, "status": "partly_cloudy"}, int(NOW * 1000))
    )
    return records


def build_app(
    *, read_only: bool = False, records: list[Record] | None = None, clock: Callable[[], float] | None = None
) -> tuple[CtaApp, MemorySource, MemoryControlPublisher]:
    source = MemorySource(records or [])
    control = MemoryControlPublisher()
    app = make_app(
        Settings.from_env({}),
        source,
        read_only=read_only,
        control=control,
        clock=clock or FakeClock(),
        poll_timeout=0.05,
        backoff=(0.05, 0.2),
        sender="test-dashboard",
    )
    return app, source, control


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Let the app run until ``condition`` holds (polls the event loop; fails after ``timeout``)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await pilot.pause(0.02)


def network_records() -> list[Record]:
    """All eight lines (the shipped coordinates file's stations) with a few trains on
    each, one delayed and one broken down: a fixed state for the network and map."""
    from cta_tui.map.geo import geography

    geo = geography()
    records: list[Record] = []
    for line, branches in sorted(geo.paths.items()):
        positions: dict[int, dict[str, int]] = {}
        for branch, path in branches.items():
            for i, sid in enumerate(path):
                positions.setdefault(sid, {})[branch] = i
        for sid, by_branch in positions.items():
            value: dict[str, Any] = {
                "station_id": sid,
                "station_name": geo.names[sid],
                "order": min(by_branch.values()),
                "line": line,
            }
            if len(by_branch) == 1 and "main" not in by_branch:
                value["branch"] = next(iter(by_branch))
            records.append(Record(topics.STATIONS_TABLE, f"{line}:{sid}", value))
    records.append(sim_status())
    seq = 0
    for line, branches in sorted(geo.paths.items()):
        branch, path = next(iter(branches.items()))
        for k, i in enumerate(range(1, len(path) - 1, 4)):
            seq += 1
            extra: dict[str, Any] = {"branch": None if branch == "main" else branch}
            extra["sim_time"] = SIM_MS - 30_000 - 20_000 * k  # some still at the platform, some under way
            if k == 1:
                extra["delay_s"] = 300
            if k == 2:
                extra["status"] = "broken_down"
            down = k % 2 == 0
            prev = path[i - 1] if down else path[i + 1]
            records.append(arrival(f"{line[:2]}{k}", path[i], seq, prev, line=line, **extra))
    return records
