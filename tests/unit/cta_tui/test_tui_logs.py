"""The dashboard's logs go to its file, never to the terminal."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from cta_tui.logs import default_log_file, kafka_logger, level_for, log_to_file


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def test_records_go_to_the_file_not_stderr(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], restore_root: None
) -> None:
    root = logging.getLogger()
    root.addHandler(logging.StreamHandler())  # as a library's basicConfig would
    path = log_to_file(tmp_path / "state" / "cta-tui.log", verbose=0)
    assert path == tmp_path / "state" / "cta-tui.log"
    kafka_logger().error("FAIL [thrd:127.0.0.1:9092/bootstrap]: Connect to ipv4#127.0.0.1:9092 failed")
    kafka_logger().info("not at the default level")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "cta.librdkafka: FAIL" in text
    assert "not at the default level" not in text
    assert capfd.readouterr().err == ""


def test_an_unwritable_log_file_drops_logs_instead_of_printing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], restore_root: None
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert log_to_file(blocker / "cta-tui.log") is None
    kafka_logger().error("dropped")
    assert capfd.readouterr().err == ""


def test_default_file_and_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", "/s")
    assert default_log_file() == Path("/s/cta-live/cta-tui.log")
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", "/h")
    assert default_log_file() == Path("/h/.local/state/cta-live/cta-tui.log")
    assert [level_for(v) for v in (0, 1, 2)] == [logging.WARNING, logging.INFO, logging.DEBUG]
