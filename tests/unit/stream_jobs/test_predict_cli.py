"""`cta-jobs predict` command-line behaviour that needs no running service."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from stream_jobs.cli import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_kafka_is_one_line_and_exit_1() -> None:
    servers = f"127.0.0.1:{_free_port()}"
    result = CliRunner().invoke(main, ["predict", "--bootstrap-servers", servers, "--broker-wait", "1"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert servers in lines[0] and "Kafka" in lines[0]


def test_bad_flags_exit_2() -> None:
    assert CliRunner().invoke(main, ["predict", "--tick", "0"]).exit_code == 2
    assert CliRunner().invoke(main, ["predict", "--no-such-flag"]).exit_code == 2


def test_help_names_the_topics_and_the_group_variable() -> None:
    result = CliRunner().invoke(main, ["predict", "--help"])
    assert result.exit_code == 0
    assert "org.chicago.cta.predictions.v1" in result.output
