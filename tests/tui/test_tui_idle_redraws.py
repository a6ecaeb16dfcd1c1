"""Pilot: a redraw does no work when nothing it shows changed, on every screen.

The state is fixed (fixed records, a fixed clock); the app's redraw (``render_now``, what
its timer calls ~7 times a second) runs again and again, and the test counts table
refills (DataTable rows cleared, added, removed or updated) and the lines the compositor
asked widgets to paint (``Widget.render_lines``): both must stay at zero. The rule is
checked by counting work, never by timing it.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from textual.widget import Widget
from textual.widgets import DataTable

from cta_core import topics
from cta_tui.feeds.pipeline_probe import MemoryPipeline
from cta_tui.help.screen import HelpScreen
from cta_tui.line.screen import LineScreen
from cta_tui.map.screen import MapScreen
from cta_tui.network.screen import NetworkScreen
from cta_tui.pipeline.screen import PipelineScreen
from cta_tui.state.tail import JSON, TailRecord
from cta_tui.station.screen import StationBoardScreen
from cta_tui.tail.screen import TopicTailScreen
from tests.support.tui import SIM_MS, build_app, fixed_records, wait_until
from tests.tui.test_tui_pipeline_screen_jobs import SNAPSHOT
from tests.tui.test_tui_predictions import prediction

#: the DataTable calls that change rows (a refill is a clear and add_rows)
TABLE_WORK = ("clear", "add_row", "add_rows", "remove_row", "update_cell", "update_cell_at")
REDRAWS = 6


@contextlib.contextmanager
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts, per ``Class.method``, the table changes and the compositor's paints."""
    seen: Counter[str] = Counter()

    def wrap(cls: type, name: str) -> None:
        original = getattr(cls, name)

        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            seen[f"{type(self).__name__}.{name}"] += 1
            return original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, counted)

    for name in TABLE_WORK:
        wrap(DataTable, name)
    wrap(Widget, "render_lines")
    wrap(DataTable, "render_lines")
    try:
        yield seen
    finally:
        monkeypatch.undo()


async def idle_work(
    pilot: Any, monkeypatch: pytest.MonkeyPatch, extra: Callable[[], None] = lambda: None
) -> Counter[str]:
    """Settle, then redraw ``REDRAWS`` times with nothing changed; the work counted."""
    app = pilot.app
    for _ in range(3):
        app.render_now()
        extra()
        await pilot.pause()
    with counting(monkeypatch) as seen:
        for _ in range(REDRAWS):
            app.render_now()
            extra()
            await pilot.pause()
    return seen


async def redraw_on_clock(
    pilot: Any, monkeypatch: pytest.MonkeyPatch, clock: list[float], *modules: Any
) -> Counter[str]:
    """One redraw with ``modules``' ``monotonic`` reading ``clock`` (``counting`` undid
    that patch); the work counted."""
    for module in modules:
        monkeypatch.setattr(module, "monotonic", lambda: clock[0])
    with counting(monkeypatch) as seen:
        pilot.app.render_now()
        await pilot.pause()
    return seen


def _app() -> Any:
    records = [*fixed_records(), prediction("R1", 40900, 120), prediction("R3", 40900, 400)]
    app, _source, _control = build_app(records=records)
    app.pipeline = lambda: MemoryPipeline(SNAPSHOT)
    return app


async def _loaded(pilot: Any) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: len(app.state.trains) == 4 and app.state.predictions.next_at(40900))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_network_line_and_map_redraw_nothing_when_nothing_changed(
    size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app()
    async with app.run_test(size=size) as pilot:
        await _loaded(pilot)
        assert isinstance(app.screen, NetworkScreen)
        assert await idle_work(pilot, monkeypatch) == Counter()
        await pilot.press("1")
        await wait_until(pilot, lambda: isinstance(app.screen, LineScreen))
        assert await idle_work(pilot, monkeypatch) == Counter()
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, MapScreen))
        assert await idle_work(pilot, monkeypatch) == Counter()
        await pilot.press("z")  # the zoomed map
        assert await idle_work(pilot, monkeypatch) == Counter()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_station_board_redraws_nothing_when_nothing_changed(
    size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app()
    async with app.run_test(size=size) as pilot:
        await _loaded(pilot)
        app.open_station(40900)
        await wait_until(pilot, lambda: isinstance(app.screen, StationBoardScreen))
        await pilot.pause()
        assert app.screen.query_one("#next-trains").display  # the predictions block shows
        assert await idle_work(pilot, monkeypatch) == Counter()


async def test_pipeline_tabs_redraw_nothing_when_nothing_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(pilot)
        app.action_do("pipeline")
        await wait_until(
            pilot, lambda: isinstance(app.screen, PipelineScreen) and app.screen.snapshot is not None
        )
        screen = app.screen
        assert isinstance(screen, PipelineScreen)

        def probed_again() -> None:  # the probe's next snapshot, unchanged
            screen.post_message(PipelineScreen.Probed(SNAPSHOT))

        for tab in ("j", "g", "v"):
            await pilot.press(tab)
            assert await idle_work(pilot, monkeypatch, probed_again) == Counter(), tab


async def test_help_over_the_network_redraws_nothing_when_nothing_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert await idle_work(pilot, monkeypatch) == Counter()


async def test_the_screen_under_help_is_redrawn_seldom_while_the_state_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each change to the dimmed screen under a modal repaints the whole terminal, so it
    is shown at most once per ``UNDER_MODAL_PERIOD`` however often the state changes."""
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        shown: Counter[str] = Counter()
        original = NetworkScreen.show_state

        def counted(self: NetworkScreen, *args: Any, **kwargs: Any) -> None:
            shown["network"] += 1
            original(self, *args, **kwargs)

        monkeypatch.setattr(NetworkScreen, "show_state", counted)
        app._last_under_modal = 0.0  # due now: the next redraw shows it once
        for _ in range(REDRAWS):
            app.mark_dirty()
            app.render_now()
        assert shown["network"] == 1
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, NetworkScreen))
        before = shown["network"]
        app.render_now()
        app.render_now()
        assert shown["network"] == before + 2  # back on top: every redraw shows it


class _Reader:
    """A tail reader: ten records once, then nothing new."""

    def __init__(self) -> None:
        self.records = [
            TailRecord(topics.ARRIVALS, 0, i, 1_700_000_000_000 + i, f"k{i}", {"n": i}, JSON)
            for i in range(10)
        ]

    def seek_start(self) -> None:
        pass

    def seek_end(self, last: int | None = None) -> None:
        pass

    def poll(self, max_records: int = 500, timeout: float = 0.2) -> list[TailRecord]:
        out, self.records = self.records, []
        return out

    def close(self) -> None:
        pass


async def test_tail_redraws_nothing_when_no_record_came(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(pilot)
        reader = _Reader()
        await app.push_screen(
            TopicTailScreen(lambda _t: reader, lambda: [topics.ARRIVALS], topic=topics.ARRIVALS)
        )
        screen = app.screen
        assert isinstance(screen, TopicTailScreen)
        await wait_until(pilot, lambda: len(screen.rows) == 10)
        assert await idle_work(pilot, monkeypatch) == Counter()


async def test_switching_screens_keeps_no_footer_keys_of_earlier_screens() -> None:
    """Every screen switch rebuilds the footers' keys; the old ones must be let go (a
    dashboard left switching screens all day grew by megabytes)."""
    import gc

    from textual.widgets._footer import FooterKey

    def alive() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, FooterKey))

    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(pilot)
        counts = []
        for _ in range(4):
            for keys in (("1",), ("m",), ("p",), ("question_mark",)):
                await pilot.press("escape", "escape", "0", *keys)
                await pilot.pause()
            counts.append(alive())
        assert counts[-1] <= counts[1], counts


async def test_visiting_every_screen_again_keeps_no_screen_or_widget_alive() -> None:
    """A screen left is released with its widgets: rounds of visits keep as many alive
    as the first (a dashboard cycling its screens all day must stay flat)."""
    import gc

    from textual.dom import DOMNode

    def alive() -> Counter[str]:
        gc.collect()
        return Counter(type(o).__name__ for o in gc.get_objects() if isinstance(o, DOMNode))

    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(pilot)
        counts = []
        for _ in range(3):
            for keys in (("1",), ("m", "z"), ("1", "enter"), ("p", "g"), ("question_mark",)):
                await pilot.press("escape", "escape", "0", *keys)
                await pilot.pause()
            counts.append(alive())
        assert counts[-1] - counts[0] == Counter(), counts[-1] - counts[0]


async def test_line_counts_repaint_at_most_once_a_period(monkeypatch: pytest.MonkeyPatch) -> None:
    """A station's count that changes on every redraw repaints its row once per
    ``COUNT_PERIOD`` (on a frozen clock: none until the clock moves on, then once)."""
    from cta_tui.line import line_strip, station_detail

    clock = [1000.0]
    monkeypatch.setattr(line_strip, "monotonic", lambda: clock[0])
    monkeypatch.setattr(station_detail, "monotonic", lambda: clock[0])
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(pilot)
        await pilot.press("1")
        await wait_until(pilot, lambda: isinstance(app.screen, LineScreen))
        station = next(iter(app.state.lines["red"].stations))

        def tick() -> None:
            app.state.turnstile_counts[station] = app.state.turnstile_counts.get(station, 0) + 1

        assert await idle_work(pilot, monkeypatch, extra=tick) == Counter()
        clock[0] += line_strip.COUNT_PERIOD
        seen = await redraw_on_clock(pilot, monkeypatch, clock, line_strip, station_detail)
        assert seen["LineStrip.render_lines"] >= 1
        shown = str(app.screen.query_one(line_strip.LineStrip).get_option_at_index(0).prompt)
        assert f"{app.state.turnstile_counts[station]:,}" in shown


@contextlib.asynccontextmanager
async def _board_on_frozen_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[Any, Any, list[float]]]:
    """The app on Howard's board, its tables' clock frozen at ``clock[0]`` (moved by hand)."""
    from cta_tui.station import screen as board

    clock = [1000.0]
    monkeypatch.setattr(board, "monotonic", lambda: clock[0])
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(pilot)
        app.open_station(40900)
        await wait_until(pilot, lambda: isinstance(app.screen, StationBoardScreen))
        yield app, pilot, clock


async def test_board_tables_change_at_most_once_a_period(monkeypatch: pytest.MonkeyPatch) -> None:
    """Predictions whose minutes change on every redraw change the board's tables once per
    ``TABLES_PERIOD`` (on a frozen clock: none until the clock moves on, then once)."""
    from cta_tui.state.reducers import apply_records
    from cta_tui.station import screen as board

    async with _board_on_frozen_clock(monkeypatch) as (app, pilot, clock):
        sets = [0]

        def tick() -> None:  # R1's newer set: it comes a minute closer each time
            sets[0] += 1
            ahead = 20 * 60 - 60 * sets[0]
            record = prediction("R1", 40900, ahead, generated_ms=SIM_MS + 1000 * sets[0])
            apply_records(app.state, topics.PREDICTIONS, [record], 0.0)

        assert await idle_work(pilot, monkeypatch, extra=tick) == Counter()
        clock[0] += board.TABLES_PERIOD
        seen = await redraw_on_clock(pilot, monkeypatch, clock, board)
        assert seen["NextTrainsTable.render_lines"] >= 1
        minutes = [
            str(row[2]) for row in map(app.screen.query_one("#next-up", DataTable).get_row_at, range(2))
        ]
        assert f"{20 - sets[0]} min" in minutes, minutes


async def test_a_new_arrival_changes_the_board_at_once_but_not_within_the_gap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new arrival at the station changes its tables on the next redraw, unless the
    tables changed less than ``TABLES_GAP`` ago (at --speed 600 a busy station has one
    every few redraws): then on the first redraw after the gap."""
    from cta_tui.state.reducers import apply_records
    from cta_tui.station import screen as board
    from tests.support.tui import arrival

    async with _board_on_frozen_clock(monkeypatch) as (app, pilot, clock):
        assert await idle_work(pilot, monkeypatch) == Counter()  # the clock is frozen
        seq = [10]

        def arrive() -> None:  # R2 again at Howard, a minute later each time
            seq[0] += 1
            record = arrival("R2", 40900, seq[0], 41300, sim_time=SIM_MS + 60_000 * seq[0])
            apply_records(app.state, topics.ARRIVALS, [record], 0.0)

        arrive()
        clock[0] += board.TABLES_GAP / 2  # too soon after the last change: nothing yet
        assert await redraw_on_clock(pilot, monkeypatch, clock, board) == Counter()
        clock[0] += board.TABLES_GAP / 2
        seen = await redraw_on_clock(pilot, monkeypatch, clock, board)
        assert seen["ArrivalsBoard.render_lines"] >= 1
        newest = app.screen.query_one("#arrivals", DataTable).get_row_at(0)
        assert str(newest[1]) == "R2"
        arrive()  # another, a gap after the last change: on the next redraw
        clock[0] += board.TABLES_GAP
        seen = await redraw_on_clock(pilot, monkeypatch, clock, board)
        assert seen["ArrivalsBoard.render_lines"] >= 1


async def test_pipeline_visits_share_one_backend() -> None:
    """Every visit of the pipeline screen uses the backend the first one made (its
    Kafka, HTTP and PostgreSQL clients made and closed per visit grew the memory)."""
    app = _app()
    made: list[MemoryPipeline] = []

    def backend() -> MemoryPipeline:
        made.append(MemoryPipeline(SNAPSHOT))
        return made[-1]

    app.pipeline = backend
    async with app.run_test(size=(120, 40)) as pilot:
        await _loaded(pilot)
        for tab in ("j", "g", "v"):
            await pilot.press("escape", "escape", "0", "p", tab)
            await wait_until(
                pilot, lambda: isinstance(app.screen, PipelineScreen) and app.screen.snapshot is not None
            )
        assert len(made) == 1
