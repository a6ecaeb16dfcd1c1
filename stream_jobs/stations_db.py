"""PostgreSQL adapter: create the stations schema and load the rows (psycopg 3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg

from cta_core.errors import ServiceUnavailable
from cta_core.settings import Settings
from stream_jobs.sql import statement
from stream_jobs.stations_rows import StationData

Advance = Callable[[str, int], None]


@dataclass(frozen=True)
class LoadResult:
    stations_inserted: int
    line_stations_inserted: int
    stations_total: int
    line_stations_total: int


def safe_dsn(dsn: str) -> str:
    """The DSN without its password, for messages."""
    parts = urlsplit(dsn)
    if parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        user = f"{parts.username}:***@" if parts.username else ""
        parts = parts._replace(netloc=f"{user}{host}")
    return urlunsplit(parts)


def connect(settings: Settings, timeout: float = 5.0) -> psycopg.Connection:
    try:
        return psycopg.connect(settings.postgres_dsn, connect_timeout=max(1, int(timeout)))
    except psycopg.OperationalError as exc:
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else None
        raise ServiceUnavailable("PostgreSQL", safe_dsn(settings.postgres_dsn), cause=cause) from None


def load(
    settings: Settings, data: StationData, *, reset: bool = False, advance: Advance | None = None
) -> LoadResult:
    """Create the tables when missing and insert the rows that are missing.

    Rerunning inserts nothing (``ON CONFLICT DO NOTHING``); ``reset`` truncates
    both tables first, in the same transaction, so readers never see them empty.
    """
    step = advance or (lambda _label, _n: None)
    count_sql = "SELECT (SELECT count(*) FROM stations), (SELECT count(*) FROM line_stations)"
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(statement("schema"))
        if reset:
            cur.execute(statement("reset"))
        step("schema", 1)
        before = cur.execute(count_sql).fetchone() or (0, 0)
        cur.executemany(statement("insert_stations"), data.stations)
        step("stations", len(data.stations))
        cur.executemany(statement("insert_line_stations"), data.line_stations)
        step("line_stations", len(data.line_stations))
        after = cur.execute(count_sql).fetchone() or (0, 0)
    return LoadResult(
        stations_inserted=after[0] - before[0],
        line_stations_inserted=after[1] - before[1],
        stations_total=after[0],
        line_stations_total=after[1],
    )
