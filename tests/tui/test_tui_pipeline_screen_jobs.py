"""The pipeline screen's jobs and the topic tail screen, driven by Pilot with in-memory
backends (the real ones are covered in tests/integration/cta_tui)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cta_tui.feeds.pipeline_probe import MemoryPipeline
from cta_tui.pipeline.job_log import JobLogScreen
from cta_tui.pipeline.jobs_table import GroupLagTable, JobsTable
from cta_tui.pipeline.screen import READ_ONLY_REFUSAL, PipelineScreen
from cta_tui.state.pipeline_jobs import ConnectorView, GroupLag, JobView, PipelineSnapshot, SlotView
from cta_tui.state.tail import BYTES, JSON, TailRecord
from cta_tui.tail.screen import TopicTailScreen
from tests.support.tui import build_app, fixed_records, wait_until

SNAPSHOT = PipelineSnapshot(
    at=0.0,
    jobs=(
        JobView("connector", "exited", "exited 0", oneshot=True),
        JobView(
            "faust",
            "running",
            "running",
            4242,
            75.0,
            2,
            12.0,
            40.5,
            {"org.chicago.cta.turnstiles.v1": 1234},
            produces=("TURNSTILE_SUMMARY", "org.chicago.cta.stations.table.v1"),
        ),
        JobView("sim", "failed", "failed exit 1", restarts=1),
    ),
    groups=(GroupLag("cta-stations", "org.chicago.cta.turnstiles.v1", 1234, "Stable", 40.5, -12.0),),
    connectors=(ConnectorView("stations", "RUNNING", ("0:RUNNING",)),),
    slots=(SlotView("debezium", True, 2048),),
)


def _app(read_only: bool, log: Path | None = None) -> tuple[Any, MemoryPipeline]:
    backend = MemoryPipeline(SNAPSHOT, logs={"faust": str(log)} if log else None)
    app, _source, _control = build_app(read_only=read_only, records=fixed_records())
    app.pipeline = lambda: backend
    return app, backend


def _cells(table: Any) -> dict[str, list[str]]:
    return {
        str(table.get_row_at(i)[0]): [str(c) for c in table.get_row_at(i)] for i in range(table.row_count)
    }


async def test_jobs_show_state_pid_uptime_restarts_rate_lag_and_the_connector_tasks() -> None:
    app, _backend = _app(read_only=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("p")
        await wait_until(
            pilot, lambda: isinstance(app.screen, PipelineScreen) and app.screen.snapshot is not None
        )
        jobs = _cells(app.screen.query_one(JobsTable))
        assert jobs["faust"][1:7] == ["running", "4242", "1m15s", "2", "↑12/s ↓40/s", "1,234"]
        assert jobs["sim"][1] == "failed exit 1"
        assert jobs["connector"][7] == "stations RUNNING, tasks 0:RUNNING; slot debezium lag 2.0 KB"
        groups = app.screen.query_one(GroupLagTable)
        row = [str(c) for c in groups.get_row_at(0)]
        assert row == ["cta-stations", "turnstiles.v1", "Stable", "1,234", "40/s", "falling behind 12/s"]


async def test_t_on_the_jobs_tab_tails_the_highlighted_jobs_main_topic() -> None:
    app, _backend = _app(read_only=False)
    asked: list[tuple[str, ...]] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        await wait_until(
            pilot, lambda: isinstance(app.screen, PipelineScreen) and app.screen.snapshot is not None
        )
        app.action_do = lambda *args: asked.append(args)  # what the tail would open
        app.screen.query_one(JobsTable).focus()
        await pilot.press("down", "t")  # faust: its summary first
        await pilot.press("up", "t")  # the connector's view has no topics: the tail asks
        assert asked == [("tail", "TURNSTILE_SUMMARY"), ("tail", None)]


async def test_start_stop_restart_go_to_the_backend_with_who_asked() -> None:
    app, backend = _app(read_only=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        await wait_until(
            pilot, lambda: isinstance(app.screen, PipelineScreen) and app.screen.snapshot is not None
        )
        app.screen.query_one(JobsTable).focus()
        await pilot.press("down", "x")
        await wait_until(pilot, lambda: len(backend.calls) == 1)
        await pilot.press("s", "r")
        await wait_until(pilot, lambda: len(backend.calls) == 3)
        assert backend.calls == [
            ("stop", "faust", "test-dashboard"),
            ("start", "faust", "test-dashboard"),
            ("restart", "faust", "test-dashboard"),
        ]


async def test_a_read_only_dashboard_changes_nothing_and_says_why() -> None:
    app, backend = _app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        await wait_until(
            pilot, lambda: isinstance(app.screen, PipelineScreen) and app.screen.snapshot is not None
        )
        app.screen.query_one(JobsTable).focus()
        await pilot.press("down", "x", "s", "r")
        await pilot.pause()
        assert backend.calls == []
        assert READ_ONLY_REFUSAL in str(app.screen.query_one("#job-detail").render())


async def test_the_log_opens_live(tmp_path: Path) -> None:
    log = tmp_path / "faust.log"
    log.write_text("line one\nline two\n")
    app, _backend = _app(read_only=True, log=log)  # looking at logs is allowed read-only
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        await wait_until(
            pilot, lambda: isinstance(app.screen, PipelineScreen) and app.screen.snapshot is not None
        )
        app.screen.query_one(JobsTable).focus()
        await pilot.press("down", "l")
        await wait_until(pilot, lambda: isinstance(app.screen, JobLogScreen))
        from textual.widgets import Log

        widget = app.screen.query_one(Log)
        await wait_until(pilot, lambda: widget.line_count >= 2)
        with log.open("a") as fh:
            fh.write("line three\n")
        await wait_until(pilot, lambda: any("line three" in line for line in widget.lines))
        await pilot.press("escape")
        assert isinstance(app.screen, PipelineScreen)


class ListReader:
    """A tail reader over fixed records, for the screen's tests."""

    def __init__(self, records: list[TailRecord]) -> None:
        self.records = records
        self.sent = False
        self.seeks: list[str] = []

    def seek_start(self) -> None:
        self.sent = False
        self.seeks.append("start")

    def seek_end(self, last: int | None = None) -> None:
        self.sent = False
        self.seeks.append("end")

    def poll(self, max_records: int = 500, timeout: float = 0.2) -> list[TailRecord]:
        if self.sent:
            import time

            time.sleep(0.02)
            return []
        self.sent = True
        return list(self.records)

    def close(self) -> None:
        pass


def _records(n: int) -> list[TailRecord]:
    out = []
    for i in range(n):
        if i % 2:
            out.append(TailRecord("t", 0, i, 1_700_000_000_000 + i, f"k{i}", {"n": i, "even": False}, JSON))
        else:
            out.append(TailRecord("t", 0, i, 1_700_000_000_000 + i, f"k{i}", "de ad", BYTES))
    return out


async def _open_tail(app: Any, pilot: Any, reader: ListReader) -> TopicTailScreen:
    """The tail on topic "t", keeping 10 records, once it holds them."""
    await app.push_screen(TopicTailScreen(lambda _t: reader, lambda: ["t"], topic="t", ring=10))
    screen = app.screen
    assert isinstance(screen, TopicTailScreen)
    await wait_until(pilot, lambda: len(screen.ring) == 10)
    return screen


async def test_tail_keeps_the_last_n_filters_and_pauses() -> None:
    app, _backend = _app(read_only=True)
    reader = ListReader(_records(30))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_tail(app, pilot, reader)
        assert [r[2] for r in screen.rows] == [str(i) for i in range(20, 30)]
        assert screen.ring.dropped == 20
        await pilot.press("slash", *"even", "enter")
        await wait_until(pilot, lambda: len(screen.rows) == 5)
        assert all('"even":false' in r[4] for r in screen.rows)
        await pilot.press("space")
        assert screen.paused
        await pilot.press("g")  # jump to the start: reads again from the oldest, live
        assert not screen.paused
        await wait_until(pilot, lambda: reader.seeks == ["end", "start"])
        await wait_until(pilot, lambda: screen.ring.received == 30 and len(screen.rows) == 5)


async def test_a_job_whose_lag_keeps_growing_shows_an_arrow_in_the_warning_colour() -> None:
    """The simulator sped up past what the summary counts: the faust row's lag climbs
    snapshot after snapshot and its cell says so; a lag that drains gets a plain ↓."""
    app, backend = _app(read_only=False)

    def show(table: JobsTable, at: float, lag: int) -> None:
        faust = JobView("faust", "running", "running", 4242, 75.0, lag={"org.chicago.cta.turnstiles.v1": lag})
        backend._snapshot = PipelineSnapshot(at=at, jobs=(faust,))  # the screen's own probe: the same
        table.show(backend._snapshot)

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        await wait_until(
            pilot, lambda: isinstance(app.screen, PipelineScreen) and app.screen.snapshot is not None
        )
        table = app.screen.query_one(JobsTable)
        for i, lag in enumerate([2_000, 9_000, 30_000, 60_000, 95_000, 150_000]):
            show(table, 100.0 + 2 * i, lag)
        await pilot.pause()
        cell = table.get_cell("faust", "lag")
        assert str(cell) == "150k↑" and "yellow" in str(cell.style)
        for i, lag in enumerate([120_000, 80_000, 40_000, 10_000, 4_000]):
            show(table, 130.0 + 2 * i, lag)
        assert str(table.get_cell("faust", "lag")) == "4,000↓"


async def test_tail_filter_typed_in_one_burst_goes_to_the_filter() -> None:
    """`/even` and enter queued together (pasted, or typed as fast as tmux send-keys): the
    keys reached the screen before the `/` binding focused the box and were lost (a `p`
    among them opened the pipeline)."""
    from textual import events
    from textual.widgets import DataTable

    app, _backend = _app(read_only=True)
    reader = ListReader(_records(30))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_tail(app, pilot, reader)
        for key, character in (("slash", "/"), *((c, c) for c in "even"), ("enter", "\r")):
            app.post_message(events.Key(key, character))
        await wait_until(pilot, lambda: len(screen.rows) == 5)
        assert screen.needle == "even" and app.screen is screen
        assert isinstance(app.focused, DataTable)  # enter went back to the records
