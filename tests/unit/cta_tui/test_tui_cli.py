"""`cta-tui` with click's CliRunner, and the headless modules' import hygiene."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from cta_tui.cli import main


def test_help_lists_flags_with_env_vars() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for flag in ("--read-only", "--once", "--json", "--replay-minutes", "--theme", "CTA_BOOTSTRAP_SERVERS"):
        assert flag in result.output


def test_json_without_once_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["--json"])
    assert result.exit_code == 2
    assert "--json needs --once" in result.output


def test_bad_theme_exits_2() -> None:
    result = CliRunner().invoke(main, ["--theme", "neon"])
    assert result.exit_code == 2


def test_once_with_kafka_unreachable_prints_one_line_and_exits_1() -> None:
    result = CliRunner().invoke(
        main, ["--once", "--json", "--once-timeout", "5", "--bootstrap-servers", "127.0.0.1:1"]
    )
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "Kafka at 127.0.0.1:1 is not reachable" in lines[0] and "cta-stack up" in lines[0]


def test_state_feeds_and_once_never_load_textual() -> None:
    """The pure state model, every screen family's view code and the Kafka feed (used by
    --once) import no Textual."""
    code = (
        "import sys, cta_tui.state, cta_tui.state.snapshot, cta_tui.feeds.kafka_source, "
        "cta_tui.feeds.memory_source, cta_tui.control, cta_tui.once, cta_tui.common.status_text, "
        "cta_tui.network.layout, cta_tui.line.view, cta_tui.station.view, cta_tui.map.geo, "
        "cta_tui.pipeline.view, cta_tui.tail.view; "
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_low_colour_theme_and_default() -> None:
    from cta_core.settings import Settings
    from cta_tui.app import make_app
    from cta_tui.control import MemoryControlPublisher
    from cta_tui.feeds.memory_source import MemorySource

    low = make_app(Settings.from_env({}), MemorySource(), control=MemoryControlPublisher(), theme="low")
    default = make_app(Settings.from_env({}), MemorySource(), control=MemoryControlPublisher())
    assert low.theme == "ansi-dark" and low.current_theme.ansi
    assert default.theme == "textual-dark"


def test_every_topic_read_can_be_named_by_flag_and_env_var() -> None:
    out = CliRunner().invoke(main, ["--help"]).output
    for flag, env in [
        ("--arrivals-pattern", "CTA_ARRIVALS_PATTERN"),
        ("--stations-table-topic", "CTA_STATIONS_TABLE_TOPIC"),
        ("--summary-topic", "CTA_SUMMARY_TOPIC"),
        ("--weather-topic", "CTA_WEATHER_TOPIC"),
        ("--status-topic", "CTA_STATUS_TOPIC"),
        ("--predictions-topic", "CTA_PREDICTIONS_TOPIC"),
    ]:
        assert flag in out and env in out
    bad = CliRunner().invoke(main, ["--arrivals-pattern", "(", "--once"])
    assert bad.exit_code == 2 and "not a regular expression" in bad.output


def test_topic_names_map_other_deployments_names_onto_the_contract() -> None:
    from cta_core import topics
    from cta_tui.feeds.topic_names import ARRIVALS_PATTERN, TopicNames

    default = TopicNames().source_kwargs()
    assert default["aliases"] == {} and default["patterns"] == {ARRIVALS_PATTERN: topics.ARRIVALS}
    assert set(default["topics_to_read"]) == {
        topics.STATIONS_TABLE,
        topics.TURNSTILE_SUMMARY,
        topics.WEATHER,
        topics.SIM_STATUS,
        topics.PREDICTIONS,
    }
    other = TopicNames(arrivals_pattern="", summary="turnstile_summary", weather="weather").source_kwargs()
    assert other["aliases"] == {"turnstile_summary": topics.TURNSTILE_SUMMARY, "weather": topics.WEATHER}
    assert other["patterns"] == {} and topics.ARRIVALS in other["topics_to_read"]
    assert topics.WEATHER not in other["topics_to_read"]
    suffixed = TopicNames().with_suffix(".t1").source_kwargs()
    assert suffixed["patterns"] == {}
    assert suffixed["aliases"][topics.ARRIVALS + ".t1"] == topics.ARRIVALS
    assert suffixed["aliases"][topics.PREDICTIONS + ".t1"] == topics.PREDICTIONS
    assert topics.SIM_STATUS in suffixed["topics_to_read"]
