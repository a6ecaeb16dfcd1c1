"""Snapshot tests of the dashboard with a fixed state (fixed clock, no workers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cta_tui.app import MESSAGE_FOR_TOPIC
from cta_tui.state.records import Record
from tests.support.tui import build_app, fixed_records, network_records


def preloaded_app(network: bool = False, **kwargs: Any):
    app, _source, _control = build_app(**kwargs)
    app.feeds_enabled = False  # the state is posted directly: no worker, no timing
    records = network_records() if network else fixed_records()

    async def load(pilot) -> None:
        by_topic: dict[str, list[Record]] = {}
        for r in records:
            by_topic.setdefault(r.topic, []).append(r)
        for topic in (
            "org.chicago.cta.stations.table.v1",
            *[t for t in by_topic if "stations.table" not in t],
        ):
            app.post_message(MESSAGE_FOR_TOPIC[topic](by_topic[topic]))
        await pilot.pause()
        app.render_now()
        await pilot.pause()

    return app, load


def test_dashboard_snapshot_80x24(snap_compare) -> None:
    """The line view (1) of the red line."""
    app, load = preloaded_app()

    async def open_line(pilot) -> None:
        await load(pilot)
        await pilot.press("1")
        await pilot.pause()
        app.render_now()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_line)


def test_station_board_snapshot_read_only(snap_compare) -> None:
    app, load = preloaded_app(read_only=True)

    async def open_board(pilot) -> None:
        await load(pilot)
        app.open_station(41300)
        await pilot.pause()
        app.render_now()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_board)


def test_pipeline_jobs_snapshot_80x24(snap_compare) -> None:
    """The jobs tab with a fixed snapshot (memory backend): states, rates, lag, the
    connector's tasks and slot lag, the highlighted job's detail."""
    from test_tui_pipeline_screen_jobs import SNAPSHOT

    from cta_tui.feeds.pipeline_probe import MemoryPipeline
    from cta_tui.pipeline.screen import PipelineScreen

    app, load = preloaded_app()
    backend = MemoryPipeline(SNAPSHOT)
    app.pipeline = lambda: backend

    async def open_pipeline(pilot) -> None:
        await load(pilot)
        app.action_do("pipeline")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PipelineScreen)
        while screen.snapshot is None:
            await pilot.pause(0.05)
        await pilot.press("down")
        app.render_now()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_pipeline)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_network_snapshot(snap_compare, size) -> None:
    """The home screen: eight panels, trains at and between stations (fixed clock)."""
    app, load = preloaded_app(network=True)
    assert snap_compare(app, terminal_size=size, run_before=load)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_map_snapshot(snap_compare, size) -> None:
    app, load = preloaded_app(network=True)

    async def open_map(pilot) -> None:
        await load(pilot)
        await pilot.press("m")
        await pilot.pause()
        app.render_now()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=open_map)


def test_help_snapshot_80x24(snap_compare) -> None:
    """The help overlay over the network screen: every key, from the actions table."""
    app, load = preloaded_app(network=True)

    async def open_help(pilot) -> None:
        await load(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        app.render_now()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_help)


@pytest.fixture
def utc() -> Iterator[None]:
    """Local time is UTC while the test runs (the tail shows record times in local time)."""
    import os
    import time

    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_tail_snapshot_80x24(snap_compare, utc: None) -> None:
    """The tail screen on the arrivals: offsets, times (UTC here), keys and decoded values."""
    from test_tui_pipeline_screen_jobs import ListReader

    from cta_tui.state.tail import JSON, TailRecord
    from cta_tui.tail.screen import TopicTailScreen

    topic = "org.chicago.cta.station.arrivals.v1"
    stations = [
        (40900, "Howard"),
        (41190, "Jarvis"),
        (40100, "Morse"),
        (41300, "Loyola"),
        (40760, "Granville"),
    ]

    def value(i: int, sid: int, name: str) -> dict[str, Any]:
        direction = "b" if i % 2 else "a"
        return {"station_id": sid, "station_name": name, "train_id": f"RL{i % 4:03d}", "line": "red",
                "direction": direction, "train_status": "in_service"}  # fmt: skip

    records = [
        TailRecord(topic, i % 3, 1200 + i, 1_796_198_400_000 + 1_700 * i, str(sid), value(i, sid, name), JSON)
        for i, (sid, name) in enumerate(stations * 3)
    ]
    app, load = preloaded_app(read_only=True)

    async def open_tail(pilot) -> None:
        await load(pilot)
        reader = ListReader(records)
        await app.push_screen(TopicTailScreen(lambda _t: reader, lambda: [topic], topic=topic, ring=100))
        for _ in range(100):
            await pilot.pause(0.05)
            if len(app.screen.rows) == len(records):  # type: ignore[attr-defined]
                break
        app.render_now()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_tail)
