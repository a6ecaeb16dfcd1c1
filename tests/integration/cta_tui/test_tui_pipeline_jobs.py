"""The pipeline screen driving real jobs on the shared local stack.

Isolation: the jobs are registered in this test's own stack directory (so no other
helper's processes are ever stopped), the simulator writes suffixed topics and ignores
the control topic, and the Faust worker has its own app id (consumer group) and reads
and writes only the suffixed topics.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cta_core import topics
from cta_core.kafka_clients import make_admin
from cta_core.settings import Settings
from cta_stack import jobs
from cta_stack.paths import StackLayout
from cta_tui.app import make_app
from cta_tui.control import MemoryControlPublisher
from cta_tui.feeds.memory_source import MemorySource
from cta_tui.feeds.pipeline_probe import StackPipeline
from cta_tui.pipeline.jobs_table import JobsTable
from cta_tui.pipeline.screen import READ_ONLY_REFUSAL, PipelineScreen
from cta_tui.state.pipeline_jobs import JobView
from tests.support.tui import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def trial(stack: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    tag = uuid.uuid4().hex[:8]
    suffix = f".pj{tag}"
    app_id = f"cta-test-pipeline-{tag}"
    # the jobs' own state (Faust's data directory) goes under this test's directory
    monkeypatch.setenv("CTA_STACK_DIR", str(tmp_path / "stack"))
    layout = StackLayout.at(tmp_path / "stack")
    catalogue = jobs.catalogue(
        topic_suffix=suffix,
        faust_app_id=app_id,
        sim_speed="60",
        sim_args=("--lines", "red,blue", "--no-control", "--run-id", f"pipeline-test-{tag}"),
    )
    by_name = jobs.by_name(catalogue)
    try:
        yield {"layout": layout, "catalogue": catalogue, "jobs": by_name, "app_id": app_id, "suffix": suffix}
    finally:
        for name in ("sim", "faust"):
            jobs.stop(layout, by_name[name], "test teardown")
        admin = make_admin(stack)
        made = [
            t + suffix for t in (topics.ARRIVALS, topics.TURNSTILES, topics.TURNSTILE_SUMMARY, topics.WEATHER)
        ]
        existing = set(admin.list_topics(timeout=10).topics)
        doomed = [t for t in existing if t in made or (t.startswith(app_id) and t != app_id)]
        if doomed:
            admin.delete_topics(doomed, operation_timeout=10)
        with contextlib.suppress(Exception):
            admin.delete_consumer_groups([app_id], request_timeout=10)[app_id].result()


def _faust(screen: PipelineScreen) -> JobView | None:
    if screen.snapshot is None:
        return None
    return next(j for j in screen.snapshot.jobs if j.name == "faust")


def _lag(screen: PipelineScreen) -> int | None:
    view = _faust(screen)
    return None if view is None or not view.lag else sum(view.lag.values())


async def _select_faust(pilot: Any, screen: PipelineScreen) -> None:
    table = screen.query_one(JobsTable)
    table.focus()
    table.move_cursor(row=table.get_row_index("faust"))
    await pilot.pause()
    assert table.selected == "faust"


async def test_stop_and_start_the_faust_worker_from_the_dashboard(
    stack: Settings, trial: dict[str, Any]
) -> None:
    layout, by_name = trial["layout"], trial["jobs"]
    turnstiles = topics.TURNSTILES + trial["suffix"]
    assert jobs.start(layout, by_name["sim"], "test setup").changed
    assert jobs.start(layout, by_name["faust"], "test setup").changed
    backend = lambda: StackPipeline(stack, trial["catalogue"], layout=layout)  # noqa: E731
    app = make_app(
        stack, MemorySource([]), control=MemoryControlPublisher(), sender="pipeline-test", backoff=(0.05, 0.2)
    )

    app.pipeline = backend
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PipelineScreen)
        screen.interval = 1.0
        # the worker runs and has committed on the suffixed turnstiles topic
        await wait_until(pilot, lambda: _faust(screen) is not None and turnstiles in _faust(screen).lag, 120)
        pid = _faust(screen).pid
        await _select_faust(pilot, screen)

        await pilot.press("x")
        await wait_until(pilot, lambda: _faust(screen).state == jobs.STOPPED, 60)
        stopped_lag = _lag(screen) or 0
        # the simulator keeps producing: the stopped worker's lag grows
        await wait_until(pilot, lambda: (_lag(screen) or 0) > stopped_lag + 200, 60)
        grown = _lag(screen) or 0

        await pilot.press("s")
        await wait_until(pilot, lambda: _faust(screen).state == jobs.RUNNING, 30)
        assert _faust(screen).pid != pid and _faust(screen).restarts == 1
        # started again, it catches up: the lag falls back towards zero
        await wait_until(pilot, lambda: (_lag(screen) or grown) < grown / 4, 120)

    requests = layout.log_file(jobs.REQUESTS_LOG).read_text()
    assert "stop faust by pipeline-test: faust: stopped" in requests
    assert "start faust by pipeline-test: faust: started" in requests


async def test_a_read_only_dashboard_cannot_stop_a_job(stack: Settings, trial: dict[str, Any]) -> None:
    layout, by_name = trial["layout"], trial["jobs"]
    started = jobs.start(layout, by_name["sim"], "test setup")
    app = make_app(stack, MemorySource([]), control=MemoryControlPublisher(), read_only=True, sender="viewer")
    app.pipeline = lambda: StackPipeline(stack, trial["catalogue"], layout=layout)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PipelineScreen)
        await wait_until(pilot, lambda: screen.snapshot is not None, 30)
        table = screen.query_one(JobsTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("sim"))
        await pilot.press("x", "r")
        table.move_cursor(row=table.get_row_index("faust"))
        await pilot.press("s")
        await pilot.pause()
        assert READ_ONLY_REFUSAL in str(screen.query_one("#job-detail").render())
    assert jobs.status(layout, by_name["sim"]).pid == started.pid
    assert jobs.status(layout, by_name["faust"]).state == jobs.NEVER
    log = layout.log_file(jobs.REQUESTS_LOG)
    assert "viewer" not in (log.read_text() if log.exists() else "")
