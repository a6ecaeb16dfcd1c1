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
from jobs_helpers import FaustWorker, read_latest, unique

from cta_core.settings import Settings
from stream_jobs.cli import main
from stream_jobs.stations_rows import packaged

pytestmark = pytest.mark.integration


def _cli(settings: Settings, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main,
        [*args, "--connect-url", settings.connect_url, "--postgres-dsn", settings.postgres_dsn],
        catch_exceptions=False,
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
        "--app-id",
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
