"""Synthetic records for the dashboard's tests (state model and Textual app)."""

from __future__ import annotations

from typing import Any

from cta_core import topics
from cta_tui.state.records import Record

RED = [(40900, "Howard"), (41190, "Jarvis"), (40100, "Morse"), (41300, "Loyola"), (40760, "Granville")]


def station_records(line: str = "red", stations: list[tuple[int, str]] = RED) -> list[Record]:
    return [
        Record(
            topics.STATIONS_TABLE,
            {"station_id": sid, "line": line},
            {"station_id": sid, "station_name": name, "order": i, "line": line},
        )
        for i, (sid, name) in enumerate(stations)
    ]


def arrival(
    train: str, station: int, seq: int, prev: int | None = None, direction: str = "b", **extra: Any
) -> Record:
    value = {
        "station_id": station,
        "train_id": train,
        "direction": direction,
        "line": "red",
        "train_status": "in_service",
        "prev_station_id": prev,
        "prev_direction": direction if prev else None,
        "sim_time": 1_000_000 + seq * 60_000,
        "branch": None,
        "delay_s": 0,
        "seq": seq,
        **extra,
    }
    return Record(topics.ARRIVALS, {"train_id": train}, value, 1_700_000_000_000 + seq)
