"""Background apps beside the stack (make demo's Faust worker and simulator)."""

from __future__ import annotations

import sys
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

from cta_stack import apps
from cta_stack.cli import cli
from cta_stack.paths import StackLayout

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def test_start_is_idempotent_and_stop_leaves_nothing(tmp_path: Path) -> None:
    layout = StackLayout.at(tmp_path)
    first, started = apps.start(layout, "worker", SLEEPER)
    assert started
    again, started_again = apps.start(layout, "worker", SLEEPER)
    assert not started_again and again.pid == first.pid
    assert apps.names(layout) == ["worker"]
    [status] = apps.statuses(layout)
    assert status.pid == first.pid and status.rss_bytes
    assert apps.stop_all(layout) == ["worker"]
    assert not psutil.pid_exists(first.pid) or psutil.Process(first.pid).status() == psutil.STATUS_ZOMBIE
    assert apps.names(layout) == []


@pytest.mark.parametrize("bad", ["Bad", "../x", "", "a b"])
def test_bad_names_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        apps.pidfile(StackLayout.at(tmp_path), bad)


def test_cli_start_app_bad_name_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["start-app", "Bad Name", "--", "true"], env={"CTA_STACK_DIR": str(tmp_path)}
    )
    assert result.exit_code == 2
    assert "app name" in result.output
