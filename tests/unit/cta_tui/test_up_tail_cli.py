"""`cta-tui up` and `cta-tui tail`: bad flags exit 2 with a message (no services needed)."""

from __future__ import annotations

from click.testing import CliRunner

from cta_tui.cli import main


def test_up_rejects_an_unknown_service_and_job() -> None:
    result = CliRunner().invoke(main, ["up", "--only", "zookeeper", "--no-dashboard"])
    assert result.exit_code == 2 and "zookeeper: not one of" in result.output
    result = CliRunner().invoke(main, ["up", "--job", "nope", "--no-dashboard"])
    assert result.exit_code == 2 and "nope" in result.output


def test_tail_needs_a_topic_and_a_positive_max() -> None:
    assert CliRunner().invoke(main, ["tail"]).exit_code == 2
    result = CliRunner().invoke(main, ["tail", "t", "-c", "0"])
    assert result.exit_code == 2 and "--count" in result.output


def test_help_lists_the_new_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "up" in result.output and "tail" in result.output
