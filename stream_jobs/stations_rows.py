"""Pure row building: the packaged CSVs -> rows for `stations` and `line_stations`.

No database here; :mod:`stream_jobs.stations_db` writes what these functions return.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cta_core import data

#: The eight lines, in the order the dashboard lists them.
LINES = ("red", "blue", "green", "brown", "purple", "yellow", "pink", "orange")

#: `stations` column -> the cta_L_stops.csv flag columns that set it.
LINE_FLAG_COLUMNS: dict[str, tuple[str, ...]] = {
    "red": ("RED",),
    "blue": ("BLUE",),
    "green": ("G",),
    "brown": ("BRN",),
    "purple": ("P", "Pexp"),
    "yellow": ("Y",),
    "pink": ("Pnk",),
    "orange": ("O",),
}

#: the columns every `stations` table starts with, then one flag column per line
STOP_COLUMNS = (
    "stop_id",
    "direction_id",
    "stop_name",
    "station_name",
    "station_descriptive_name",
    "station_id",
    "order",
)
STATION_COLUMNS = (*STOP_COLUMNS, *LINES)
LINE_STATION_COLUMNS = ("line", "branch", "position", "station_id", "station_name")


class DataError(ValueError):
    """A row of the packaged data does not parse."""


@dataclass(frozen=True)
class StationData:
    stations: list[dict[str, Any]]
    line_stations: list[dict[str, Any]]


def _flag(value: str, where: str) -> bool:
    v = value.strip().lower()
    if v in ("true", "t", "1", "yes"):
        return True
    if v in ("false", "f", "0", "no", ""):
        return False
    raise DataError(f"{where}: not a boolean: {value!r}")


def _int(value: str, where: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise DataError(f"{where}: not an integer: {value!r}") from None


def line_station_rows(lines_csv: str) -> list[dict[str, Any]]:
    """`line_stations` rows from cta_lines.csv (lat/lon are not stored)."""
    rows = []
    for n, rec in enumerate(csv.DictReader(io.StringIO(lines_csv)), start=2):
        where = f"cta_lines.csv line {n}"
        line = rec["line"].strip().lower()
        if line not in LINES:
            raise DataError(f"{where}: unknown line {rec['line']!r}")
        rows.append(
            {
                "line": line,
                "branch": rec["branch"].strip(),
                "position": _int(rec["position"], where),
                "station_id": _int(rec["station_id"], where),
                "station_name": rec["station_name"].strip(),
            }
        )
    return rows


def first_positions(line_stations: Iterable[dict[str, Any]]) -> dict[int, int]:
    """station_id -> its position on the first line (in :data:`LINES` order) it is on.

    This fills the course project's single ``order`` column of ``stations``; the
    per-line order lives in ``line_stations``.
    """
    best: dict[int, tuple[int, int]] = {}
    for row in line_stations:
        rank = (LINES.index(row["line"]), row["position"])
        sid = row["station_id"]
        if sid not in best or rank < best[sid]:
            best[sid] = rank
    return {sid: rank[1] for sid, rank in best.items()}


def station_rows(stops_csv: str, order: dict[int, int]) -> list[dict[str, Any]]:
    """`stations` rows (one per platform) from cta_L_stops.csv."""
    rows = []
    for n, rec in enumerate(csv.DictReader(io.StringIO(stops_csv)), start=2):
        where = f"cta_L_stops.csv line {n}"
        station_id = _int(rec["MAP_ID"], where)
        row: dict[str, Any] = {
            "stop_id": _int(rec["STOP_ID"], where),
            "direction_id": rec["DIRECTION_ID"].strip(),
            "stop_name": rec["STOP_NAME"].strip(),
            "station_name": rec["STATION_NAME"].strip(),
            "station_descriptive_name": rec["STATION_DESCRIPTIVE_NAME"].strip(),
            "station_id": station_id,
            "order": order.get(station_id),
        }
        for line, cols in LINE_FLAG_COLUMNS.items():
            row[line] = any(_flag(rec[c], where) for c in cols)
        rows.append(row)
    return rows


def build(stops_csv: str, lines_csv: str) -> StationData:
    line_stations = line_station_rows(lines_csv)
    return StationData(station_rows(stops_csv, first_positions(line_stations)), line_stations)


def packaged() -> StationData:
    """The rows of the CSV files shipped in :mod:`cta_core.data`."""
    return build(data.read_text("cta_L_stops.csv"), data.read_text("cta_lines.csv"))


#: columns of the course project's `stations` table (cta_stations.csv), in order
COURSE_LINES = ("red", "blue", "green")
COURSE_STATION_COLUMNS = (*STOP_COLUMNS, *COURSE_LINES)


def course_station_rows(text: str | None = None) -> list[dict[str, Any]]:
    """The course project's three-line `stations` table (packaged cta_stations.csv),
    typed as its PostgreSQL columns: red/blue/green flags, an ``order`` per line, and
    no ``line_stations`` (the transform takes the lines from the flags)."""
    if text is None:
        text = data.read_text("cta_stations.csv")
    rows = []
    for n, rec in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        where = f"cta_stations.csv line {n}"
        row: dict[str, Any] = {c: rec[c].strip() for c in COURSE_STATION_COLUMNS}
        for c in ("stop_id", "station_id", "order"):
            row[c] = _int(rec[c], where)
        for c in COURSE_LINES:
            row[c] = _flag(rec[c], where)
        rows.append(row)
    return rows
