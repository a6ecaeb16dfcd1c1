"""cta-jobs command-line behaviour that needs no running service."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from stream_jobs.cli import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_connect_is_one_line_and_exit_1() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    result = CliRunner().invoke(main, ["connector", "--connect-url", url])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert url in lines[0] and "Kafka Connect" in lines[0] and "cta-stack up" in lines[0]


def test_unreachable_postgres_is_one_line_and_exit_1() -> None:
    port = _free_port()
    dsn = f"postgresql://cta_admin:secret@127.0.0.1:{port}/cta"
    result = CliRunner().invoke(main, ["load-stations", "--postgres-dsn", dsn])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "PostgreSQL" in lines[0] and "secret" not in lines[0]


def test_unreachable_kafka_for_the_worker_is_one_line_and_exit_1() -> None:
    port = _free_port()
    result = CliRunner().invoke(
        main, ["faust", "--bootstrap-servers", f"127.0.0.1:{port}", "--no-stations", "--broker-wait", "1"]
    )
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0], result.stderr


def test_bad_flags_exit_2() -> None:
    assert CliRunner().invoke(main, ["connector", "--connector", "odbc"]).exit_code == 2
    assert CliRunner().invoke(main, ["faust", "--no-stations", "--no-turnstile-summary"]).exit_code == 2
    bad_interval = CliRunner().invoke(main, ["faust", "--commit-interval", "0"])
    assert bad_interval.exit_code == 2 and "--commit-interval" in bad_interval.output


def test_commit_interval_is_documented_with_its_variable() -> None:
    out = CliRunner().invoke(main, ["faust", "--help"]).output
    assert "--commit-interval" in out and "CTA_COMMIT_INTERVAL" in out and "default: 1.0" in out
