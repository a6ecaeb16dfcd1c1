"""The network (home) and map screens driven with Pilot over the in-memory source."""

from __future__ import annotations

from cta_tui.line.screen import LineScreen
from cta_tui.map.screen import MapScreen
from cta_tui.map.system_map import SystemMap
from cta_tui.network.line_panel import LinePanel
from cta_tui.network.screen import NetworkScreen
from cta_tui.state.model import LINE_ORDER
from tests.support.tui import RED, FakeClock, build_app, fixed_records, network_records, wait_until


def track(app, line: str, row: int = 1) -> str:
    """The plain text of a panel's row (row 1: the strip under the title)."""
    return app.screen.query_one(f"#panel-{line}", LinePanel).row_text(row)


def station_column(app, line: str, station_id: int) -> int:
    screen = app.screen
    assert isinstance(screen, NetworkScreen)
    layout = screen._layout
    geometry = screen._geometry[line][1]
    return layout.strip_x + geometry.at[station_id][1]


async def test_trains_drawn_in_their_panel_at_their_station() -> None:
    app, _source, _control = build_app(records=fixed_records())
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, NetworkScreen)  # the home screen
        await wait_until(pilot, lambda: "✖" in track(app, "red") and "▶" in track(app, "brown"))
        red = track(app, "red")
        # R1 left Howard for Jarvis: heading down the list (▶) at Jarvis; R3 broken at Morse
        assert red[station_column(app, "red", 41190)] == "▶"
        assert red[station_column(app, "red", 40100)] == "✖"
        assert red[station_column(app, "red", 41300)] == "◀"  # R2 came from Granville
        assert track(app, "brown")[station_column(app, "brown", 40730)] == "▶"
        assert "✖" not in track(app, "brown") and "3 trains" in track(app, "red", 0)


async def test_a_train_moves_towards_the_next_station_as_time_passes() -> None:
    clock = FakeClock()
    app, _source, _control = build_app(records=fixed_records(), clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: "▶" in track(app, "red"))
        jarvis, morse = station_column(app, "red", 41190), station_column(app, "red", 40100)
        assert track(app, "red").index("▶") == jarvis
        clock.now += 1.0  # 60 simulated seconds at 60x, no arrival: R1 is under way
        await wait_until(pilot, lambda: jarvis < track(app, "red").index("▶") < morse)
        moved = track(app, "red").index("▶")
        clock.now += 30.0  # long overdue: it stops short of Morse until it arrives
        await wait_until(pilot, lambda: track(app, "red").index("▶") > moved)
        assert track(app, "red").index("▶") < morse


async def test_number_keys_open_the_line_view_and_zero_returns() -> None:
    app, _source, _control = build_app(records=fixed_records())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: len(app.state.trains) == 4)
        for key, line in (("4", "brown"), ("1", "red")):
            await pilot.press(key)
            assert isinstance(app.screen, LineScreen) and app.screen.line == line
        await pilot.press("0")
        assert isinstance(app.screen, NetworkScreen)
        await pilot.press("8", "escape")
        assert isinstance(app.screen, NetworkScreen)
        await pilot.click("#panel-brown")
        await wait_until(pilot, lambda: isinstance(app.screen, LineScreen))
        assert app.screen.line == "brown"


async def test_m_opens_the_map_and_z_zooms_to_the_loop() -> None:
    app, _source, _control = build_app(records=network_records())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: len(app.state.trains) > 40)
        await pilot.press("m")
        assert isinstance(app.screen, MapScreen)
        system_map = app.screen.query_one(SystemMap)
        await wait_until(pilot, lambda: system_map.draws > 0)
        whole = system_map._dots
        assert whole and len(whole) > 30
        await pilot.press("z")
        await wait_until(pilot, lambda: system_map.zoomed and system_map._dots != whole)
        labels = " ".join(t for row in system_map._labels.values() for _, t, _ in row)
        assert "Clark" in labels and "Quincy" in labels  # the Loop's stations, named
        await pilot.press("escape")
        assert isinstance(app.screen, NetworkScreen)


async def test_all_eight_lines_fit_80x24() -> None:
    app, _source, _control = build_app(records=network_records())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: all(track(app, line) for line in LINE_ORDER))
        for line in LINE_ORDER:
            panel = app.screen.query_one(f"#panel-{line}", LinePanel)
            assert panel.region.height >= 2 and panel.region.bottom <= 23, line  # above the footer
            assert len(track(app, line)) <= 80
        assert RED  # fixture kept


async def test_footer_keeps_help_and_quit_visible_at_80_columns() -> None:
    from textual.widgets._footer import FooterKey

    app, _source, _control = build_app(records=fixed_records())
    async with app.run_test(size=(80, 24)) as pilot:
        # network, line view, map, station board, pipeline, tail, back to the line view
        for key in ("", "1", "m", "1", "enter", "escape", "p", "t", "escape"):
            if key:
                await pilot.press(key)
            await pilot.pause()
            keys = {k.key: k for k in app.screen.query(FooterKey)}
            for wanted in ("question_mark", "q"):
                assert wanted in keys and keys[wanted].region.width > 0, (key, wanted)
                assert keys[wanted].region.right <= 80 - len("^p palette"), (key, wanted)
