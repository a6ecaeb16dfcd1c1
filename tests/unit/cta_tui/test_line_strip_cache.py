"""The line view's per-row text cache: a row is redrawn when anything it shows changes."""

from __future__ import annotations

from dataclasses import replace

from cta_tui.line.line_strip import LineStrip
from cta_tui.line.view import StationRow
from cta_tui.state.model import LineStation, Train


def test_a_train_turning_delayed_changes_the_rows_cache_key_and_text() -> None:
    train = Train(
        train_id="red-1",
        line="red",
        station_id=41300,
        direction="b",
        heading="UP",
        status="in_service",
        seq=1,
        sim_time_ms=0,
        received_at=0.0,
    )
    row = StationRow(LineStation(41300, "Loyola", 5), up_at=[train])
    late = replace(row, delayed=frozenset({"red-1"}))
    assert LineStrip._row_key(row, None) != LineStrip._row_key(late, None)
    assert LineStrip.row_text(row, None).plain != LineStrip.row_text(late, None).plain
