from __future__ import annotations

import pytest

from stream_jobs.stations_rows import DataError, build, line_station_rows, packaged, station_rows


def test_packaged_data_has_every_platform_and_line_position() -> None:
    data = packaged()
    assert len(data.stations) == 298
    assert len({r["stop_id"] for r in data.stations}) == 298
    assert len(data.line_stations) == 219
    assert {r["line"] for r in data.line_stations} == {
        "red", "blue", "green", "brown", "purple", "yellow", "pink", "orange"
    }  # fmt: skip


def test_line_flags_map_purple_express_and_keep_unflagged_platforms() -> None:
    rows = {r["stop_id"]: r for r in packaged().stations}
    # Sheridan platforms carry no flag in the source; they are kept, all flags false
    assert not any(rows[30293][line] for line in ("red", "blue", "green", "purple"))
    howard = [r for r in rows.values() if r["station_id"] == 40900]
    assert any(r["purple"] for r in howard) and any(r["red"] for r in howard)


def test_order_is_position_on_first_line() -> None:
    rows = {r["station_id"]: r for r in packaged().stations}
    assert rows[40900]["order"] == 0  # Howard, first on red
    assert rows[40450]["order"] == 32  # 95th/Dan Ryan, last on red


def test_bad_rows_name_file_and_line() -> None:
    with pytest.raises(DataError, match=r"cta_lines\.csv line 2"):
        line_station_rows("line,branch,position,station_id,station_name\nred,main,x,1,A\n")
    with pytest.raises(DataError, match="unknown line"):
        line_station_rows("line,branch,position,station_id,station_name\nmauve,main,0,1,A\n")
    header = "STOP_ID,DIRECTION_ID,STOP_NAME,STATION_NAME,STATION_DESCRIPTIVE_NAME,MAP_ID,ADA,RED,BLUE,G,BRN,P,Pexp,Y,Pnk,O,Location\n"
    with pytest.raises(DataError, match="not a boolean"):
        station_rows(
            header + '1,N,a,b,c,2,true,maybe,false,false,false,false,false,false,false,false,"(1, 2)"\n', {}
        )


def test_build_joins_order_from_lines() -> None:
    stops = (
        "STOP_ID,DIRECTION_ID,STOP_NAME,STATION_NAME,STATION_DESCRIPTIVE_NAME,MAP_ID,ADA,RED,BLUE,G,BRN,P,Pexp,Y,Pnk,O,Location\n"
        '7,S,x (S),X,X (Blue),99,true,false,true,false,false,false,false,false,false,false,"(1, 2)"\n'
    )
    lines = "line,branch,position,station_id,station_name,lat,lon\nblue,main,4,99,X,1,2\n"
    data = build(stops, lines)
    assert data.stations[0]["order"] == 4 and data.stations[0]["blue"] is True
    assert data.line_stations == [
        {"line": "blue", "branch": "main", "position": 4, "station_id": 99, "station_name": "X"}
    ]
