"""The dashboard driven with Pilot over the in-memory source and control publisher."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import DataTable

from cta_core.errors import ServiceUnavailable
from cta_tui.common.status_bar import StatusBar
from cta_tui.help.screen import HelpScreen
from cta_tui.line.line_strip import LineStrip
from cta_tui.line.screen import LineScreen
from cta_tui.messages import ArrivalsReceived, FeedFailed
from cta_tui.network.screen import NetworkScreen
from cta_tui.pipeline.screen import PipelineScreen
from cta_tui.station.screen import StationBoardScreen
from tests.support.tui import (
    BROWN,
    RED,
    FakeClock,
    arrival,
    build_app,
    fixed_records,
    sim_status,
    wait_until,
)
from tests.support.tui_samples import station_records


def strip_rows(app) -> dict[str, str]:
    strip = app.screen.query_one(LineStrip)
    rows = {}
    for i in range(strip.option_count):
        option = strip.get_option_at_index(i)
        text = option.prompt.plain if hasattr(option.prompt, "plain") else str(option.prompt)
        rows[text[5:31].strip()] = text
    return rows


async def test_synthetic_arrivals_draw_train_at_station() -> None:
    seen: list[Message] = []
    app, source, _ = build_app()
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await pilot.press("1")  # the line view (the network screen is home)
        source.push(*station_records("red", RED), sim_status())
        await wait_until(pilot, lambda: "Howard" in strip_rows(app))
        source.push(arrival("R1", 41190, 1, prev=40900))
        await wait_until(pilot, lambda: "▼" in strip_rows(app)["Jarvis"])
        rows = strip_rows(app)
        assert "▼" not in rows["Howard"] and "▲" not in rows["Howard"]
        # the train moves on: drawn at Morse, gone from Jarvis
        source.push(arrival("R1", 40100, 2, prev=41190))
        await wait_until(pilot, lambda: "▼" in strip_rows(app)["Morse"])
        assert "▼" not in strip_rows(app)["Jarvis"]
        assert any(isinstance(m, ArrivalsReceived) for m in seen)


async def test_space_publishes_pause_and_ack_is_shown() -> None:
    app, source, control = build_app(records=fixed_records())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.state.sim is not None)
        await pilot.press("space")
        assert [c["command"] for c in control.sent] == ["pause"]
        # addressed to the run on screen, and saying who sent it
        assert control.sent[0]["run_id"] == "run1" and control.sent[0]["sender"] == "test-dashboard"
        command_id = control.sent[0]["command_id"]
        source.push(sim_status(paused=True, last_command_id=command_id))
        await wait_until(pilot, lambda: "pause applied" in app.note)
        assert app.pending.pending == {}
        await pilot.press("space")  # now paused: space resumes
        await pilot.press("plus")
        assert [c["command"] for c in control.sent] == ["pause", "resume", "set_speed"]
        assert control.sent[2]["speed"] == 120


async def test_unanswered_command_notifies_after_three_seconds() -> None:
    clock = FakeClock()
    app, _source, control = build_app(records=fixed_records(), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.state.sim is not None)
        await pilot.press("minus")
        assert control.sent[-1]["command"] == "set_speed"
        clock.now += 3.5
        await wait_until(pilot, lambda: "no simulator answered" in app.note)


async def test_read_only_sends_nothing_and_says_so() -> None:
    app, _source, control = build_app(read_only=True, records=fixed_records())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.state.sim is not None)
        await pilot.press("space", "plus", "minus")
        await pilot.pause()
        assert control.sent == []
        assert "READ-ONLY" in app.screen.query_one(StatusBar).compose_text().plain
        assert any("read-only" in n.message for n in app._notifications)


async def test_question_mark_opens_help_built_from_bindings() -> None:
    app, _source, _control = build_app(records=fixed_records())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        actions = [table.get_row_at(i)[1] for i in range(table.row_count)]
        assert {"Pause", "Map", "Choose a line (Red … Orange)", "Quit"} <= set(actions)
        # the dashboard's keys first, Textual's focus keys after them
        assert actions.index("Focus Next") > actions.index("Pause"), actions
        assert actions[0] != "Focus Next"
        await pilot.press("escape")
        assert isinstance(app.screen, NetworkScreen)
        await pilot.press("1", "question_mark")  # the line view's own keys are listed there
        table = app.screen.query_one(DataTable)
        actions = [table.get_row_at(i)[1] for i in range(table.row_count)]
        assert "Filter" in actions and "Pause" in actions
        await pilot.press("escape")
        assert isinstance(app.screen, LineScreen)


async def test_line_view_explains_its_glyphs_until_a_station_is_highlighted() -> None:
    from textual.widgets import Static

    app, _source, _control = build_app(records=fixed_records())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("1")
        await wait_until(pilot, lambda: len(strip_rows(app)) == len(RED))

        def detail() -> str:
            return str(app.screen.query_one("#detail-text", Static).render())

        await pilot.press("slash", "z", "z", "enter")  # a filter no station matches
        await wait_until(pilot, lambda: detail().startswith("Red line:"))
        assert "▲▼ at station" in detail() and "✖ broken down" in detail()
        assert len(detail()) <= 78  # one row at 80 columns
        await pilot.press("escape")  # the filter cleared
        await wait_until(pilot, lambda: len(strip_rows(app)) == len(RED))
        await pilot.press("down")
        await wait_until(pilot, lambda: "train(s) here" in detail())
        assert "broken down" not in detail()


async def test_slash_filters_stations() -> None:
    app, _source, _control = build_app(records=fixed_records())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("1")
        await wait_until(pilot, lambda: len(strip_rows(app)) == len(RED))
        await pilot.press("slash", "m", "o", "r")
        await wait_until(pilot, lambda: list(strip_rows(app)) == ["Morse"])
        await pilot.press("enter")
        assert list(strip_rows(app)) == ["Morse"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(strip_rows(app)) == len(RED))


async def test_filter_typed_in_one_burst_goes_to_the_filter() -> None:
    """`/mor` and enter, pasted or typed faster than the screen takes them in (as tmux
    send-keys does): every key reaches the screen before the `/` binding would open the
    box. They used to go to the list: `m` opened the map, enter a station's board."""
    from textual import events

    app, _source, _control = build_app(records=fixed_records())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("1")
        await wait_until(pilot, lambda: len(strip_rows(app)) == len(RED))
        for key, character in (("slash", "/"), ("m", "m"), ("o", "o"), ("r", "r"), ("enter", "\r")):
            app.post_message(events.Key(key, character))  # queued together, no pause between
        await wait_until(pilot, lambda: list(strip_rows(app)) == ["Morse"])
        assert isinstance(app.screen, LineScreen)
        assert isinstance(app.focused, LineStrip)  # enter kept the filter and closed the box


async def test_every_screen_renders_at_80x24() -> None:
    app, _source, _control = build_app(records=fixed_records())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: len(app.state.trains) == 4 and app.state.weather is not None)
        await pilot.press("4")
        await wait_until(pilot, lambda: "Kimball" in strip_rows(app))
        assert "Washington/Wells ⟲" in strip_rows(app)["Washington/Wells ⟲"]
        await pilot.press("1")
        await wait_until(pilot, lambda: "Howard" in strip_rows(app))
        await pilot.press("down", "enter")
        assert isinstance(app.screen, StationBoardScreen) and app.screen.station_id == 41190
        await pilot.pause()
        assert "41190" in str(app.screen.query_one("#board-title").render())
        await pilot.press("escape", "p")
        assert isinstance(app.screen, PipelineScreen)
        await pilot.pause()
        await pilot.press("escape", "u")
        assert "°C" in app.screen.query_one(StatusBar).compose_text().plain
        svg = app.export_screenshot()
        assert "Howard" in svg
    assert app.return_code in (None, 0)


async def test_backend_error_leaves_app_running() -> None:
    seen: list[Message] = []
    app, source, _control = build_app(records=station_records("red", RED))
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("1")
        await wait_until(pilot, lambda: "Howard" in strip_rows(app))
        source.set_down(ServiceUnavailable("Kafka", "127.0.0.1:9"))
        await wait_until(pilot, lambda: sum(isinstance(m, FeedFailed) for m in seen) >= 3)  # retried
        assert app.state.feed_error is not None and "127.0.0.1:9" in app.state.feed_error
        await wait_until(pilot, lambda: "Kafka down" in app.screen.query_one(StatusBar).compose_text().plain)
        assert app.is_running
        source.set_down(None)
        source.push(arrival("R1", 41190, 1, prev=40900))
        await wait_until(pilot, lambda: "R1" in app.state.trains and app.state.feed_error is None)
        assert any(isinstance(m, FeedFailed) for m in seen)


async def test_selecting_an_approaching_train_follows_it() -> None:
    app, _source, _control = build_app(records=fixed_records())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: len(app.state.trains) == 4)
        app.open_station(41300)  # Loyola: R1 at Jarvis approaches heading down
        await pilot.pause()
        table = app.screen.query_one("#approach-down", DataTable)
        await wait_until(pilot, lambda: table.row_count == 2)
        table.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LineScreen))
        assert app.follow_train == "R3"  # nearest first: R3 (broken down at Morse) is 1 stop away
        strip = app.screen.query_one(LineStrip)
        await wait_until(pilot, lambda: strip.highlighted_option.id.startswith("s40100"))
        # the followed train moves on: the cursor goes with it, the train drawn in reverse
        _source.push(arrival("R3", 41300, 4, prev=40100))
        await wait_until(pilot, lambda: strip.highlighted_option.id.startswith("s41300"))
        await pilot.press("escape")
        assert app.follow_train is None
        assert BROWN  # the brown fixture exists for the Loop marker test


async def test_command_palette_runs_app_commands() -> None:
    from textual.command import CommandList, CommandPalette

    app, _source, control = build_app(records=fixed_records())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.state.sim is not None)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"pipeline health")
        await wait_until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PipelineScreen))
        assert control.sent == []


async def test_q_quits() -> None:
    app, _source, _control = build_app(records=fixed_records())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_kafka_without_any_data_still_shows_connected() -> None:
    """A fresh cluster: Kafka answers but no topic has a record yet. The header must
    say Kafka is fine (not "connecting" forever) and the panels wait for stations."""
    app, _source, _control = build_app(records=[])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "Kafka ok" in app.screen.query_one(StatusBar).compose_text().plain)
        assert app.state.feed_connected


async def test_pipeline_screen_says_not_used_for_an_optional_service_and_down_for_the_rest() -> None:
    """ksqlDB does not run on the local stack (the Faust worker writes the summary): it is
    "not used", while a required service that does not answer is "down"."""
    from cta_tui.pipeline.pipeline_table import ServicesTable
    from cta_tui.state.model import ServiceHealth

    app, _source, _control = build_app(records=fixed_records())
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.state.sim is not None)
        app.state.services = {
            "REST Proxy": ServiceHealth("REST Proxy", "http://x/topics", False, "down: refused"),
            "ksqlDB": ServiceHealth("ksqlDB", "http://x/info", False, "not running", optional=True),
        }
        await app.push_screen(PipelineScreen(app.settings.bootstrap_servers))
        table = app.screen.query_one(ServicesTable)
        table.show(app.state, "localhost:9092")
        rows = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert "down" in rows["REST Proxy"] and "not used" in rows["ksqlDB"]
