"""The engine process gives the runner exactly what the engine gives in-process, and it
never outlives the simulator or hides a failure."""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from sim_helpers import chicago

from cta_core import topics
from producers_sim.clock import SimClock
from producers_sim.engine import EngineOptions, Minute
from producers_sim.engine_pipe import EngineFailed, EngineSpec, InlinePipe, ProcessPipe
from producers_sim.prepare import JsonPreparer, KafkaPreparer
from producers_sim.publishers.stdout_publisher import StdoutPublisher
from producers_sim.records import SinkRecord
from producers_sim.runner import Runner

SPEC = EngineSpec(("red", "brown", "green"), chicago(2026, 12, 1, 7, 0), 21, EngineOptions())
IDS = {topics.ARRIVALS: (1, 2), topics.TURNSTILES: (3, 4)}


def _first(batches: Iterator[list[SinkRecord]], n: int) -> list[SinkRecord]:
    return list(itertools.islice(itertools.chain.from_iterable(batches), n))


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def test_process_feed_gives_the_inline_records_for_the_same_spec() -> None:
    inline = InlinePipe(SPEC.build(), KafkaPreparer(IDS))
    expected = _first(inline.batches(), 30_000)
    pipe = ProcessPipe(SPEC, KafkaPreparer(IDS))
    try:
        got = _first(pipe.batches(), 30_000)
        assert pipe.trains_in_service > 0
    finally:
        pipe.close()
    assert got == expected
    assert {r[1] for r in got} == {topics.ARRIVALS, topics.TURNSTILES, topics.WEATHER}
    assert [r[0] for r in got] == sorted(r[0] for r in got)


def test_closing_the_feed_ends_the_engine_process() -> None:
    before = _children()
    pipe = ProcessPipe(SPEC, JsonPreparer())
    next(pipe.batches())  # running, and (with the pipe full) blocked on a send
    pid = pipe.pid
    assert pid in _children() - before
    pipe.close()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


class _Failing:
    """A preparer that breaks on the second batch."""

    def __init__(self) -> None:
        self.calls = 0

    def prepare(self, minute: Minute) -> list[SinkRecord]:
        self.calls += 1
        if self.calls == 2:
            raise ValueError("no encoding for this")
        return JsonPreparer().prepare(minute)


def test_a_failure_in_the_engine_process_reaches_the_runner_with_its_traceback() -> None:
    pipe = ProcessPipe(SPEC, _Failing())
    try:
        batches = pipe.batches()
        assert next(batches)
        with pytest.raises(EngineFailed, match="ValueError: no encoding for this"):
            next(batches)
    finally:
        pipe.close()


def test_an_engine_process_that_dies_is_an_error_unless_the_run_is_stopping() -> None:
    pipe = ProcessPipe(SPEC, JsonPreparer())
    try:
        batches = pipe.batches()
        next(batches)
        psutil.Process(pipe.pid).kill()
        with pytest.raises(EngineFailed, match="ended unexpectedly"):
            for _ in batches:  # what the pipe still held, then the end
                pass
    finally:
        pipe.close()


def test_a_stopping_runner_takes_the_end_of_the_feed_as_the_end_of_the_run() -> None:
    """Ctrl+C or SIGTERM to the process group reaches the engine process too."""
    pipe = ProcessPipe(SPEC, JsonPreparer())
    out = io.StringIO()
    runner = Runner(pipe, SimClock(SPEC.start, None), StdoutPublisher(out))
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(runner.run()))
    try:
        thread.start()
        while runner.count < 50_000:
            thread.join(0.01)
            assert thread.is_alive(), result
        runner.request_stop()
        psutil.Process(pipe.pid).kill()
        thread.join(30)
    finally:
        pipe.close()
    (summary,) = result
    assert summary.reason == "signal"  # type: ignore[attr-defined]
    assert summary.events == runner.count == out.getvalue().count("\n")  # type: ignore[attr-defined]


def test_the_engine_process_does_not_outlive_a_killed_simulator() -> None:
    """SIGKILL gives the simulator no chance to close the pipe: the engine process finds
    the pipe closed on its next send and exits by itself."""
    code = (
        "import sys, time\n"
        "from producers_sim.engine_pipe import ProcessPipe\n"
        "from producers_sim.prepare import JsonPreparer\n"
        "from test_engine_pipe import SPEC\n"
        "pipe = ProcessPipe(SPEC, JsonPreparer())\n"
        "next(pipe.batches())\n"
        "print(pipe.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    here = str(Path(__file__).parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([here, *sys.path])}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        engine = psutil.Process(int(proc.stdout.readline()))
        assert engine.is_running()
        proc.kill()
        proc.wait(10)
        _, alive = psutil.wait_procs([engine], timeout=15)
        assert not alive, "the engine process outlived the simulator"
    finally:
        proc.kill()
