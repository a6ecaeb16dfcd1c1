"""The pipeline screen's service checks against the real local stack, PostgreSQL included."""

from __future__ import annotations

import socket

import pytest

from cta_core.settings import Settings
from cta_tui.feeds.health import HttpHealthProbe

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_postgres_row_is_ok_on_the_stack_and_down_without_a_server(stack: Settings) -> None:
    rows = {h.name: h for h in HttpHealthProbe(stack).check()}
    pg = rows["PostgreSQL"]
    assert pg.ok and "chicago" not in pg.url, pg  # the password is never shown

    nowhere = stack.with_overrides(
        postgres_dsn=f"postgresql://cta_admin:chicago@127.0.0.1:{_free_port()}/cta"
    )
    down = {h.name: h for h in HttpHealthProbe(nowhere).check()}["PostgreSQL"]
    assert not down.ok and down.detail.startswith("down:"), down


def test_postgres_check_keeps_one_connection_and_replaces_a_broken_one(stack: Settings) -> None:
    import psycopg

    probe = HttpHealthProbe(stack)
    try:
        assert {h.name: h for h in probe.check()}["PostgreSQL"].ok
        pid = probe._pg.info.backend_pid
        assert {h.name: h for h in probe.check()}["PostgreSQL"].ok
        assert probe._pg.info.backend_pid == pid  # the same connection, not one a check
        with psycopg.connect(stack.postgres_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))  # as a server restart would
        again = {h.name: h for h in probe.check()}["PostgreSQL"]
        assert again.ok, again
        assert probe._pg.info.backend_pid != pid
    finally:
        probe.close()
    assert probe._pg is None
