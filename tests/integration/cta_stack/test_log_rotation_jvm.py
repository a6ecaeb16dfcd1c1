"""The JVMs' logs are bounded: a scratch broker started with a small CTA_LOG_MAX_BYTES
rolls ``kafka.log`` over to ``kafka.log.1`` ... through log4j2's RollingFile, keeps at
most CTA_LOG_BACKUPS old files; what the JVM itself prints goes to ``kafka.out``."""

from __future__ import annotations

import time

import pytest

from cta_stack.scratch import ScratchStack

pytestmark = pytest.mark.integration

MAX_BYTES = 4096
BACKUPS = 2


def test_a_brokers_log_rolls_over_at_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTA_LOG_MAX_BYTES", str(MAX_BYTES))
    monkeypatch.setenv("CTA_LOG_BACKUPS", str(BACKUPS))
    with ScratchStack.running(only=("kafka",)) as stack:
        logs = stack.root / "logs"
        deadline = time.monotonic() + 30
        while not (logs / "kafka.log.1").exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        files = sorted(p.name for p in logs.glob("kafka.log*"))
        assert "kafka.log.1" in files, files
        assert len(files) <= 1 + BACKUPS, files
        # log4j2 rolls over once a file has passed the limit: by at most one event
        assert all((logs / name).stat().st_size < 2 * MAX_BYTES for name in files)
        text = "".join((logs / name).read_text(errors="replace") for name in files)
        assert "] INFO " in text  # log4j2's pattern: the broker's own lines
        assert (logs / "kafka.out").exists()  # the JVM's own output, beside it
