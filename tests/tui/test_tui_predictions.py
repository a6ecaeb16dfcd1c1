"""Pilot: the station board's next trains come from the predictions topic."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from cta_core import topics
from cta_tui.state.records import Record
from cta_tui.station.screen import StationBoardScreen
from tests.support.tui import NOW, SIM_MS, arrival, build_app, fixed_records, wait_until


def prediction(train: str, station: int, ahead_s: int, generated_ms: int = SIM_MS, **flags: Any) -> Record:
    value = {
        "station_id": station,
        "line": "red",
        "direction": "a",
        "train_id": train,
        "destination": "95th/Dan Ryan",
        "predicted_arrival": generated_ms + ahead_s * 1000,
        "generated_at": generated_ms,
        "approaching": False,
        "delayed": False,
        "fault": False,
        "scheduled": False,
        **flags,
    }
    return Record(topics.PREDICTIONS, {"station_id": station}, value, int(NOW * 1000))


def _rows(app: Any) -> list[list[str]]:
    out = []
    for table in app.screen.query("NextTrainsTable"):
        assert isinstance(table, DataTable)
        for i in range(table.row_count):
            out.append([str(c) for c in table.get_row_at(i)])
    return out


async def test_station_board_shows_due_and_minutes_from_predictions() -> None:
    records = [
        *fixed_records(),
        prediction("R1", 41300, 30),
        prediction("R7", 41300, 5 * 60, delayed=True),
        prediction("R9", 41300, 9 * 60, scheduled=True),
    ]
    app, source, _control = build_app(records=records)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: len(app.state.predictions.next_at(41300)) == 3)
        app.open_station(41300)
        await wait_until(pilot, lambda: isinstance(app.screen, StationBoardScreen) and len(_rows(app)) == 3)
        rows = _rows(app)
        assert rows[0][0] == "R1" and rows[0][2] == "Due"
        assert rows[1][0] == "R7" and rows[1][2] == "5 min" and "⚠" in rows[1][3]
        assert rows[2][2] == "9 min" and "◷" in rows[2][3]
        # R1 arrives at Loyola and its newer set leaves Loyola out: the row goes, the
        # others stay (the board reads only Loyola's records: it knows by the arrival)
        source.push(arrival("R1", 41300, 99, None, sim_time=SIM_MS + 40_000))
        source.push(prediction("R1", 40760, 120, generated_ms=SIM_MS + 40_000))
        await wait_until(pilot, lambda: [r[0] for r in _rows(app)] == ["R7", "R9"])


async def test_following_a_train_shows_its_next_stops() -> None:
    records = [*fixed_records(), prediction("R1", 41300, 90), prediction("R1", 40760, 200)]
    app, _source, _control = build_app(records=records)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: len(app.state.predictions.train_stops("R1")) == 2)
        app.follow("R1")
        await wait_until(pilot, lambda: any("Loyola" in str(n.message) for n in app._notifications))
        text = next(str(n.message) for n in app._notifications if "Loyola" in str(n.message))
        assert text.index("Loyola") < text.index("Granville")


async def test_the_predictions_are_read_only_while_a_screen_shows_them() -> None:
    """The app tells its source which screens are open: the predictions are wanted on the
    line view and the station board, or while a train is followed, and on no other."""
    app, source, _control = build_app(records=fixed_records())
    wants: list[bool] = []
    source.want = lambda topic, wanted: wants.append(wanted) if topic == topics.PREDICTIONS else None  # type: ignore[attr-defined]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: bool(wants) and not wants[-1])  # the network screen
        await pilot.press("1")
        await wait_until(pilot, lambda: wants[-1])  # the line view (its delay marks)
        app.open_station(41300)
        await pilot.pause(0.3)
        assert wants[-1]
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: not wants[-1])  # back on the network screen
        app.follow("R1")
        await wait_until(pilot, lambda: wants[-1])
