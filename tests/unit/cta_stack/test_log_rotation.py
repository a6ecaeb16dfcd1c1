"""Every log is bounded: real files rotated at the size limit, by the copier the
supervisor pipes each child through and by the dashboard's handler; and
``cta-stack logs -f`` prints the lines appended to a log, across a rotation."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cta_core.log_limits import LogLimits
from cta_stack.log_writer import copy_lines
from cta_stack.supervisor import running, spawn, stop

LIMITS = LogLimits(max_bytes=1000, backups=2)
CTA_STACK = str(Path(sys.executable).parent / "cta-stack")


def _logs(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + "*"))


def test_the_copier_rotates_at_the_size_limit_and_keeps_the_backups(tmp_path: Path) -> None:
    log = tmp_path / "svc.log"
    lines = [f"line {i:04d} {'x' * 40}\n".encode() for i in range(200)]  # ~10 KB
    assert copy_lines(lines, log, LIMITS) == 200
    assert [p.name for p in _logs(log)] == ["svc.log", "svc.log.1", "svc.log.2"]
    assert all(p.stat().st_size <= LIMITS.max_bytes for p in _logs(log))
    assert log.read_text().splitlines()[-1].startswith("line 0199")  # the newest lines stay
    assert (tmp_path / "svc.log.1").read_text().splitlines()[-1] < log.read_text().splitlines()[0]


def test_a_supervised_childs_output_is_rotated(tmp_path: Path) -> None:
    pidfile, log = tmp_path / "chatty.json", tmp_path / "chatty.log"
    chatty = [sys.executable, "-c", "for i in range(400): print('chatty', i, 'y' * 40, flush=True)"]
    env = {**os.environ, **LIMITS.to_env()}
    spawn("chatty", chatty, pidfile=pidfile, log_file=log, env=env)
    deadline = time.monotonic() + 20
    while not (log.exists() and "chatty 399" in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "chatty 399" in log.read_text()
    assert len(_logs(log)) == 1 + LIMITS.backups
    assert all(p.stat().st_size <= LIMITS.max_bytes for p in _logs(log))
    stop(pidfile, timeout=5)
    assert running(pidfile) is None


def test_the_dashboards_log_is_rotated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cta_tui.logs import log_to_file

    monkeypatch.setenv("CTA_LOG_MAX_BYTES", "2000")
    monkeypatch.setenv("CTA_LOG_BACKUPS", "1")
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        path = log_to_file(tmp_path / "cta-tui.log", verbose=1)
        assert path is not None
        for i in range(200):
            logging.getLogger("cta_tui.test").info("message %d %s", i, "z" * 30)
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            handler.close()
            root.removeHandler(handler)
    assert [p.name for p in _logs(tmp_path / "cta-tui.log")] == ["cta-tui.log", "cta-tui.log.1"]
    assert (tmp_path / "cta-tui.log").stat().st_size <= 2000


@pytest.fixture
def follower(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """``cta-stack logs kafka -f`` on a stack directory holding only a log."""
    log = tmp_path / "stack" / "logs" / "kafka.log"
    log.parent.mkdir(parents=True)
    log.write_text("old line\n")
    env = {**os.environ, "CTA_STACK_DIR": str(tmp_path / "stack")}
    proc = subprocess.Popen(
        [CTA_STACK, "logs", "kafka", "-f", "-n", "1"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        yield proc, log
    finally:
        proc.terminate()
        proc.wait(10)


def _read_until(proc: subprocess.Popen[str], wanted: str, timeout: float = 20) -> list[str]:
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
        if seen[-1] == wanted:
            return seen
    raise AssertionError(f"{wanted!r} not printed; got {seen}")


def test_logs_follow_prints_appended_lines_across_a_rotation(
    follower: tuple[subprocess.Popen[str], Path],
) -> None:
    proc, log = follower
    assert _read_until(proc, "old line") == ["old line"]
    time.sleep(0.5)  # the follower has opened the file at its end
    with log.open("a") as fh:
        fh.write("appended 1\nappended 2\n")
    assert _read_until(proc, "appended 2") == ["appended 1", "appended 2"]
    with log.open("a") as fh:
        fh.write("last before rotation\n")
    log.rename(log.with_name("kafka.log.1"))
    log.write_text("first after rotation\n")
    assert _read_until(proc, "first after rotation") == ["last before rotation", "first after rotation"]


def test_a_jobs_runner_rotates_the_jobs_output_itself(tmp_path: Path) -> None:
    """Jobs run under cta_stack.job_runner, which copies their output to their log,
    rotated, and records the exit code (no copier process of their own)."""
    log, exit_file = tmp_path / "sim.log", tmp_path / "sim.exit"
    chatty = [sys.executable, "-c", "for i in range(400): print('job line', i, 'y' * 40, flush=True)"]
    env = {**os.environ, **LIMITS.to_env()}
    argv = [sys.executable, "-m", "cta_stack.job_runner", "--exit-file", str(exit_file)]
    proc = subprocess.run(
        [*argv, "--log-file", str(log), "--", *chatty], env=env, capture_output=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout == b""
    assert log.read_text().splitlines()[-1].endswith("exited with code 0")
    assert "job line 399" in log.read_text()
    assert len(_logs(log)) == 1 + LIMITS.backups
    assert all(p.stat().st_size <= LIMITS.max_bytes for p in _logs(log))
    assert '"code": 0' in exit_file.read_text()
