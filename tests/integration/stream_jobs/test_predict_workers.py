"""Two `cta-jobs predict` workers in one consumer group on the local stack: both publish,
and when one is killed (SIGKILL) the other publishes for its trains, every line, within
30 s. Own topic suffix and group, deleted after."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from cta_core.settings import Settings
from tests.integration.stream_jobs.test_predict_job import _delete_topics
from tests.support.jobs import unique
from tests.support.predict_workers import Watch, owned, start_sim, start_worker, wait_until

pytestmark = pytest.mark.integration

TAKE_OVER_S = 30.0


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_two_workers_share_the_trains_and_one_covers_for_the_other_when_killed(
    stack: Settings, tmp_path: Path
) -> None:
    suffix = "-" + unique("w")
    group = unique("test.predict.workers")
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [start_worker(stack, suffix, group, log) for log in logs]
    procs = list(workers)
    watch = Watch(stack, suffix)
    try:
        # both workers subscribed (they create the topics) before the simulator starts
        wait_until("two workers in the group", lambda: all(owned(log) is not None for log in logs), watch, 60)
        procs.append(start_sim(stack, suffix, 300, "5h", tmp_path / "sim.log"))

        def split() -> bool:
            parts = [owned(log) for log in logs]
            return all(parts) and not (parts[0] or set()) & (parts[1] or set())

        wait_until("the partitions split between the workers", split, watch, 30)
        a_parts, b_parts = owned(logs[0]) or set(), owned(logs[1]) or set()
        wait_until(
            "both workers publishing",
            lambda: all(
                watch.running_lines(parts) and watch.lines_of(parts) >= watch.running_lines(parts)
                for parts in (a_parts, b_parts)
            ),
            watch,
            90,  # the simulator has put trains of every line in both workers' partitions (slower under load)
        )
        # the lines the killed worker's partitions have trains of (a partition may hold no
        # Yellow train: waiting for every line there failed a fresh-clone run)
        b_lines = watch.running_lines(b_parts)
        workers[1].send_signal(signal.SIGKILL)
        workers[1].wait(timeout=10)
        killed_ms = int(time.time() * 1000)
        wait_until(
            "the survivor publishing for the killed worker's trains on each of their lines",
            lambda: watch.lines_of(b_parts, since_ms=killed_ms) >= b_lines,
            watch,
            TAKE_OVER_S + 10,
        )
        took = ((watch.first_covering(b_parts, killed_ms, b_lines) or 0) - killed_ms) / 1000
        log_a = logs[0].read_text(errors="replace")
        assert took <= TAKE_OVER_S, f"took {took:.1f} s\n{log_a[-2000:]}"
        assert "took over partitions" in log_a
        assert owned(logs[0]) == a_parts | b_parts
        assert procs[-1].poll() is None, "the simulator ran out before the take-over"
    finally:
        watch.close()
        _stop(procs)
        _delete_topics(stack, suffix)
