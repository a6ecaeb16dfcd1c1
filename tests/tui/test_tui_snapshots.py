"""Snapshot tests of the dashboard with a fixed state (fixed clock, no workers)."""

from __future__ import annotations

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
