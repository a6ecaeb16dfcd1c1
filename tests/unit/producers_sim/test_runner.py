"""The runner paces events against the clock and obeys commands (no Kafka: a stdout sink)."""

from __future__ import annotations

import io
import json
import queue
import threading
import time

from sim_helpers import chicago

from cta_core.records.control import Command, Rejected
from producers_sim.clock import SimClock
from producers_sim.engine import Engine
from producers_sim.engine_pipe import InlinePipe
from producers_sim.network import Network
from producers_sim.prepare import JsonPreparer
from producers_sim.publishers.stdout_publisher import StdoutPublisher
from producers_sim.runner import Runner


class Statuses:
    def __init__(self) -> None:
        self.docs: list[dict] = []

    def publish_status(self, key: str, document: bytes) -> None:
        self.docs.append(json.loads(document))


def _poll(cond, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_pause_step_resume_and_stop(network: Network) -> None:
    start = chicago(2026, 12, 1, 8, 0)
    engine = Engine(network, start, seed=3)
    clock = SimClock(start, None, paused=True)
    out = io.StringIO()
    commands: queue.Queue[Command | Rejected] = queue.Queue()
    statuses = Statuses()
    pipe = InlinePipe(engine, JsonPreparer())
    runner = Runner(pipe, clock, StdoutPublisher(out), commands=commands, status=statuses, run_id="t1")
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        _poll(lambda: statuses.docs)
        time.sleep(0.2)
        assert out.getvalue().count("\n") <= 1  # paused: at most the event exactly at the start
        commands.put(Command("s1", "step", seconds=60))
        _poll(lambda: statuses.docs[-1]["last_command_id"] == "s1")
        _poll(lambda: runner.count > 100)
        time.sleep(0.2)
        lines = out.getvalue().splitlines()
        times = [json.loads(line)["value"]["sim_time"] for line in lines]
        assert max(times) <= (start + 60) * 1000
        assert statuses.docs[-1]["paused"] is True
        commands.put(Command("r1", "resume"))
        _poll(lambda: runner.count > len(lines) + 10_000)
        commands.put(Command("p2", "pause"))
        _poll(lambda: statuses.docs[-1]["last_command_id"] == "p2")
        paused_at = statuses.docs[-1]["sim_time_ms"]
        count = runner.count
        time.sleep(0.3)
        assert runner.count == count
        assert json.loads(out.getvalue().splitlines()[-1])["value"]["sim_time"] <= paused_at
        commands.put(Rejected(None, "not JSON"))
        _poll(lambda: statuses.docs[-1]["rejected_commands"] == 1)
    finally:
        runner.request_stop()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert statuses.docs[-1]["state"] == "stopped"
