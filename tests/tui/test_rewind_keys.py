"""The rewind keys with Pilot: [ ] { } step the shown moment, g goes to a time, L back to
live, > plays forward; the status bar says REWIND in its own colour, the live feed keeps
filling the live state, control keys still reach the live simulator, and a moment before
the run began is refused with the earliest one. The past comes from an in-memory
rewinder (the Kafka one is tested against the real broker in tests/integration)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cta_core import topics
from cta_core.records.status import SimStatus
from cta_tui.app import CtaApp
from cta_tui.common.goto_prompt import GoToPrompt
from cta_tui.common.status_bar import StatusBar
from cta_tui.control import MemoryControlPublisher
from cta_tui.feeds.memory_source import MemorySource
from cta_tui.rewind import windows
from cta_tui.rewind.engine import Advance, Rewound
from cta_tui.rewind.timeline import Run, StatusPoint, build_runs
from cta_tui.ssh.hub import RecordHub, Snapshot, SocketSource
from cta_tui.state.model import DashboardState
from cta_tui.state.records import Record
from cta_tui.state.reducers import apply_records
from tests.support.tui import NOW, SIM_MS, FakeClock, arrival, build_app, fixed_records, wait_until


class MemoryRewinder:
    """Past moments from fixed records: the run's status once a wall minute at 1x for
    twenty minutes before now (from 04:43:12); a moment's state is the fixed network
    without train B1."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.asked: list[int] = []
        points = [
            StatusPoint(int((NOW - 1200 + i * 60) * 1000), SimStatus(run_id="run1", sim_time_ms=SIM_MS - 1_200_000 + i * 60_000, speed=1.0))
            for i in range(21)
        ]  # fmt: skip
        self._runs = build_runs(points)

    def run(self, run_id: str | None) -> Run:
        return self._runs[0]

    def state_at(self, run: Run, sim_ms: int, progress: object = None) -> Rewound:
        plan = windows.plan(run, sim_ms, int(self.clock() * 1000), 300_000)
        self.asked.append(sim_ms)
        state = DashboardState()
        for record in fixed_records():
            if record.topic != topics.SIM_STATUS and (record.value or {}).get("train_id") != "B1":
                apply_records(state, record.topic, [record], NOW)
        status = run.status_at(plan.at_ms)
        apply_records(
            state,
            topics.SIM_STATUS,
            [Record(topics.SIM_STATUS, None, status.status.to_json(), status.wall_ms)],
            NOW,
        )
        return Rewound(state, run, plan)

    def advance(self, rewound: Rewound, sim_ms: int) -> Advance:
        """Forward from a moment: a train arrives on the way (the records in between)."""
        run = self._runs[0]
        plan = windows.plan(run, sim_ms, int(self.clock() * 1000), 300_000)
        self.asked.append(sim_ms)
        point = run.status_at(plan.at_ms)
        status = Record(topics.SIM_STATUS, None, point.status.to_json(), point.wall_ms)
        return Advance(
            run, plan, status, {topics.ARRIVALS: [arrival("B1", 40730, 2, prev=41180, line="brown")]}, {}
        )


def _with_rewinder() -> tuple[CtaApp, MemorySource, MemoryControlPublisher, MemoryRewinder]:
    """The test app on the fixed records, rewinding through a :class:`MemoryRewinder`."""
    clock = FakeClock()
    rewinder = MemoryRewinder(clock)
    app, source, control = build_app(records=fixed_records(), clock=clock)
    app.rewind_factory = lambda: rewinder  # type: ignore[assignment,return-value]
    return app, source, control, rewinder


def _bar(app: object) -> str:
    return app.screen.query_one(StatusBar).compose_text().plain  # type: ignore[attr-defined]


async def test_rewind_keys_status_bar_and_back_to_live() -> None:
    app, source, control, _rewinder = _with_rewinder()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "B1" in app.state.trains)
        await pilot.press("left_square_bracket")
        await wait_until(pilot, lambda: app.rewinding)
        assert "REWIND 05:02:12 · live 05:03 · L live" in _bar(app)
        assert "B1" not in app.state.trains and app.state is not app.live_state
        styles = [str(span.style) for span in app.screen.query_one(StatusBar).compose_text().spans]
        assert any("on #ffaf00" in s for s in styles)  # its own colour
        # the live feed goes on filling the live state, not the moment shown
        source.push(arrival("R9", 41190, 1, prev=40900))
        await wait_until(pilot, lambda: "R9" in app.live_state.trains)
        assert "R9" not in app.state.trains
        # control keys act on the live simulator, and say so
        await pilot.press("space")
        assert control.sent[-1]["command"] == "pause" and "live simulator" in app.note
        await pilot.press("left_curly_bracket")
        await wait_until(pilot, lambda: "REWIND 04:52:12" in _bar(app))
        await pilot.press("right_curly_bracket", "right_curly_bracket")  # past live: live again
        await wait_until(pilot, lambda: not app.rewinding)
        assert app.state is app.live_state and "REWIND" not in _bar(app)


async def test_go_to_play_forward_and_the_earliest_moment() -> None:
    app, _source, _control, rewinder = _with_rewinder()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.live_state.sim is not None)
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, GoToPrompt))
        await pilot.press(*"04:45", "enter")
        await wait_until(pilot, lambda: "REWIND 04:45:00" in _bar(app))
        # before the run's first status (04:43:12): refused, the moment shown stays
        await pilot.press("left_curly_bracket")
        await wait_until(pilot, lambda: app._reading is None and len(rewinder.asked) >= 1)
        await pilot.pause(0.1)
        assert app.rewound is not None and app.rewound.plan.sim_ms == rewinder.asked[-1]
        assert "REWIND 04:45:00" in _bar(app)
        # play forward: 1x, the next moment follows the shown one
        await pilot.press("greater_than_sign")
        assert "▶ 1x" in _bar(app)
        await wait_until(
            pilot, lambda: app.rewound is not None and app.rewound.plan.sim_ms > rewinder.asked[0]
        )
        await pilot.press("L")
        await wait_until(pilot, lambda: not app.rewinding and app.play_rate == 0)


async def test_two_sessions_on_one_hub_rewind_alone(tmp_path: Path) -> None:
    """Two dashboards on the SSH server's shared feed (the record hub): each rewinds to
    its own moment; the feed and the other's live state go on untouched."""

    memory = MemorySource(fixed_records())
    hub = RecordHub(memory, Snapshot(clock=lambda: NOW))  # the fixed records are "now"
    path = str(tmp_path / "feed.sock")
    await hub.start(path)
    clock = FakeClock()
    apps = []
    for _ in range(2):
        app, _src, _ctl = build_app(clock=clock)
        app.source = SocketSource(path)
        app.rewind_factory = lambda: MemoryRewinder(clock)  # type: ignore[assignment,return-value]
        apps.append(app)
    one, two = apps
    try:
        async with one.run_test(size=(80, 24)) as p1, two.run_test(size=(80, 24)) as p2:
            await wait_until(p1, lambda: "B1" in one.live_state.trains and "B1" in two.live_state.trains)
            # the keys' actions (Pilot's key presses reach one app of two run at once)
            one.rewind_to("04:50")
            two.rewind_by(-10)
            # each app's own label (a status bar finds "its" app through Textual's active
            # app, which is one of the two here; an SSH session is a process of its own)
            await wait_until(p1, lambda: "REWIND 04:50:00" in (one.rewind_label() or ""))
            await wait_until(p2, lambda: "REWIND 04:53:12" in (two.rewind_label() or ""))
            memory.push(arrival("R7", 41190, 1, prev=40900))
            await wait_until(p1, lambda: "R7" in one.live_state.trains and "R7" in two.live_state.trains)
            assert "R7" not in one.state.trains and "R7" not in two.state.trains
            two.back_to_live()
            await wait_until(p2, lambda: "R7" in two.state.trains)
            assert "REWIND 04:50:00" in (one.rewind_label() or "") and len(hub.clients) == 2
            assert two.rewind_label() is None
    finally:
        await hub.close()
