"""Stations: PostgreSQL -> Kafka Connect (Debezium on the local stack) -> Faust -> stations.table.v1.

The Faust worker runs as a subprocess with its own app id and its own output
topic, so it never collides with a demo worker; its inputs are the real
Connect topics.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from cta_core.kafka_clients import ensure_topics, make_admin
from cta_core.settings import Settings
from cta_core.topics import TopicSpec
from stream_jobs.cli import main
from stream_jobs.stations_rows import packaged
from tests.support.jobs import FaustWorker, produce, read_latest, unique

pytestmark = pytest.mark.integration


def _cli(settings: Settings, *args: str) -> tuple[int, str, str]:
    """A subcommand with the connection flags of the services it uses."""
    connect = [] if args[0] == "load-stations" else ["--connect-url", settings.connect_url]
    result = CliRunner().invoke(
        main, [*args, *connect, "--postgres-dsn", settings.postgres_dsn], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def stations_worker(
    stack: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FaustWorker, str]]:
    code, out, err = _cli(stack, "setup")
    assert code == 0, err
    assert "connector stations" in out
    table = unique("test.stations.table")
    tmp: Path = tmp_path_factory.mktemp("faust-stations")
    worker = FaustWorker(
        stack,
        tmp,
        "--group-id",
        unique("test-stations"),
        "--no-turnstile-summary",
        "--stations-table-topic",
        table,
        "--data-dir",
        str(tmp),
    ).start()
    try:
        yield worker, table
    finally:
        worker.stop()


def test_every_line_station_pair_arrives_within_60s(
    stations_worker: tuple[FaustWorker, str], stack: Settings
) -> None:
    worker, table = stations_worker
    expected = {f"{r['line']}:{r['station_id']}".encode() for r in packaged().line_stations}
    assert len(expected) == 193
    latest = read_latest(stack, table, lambda got: expected <= set(got), timeout=60)
    assert set(latest) == expected, worker.log()[-2000:]
    howard = json.loads(latest[b"red:40900"])
    assert howard == {"station_id": 40900, "station_name": "Howard", "order": 0, "line": "red"}
    assert json.loads(latest[b"green:40720"])["branch"] == "cottagegrove"  # Cottage Grove
    assert "branch" not in json.loads(latest[b"green:40020"])  # Harlem/Lake: shared trunk
    assert json.loads(latest[b"red:40450"])["station_name"] == "95th/Dan Ryan"  # typo outvoted


def test_renaming_a_station_in_postgres_reaches_the_table(
    stations_worker: tuple[FaustWorker, str], stack: Settings
) -> None:
    worker, table = stations_worker
    new_name = f"Howard {uuid.uuid4().hex[:6]}"
    with psycopg.connect(stack.postgres_dsn, autocommit=True) as conn:
        conn.execute("UPDATE stations SET station_name = %s WHERE station_id = 40900", (new_name,))
        try:

            def renamed(got: dict[bytes, bytes]) -> bool:
                return all(
                    k in got and json.loads(got[k])["station_name"] == new_name
                    for k in (b"red:40900", b"purple:40900", b"yellow:40900")
                )

            latest = read_latest(stack, table, renamed, timeout=60)
            assert renamed(latest), worker.log()[-2000:]
            assert json.loads(latest[b"red:40900"])["order"] == 0
        finally:
            conn.execute("UPDATE stations SET station_name = 'Howard' WHERE station_id = 40900")


def test_registering_the_connector_twice_is_a_no_op(stack: Settings) -> None:
    import httpx

    code, _first, err = _cli(stack, "connector")
    assert code == 0, err
    before = httpx.get(f"{stack.connect_url}/connectors/stations/config").json()
    code, second, err = _cli(stack, "connector")
    assert code == 0, err
    assert "stations (debezium): unchanged; RUNNING" in second
    assert httpx.get(f"{stack.connect_url}/connectors/stations/config").json() == before


def test_load_stations_twice_adds_nothing(stack: Settings) -> None:
    code, out, err = _cli(stack, "load-stations")
    assert code == 0, err
    assert "stations: 0 inserted, 298 in total; line_stations: 0 inserted, 219 in total" in out


def test_the_course_table_alone_gives_one_record_per_line_and_station(
    stack: Settings, tmp_path: Path
) -> None:
    """The course project's database: only `stations` (red/blue/green flags, `order`), no
    `line_stations`. Loaded into a schema of its own on the shared PostgreSQL and read
    back as the rows Connect streams (``row_to_json``, the flat JSON of Debezium's
    unwrapped rows with schemas off); Connect itself is not run for this copy because a
    second Debezium connector on the shared database would need its own replication
    slot and publication. The real worker turns them into the stations table."""
    from psycopg import sql

    from stream_jobs.stations_rows import COURSE_STATION_COLUMNS, course_station_rows

    rows = course_station_rows()
    schema = f"course_{uuid.uuid4().hex[:8]}"
    st_raw, ls_raw, table = (
        unique("test.course.stations"),
        unique("test.course.ls"),
        unique("test.course.table"),
    )
    with psycopg.connect(stack.postgres_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {}.stations (stop_id INTEGER PRIMARY KEY, direction_id VARCHAR(1), "
                    "stop_name VARCHAR(70), station_name VARCHAR(70), station_descriptive_name VARCHAR(200), "
                    'station_id INTEGER, "order" INTEGER, red BOOLEAN, blue BOOLEAN, green BOOLEAN)'
                ).format(sql.Identifier(schema))
            )
            insert = sql.SQL("INSERT INTO {}.stations ({}) VALUES ({})").format(
                sql.Identifier(schema),
                sql.SQL(", ").join(sql.Identifier(c) for c in COURSE_STATION_COLUMNS),
                sql.SQL(", ").join(sql.Placeholder(c) for c in COURSE_STATION_COLUMNS),
            )
            with conn.cursor() as cur:
                cur.executemany(insert, rows)
                cur.execute(
                    sql.SQL("SELECT row_to_json(s)::text FROM {}.stations s ORDER BY stop_id").format(
                        sql.Identifier(schema)
                    )
                )
                as_connect = [r[0].encode() for r in cur.fetchall()]
        finally:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    assert len(as_connect) == len(rows) == 230
    ensure_topics(make_admin(stack), [TopicSpec(st_raw), TopicSpec(ls_raw)])
    produce(stack, st_raw, [(None, v) for v in as_connect])
    expected = {
        f"{line}:{r['station_id']}".encode(): r["order"]
        for r in rows
        for line in ("red", "blue", "green")
        if r[line]
    }
    worker = FaustWorker(
        stack,
        tmp_path,
        "--group-id",
        unique("test-course"),
        "--no-turnstile-summary",
        "--stations-topic",
        st_raw,
        "--line-stations-topic",
        ls_raw,
        "--stations-table-topic",
        table,
        "--data-dir",
        str(tmp_path),
    ).start()
    try:
        latest = read_latest(stack, table, lambda got: expected.keys() <= got.keys(), timeout=60)
    finally:
        worker.stop()
    assert set(latest) == set(expected), worker.log()[-2000:]
    assert {k: json.loads(v)["order"] for k, v in latest.items()} == expected
    assert json.loads(latest[b"blue:40890"])["station_name"] == "O'Hare"
    assert len(expected) == 94  # 33 red + 33 blue + 28 green in the course's table
