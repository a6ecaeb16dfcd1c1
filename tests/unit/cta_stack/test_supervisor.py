"""Process supervision against real (tiny) processes: only what we started is ever signalled."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil

from cta_stack.supervisor import ProcessRecord, live_process, read_record, running, spawn, stop, write_record

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
STUBBORN = [
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(120)",
]


def test_spawn_records_and_stop_terminates(tmp_path: Path) -> None:
    pidfile, log = tmp_path / "svc.json", tmp_path / "svc.log"
    record = spawn("svc", SLEEPER, pidfile=pidfile, log_file=log)
    assert read_record(pidfile) == record
    assert running(pidfile) is not None
    assert stop(pidfile, timeout=10) is True
    assert not psutil.pid_exists(record.pid) or live_process(record) is None
    assert not pidfile.exists()


def test_stop_escalates_to_sigkill_after_the_timeout(tmp_path: Path) -> None:
    pidfile, log = tmp_path / "svc.json", tmp_path / "svc.log"
    record = spawn("svc", STUBBORN, pidfile=pidfile, log_file=log)
    deadline = time.monotonic() + 20
    while b"ready" not in log.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stop(pidfile, timeout=0.5) is True
    assert live_process(record) is None


def test_a_reused_pid_is_never_signalled(tmp_path: Path) -> None:
    """A pid file naming a live process that is not ours (other start time) stops nothing."""
    other = subprocess.Popen(SLEEPER)
    try:
        proc = psutil.Process(other.pid)
        forged = ProcessRecord("svc", other.pid, proc.create_time() - 3600, proc.cmdline())
        pidfile = tmp_path / "svc.json"
        write_record(pidfile, forged)
        assert running(pidfile) is None
        assert stop(pidfile, timeout=1) is False
        assert other.poll() is None  # still alive
        assert not pidfile.exists()
    finally:
        other.kill()
        other.wait()


def test_garbage_pidfile_is_ignored(tmp_path: Path) -> None:
    pidfile = tmp_path / "svc.json"
    pidfile.write_text("not json")
    assert read_record(pidfile) is None
    assert stop(pidfile) is False


def test_concurrent_ups_on_one_stack_directory_take_turns(tmp_path: Path) -> None:
    """Two `up`s on one stack directory: the second waits for the first's lock."""
    import threading

    from cta_core.settings import Settings
    from cta_stack.stack import NullReporter, Stack

    stack = Stack(Settings.from_env({"CTA_STACK_DIR": str(tmp_path / "s")}))
    stack.layout.create()
    order: list[str] = []

    def second() -> None:
        with stack._exclusive(NullReporter()):
            order.append("b")

    with stack._exclusive(NullReporter()):
        other = threading.Thread(target=second)
        other.start()
        other.join(0.5)
        assert other.is_alive()  # blocked on the lock
        order.append("a")
    other.join(10)
    assert order == ["a", "b"]
