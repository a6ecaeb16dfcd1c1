"""Rewind on the real local stack: the state at a past moment equals what a live
`cta-tui --once --json` captured at that moment, field by field (trains and their
positions, turnstile counts, weather, the predictions job's boards, the simulator's
clock), across a restart of the Faust worker; and a moment before the run began names
the earliest one.

The test runs on its own copies of the topics (``--topic-suffix``), its own Faust app id
and its own simulator run id; the status topic is shared, the run id keeps it apart.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cta_core import topics
from cta_core.kafka_clients import make_admin
from cta_core.records.control import make_command
from cta_core.settings import Settings
from tests.support.jobs import FaustWorker, stop_process
from tests.support.predict_workers import owned, start_worker
from tests.support.stations_table import ensure_stations_table

pytestmark = pytest.mark.integration

REPLAY = "10"  # minutes: both reads cover the whole (short) run
#: the simulator's speed: at 60x the run's predictions (about 14 per arrival) stay under
#: the 20,000 a dashboard keeps undecoded, so the live capture holds every one of them and
#: the comparison is exact (past that cap which old sets a live view keeps depends on the
#: order its fetches arrive in)
SPEED = "60"


def _cli(stack: Settings, *args: str) -> Any:
    from cta_tui.cli import main

    env = {
        "CTA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "CTA_SCHEMA_REGISTRY_URL": stack.schema_registry_url,
    }
    return CliRunner().invoke(main, list(args), env=env)


def _once(stack: Settings, suffix: str, *extra: str) -> dict[str, Any]:
    result = _cli(stack, "--once", "--json", "--replay-minutes", REPLAY, "--topic-suffix", suffix, *extra)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _settled(stack: Settings, suffix: str, run_id: str, paused: bool | None) -> dict[str, Any]:
    """A live capture once the run's status says so (paused, or stopped when None) and
    two captures 3 s apart agree on the counts and the predictions (Faust commits every
    second or so; the predictions job may be a batch behind)."""
    deadline = time.monotonic() + 90
    last = None
    while True:
        data = _once(stack, suffix)
        sim = data["sim"] or {}
        ready = sim.get("run_id") == run_id and (sim["paused"] if paused else sim["state"] == "stopped")
        same = last is not None and (last["counts"], last["predictions"]) == (
            data["counts"],
            data["predictions"],
        )
        if ready and same and data["counts"]:
            return data
        last = data if ready else None
        if paused and not ready:
            _command(stack, run_id, "pause")  # the simulator may have been starting still
        assert time.monotonic() < deadline, f"the run did not settle: {data['sim']}"
        time.sleep(3)


def _view(data: dict[str, Any]) -> dict[str, Any]:
    """What must be equal: every line's trains and positions and the panel's train
    figures, counts, weather, predictions and the simulator's clock (not the topics'
    message counts: a rewind reads less)."""
    lines = {
        name: {
            "trains": line["trains"],
            "panel": {k: v for k, v in line["panel"].items() if k != "entries_last_hour"},
        }
        for name, line in data["lines"].items()
    }
    sim = {k: data["sim"][k] for k in ("run_id", "sim_time", "sim_time_ms", "paused", "speed")}
    return {
        "lines": lines,
        "counts": data["counts"],
        "weather": data["weather"],
        "predictions": data["predictions"],
        "sim": sim,
    }


def _fractions(data: dict[str, Any]) -> dict[str, float]:
    """Each train's interpolated fraction of the way to its next station, taken out of
    the data: it moves by run times learned as a moving average over the trains of
    several partitions, whose interleaving differs between any two readers (two live
    dashboards too): a quarter of an hour into a run that average rests on a few trains
    and two readers can put a train anywhere between its stations, so only that each
    reader has the same trains interpolated is checked; the stations a train is between
    are compared exactly."""
    out = {}
    for line in data["lines"].values():
        for train in line["trains"]:
            if train["interpolated"] is not None:
                out[train["train_id"]] = train["interpolated"].pop("fraction")
    return out


def _assert_same(live: dict[str, Any], rewound: dict[str, Any]) -> None:
    live, rewound = copy.deepcopy(live), copy.deepcopy(rewound)
    fa, fb = _fractions(live), _fractions(rewound)
    assert fa.keys() == fb.keys()
    a, b = _view(live), _view(rewound)
    for key in a:
        assert a[key] == b[key], (
            f"{key} differs: live {json.dumps(a[key])[:600]} / rewind {json.dumps(b[key])[:600]}"
        )
    assert sum(len(line["trains"]) for line in a["lines"].values()) > 0


def _played_to(stack: Settings, suffix: str, run_id: str, sim_ms: int) -> dict[str, Any]:
    """The moment reached by playing forward: rewound 20 simulated minutes earlier, then
    the records in between folded in (what the play key does)."""
    from cta_tui.feeds.topic_names import TopicNames
    from cta_tui.rewind.engine import Rewinder, apply_advance
    from cta_tui.state.snapshot import snapshot_json

    rewinder = Rewinder(stack, TopicNames().with_suffix(suffix), replay_minutes=float(REPLAY))
    try:
        run = rewinder.run(run_id)
        rewound = rewinder.state_at(run, max(run.first.sim_ms, sim_ms - 20 * 60_000))
        apply_advance(rewound, rewinder.advance(rewound, sim_ms))
        rewound.state.predictions.settle()
    finally:
        rewinder.reader.close()
    data: dict[str, Any] = json.loads(snapshot_json(rewound.state, rewound.plan.at_ms / 1000.0))
    return data


def _command(stack: Settings, run_id: str, command: str) -> None:
    from cta_tui.control import KafkaControlPublisher

    publisher = KafkaControlPublisher(stack)
    try:
        publisher.send(make_command(command, sender="test-rewind", run_id=run_id))
    finally:
        publisher.close()


def _simulator(stack: Settings, suffix: str, run_id: str, report: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "CTA_BOOTSTRAP_SERVERS": stack.bootstrap_servers}
    return subprocess.Popen(
        [sys.executable, "-m", "producers_sim", "--speed", SPEED, "--seed", "3", "--topic-suffix", suffix,
         "--run-id", run_id, "--report", str(report)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _predicting(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the predictions job owns its partitions (its group joined), so that it
    predicts from the run's first arrival."""
    deadline = time.monotonic() + 90
    while owned(log) is None:
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
        time.sleep(0.2)


def _running_for(proc: subprocess.Popen[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # the simulator runs for a fixed wall time, by design
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.5)


def test_rewind_equals_live_capture_across_a_faust_restart(stack: Settings, tmp_path: Path) -> None:
    suffix = f".rw{uuid.uuid4().hex[:8]}"
    run_id = f"rewind-test-{suffix[3:]}"
    table, turnstiles, summary = (
        t + suffix for t in (topics.STATIONS_TABLE, topics.TURNSTILES, topics.TURNSTILE_SUMMARY)
    )
    ensure_stations_table(stack, table)
    faust_args = ["--group-id", f"cta-rw-{suffix[3:]}", "--data-dir", str(tmp_path / "faust"),
                  "--stations-table-topic", table, "--turnstiles-topic", turnstiles, "--summary-topic", summary]  # fmt: skip
    faust = FaustWorker(stack, tmp_path, *faust_args).start()
    predict = start_worker(stack, suffix, f"cta-rw-predict-{suffix[3:]}", tmp_path / "predict.log")
    _predicting(predict, tmp_path / "predict.log")
    sim = _simulator(stack, suffix, run_id, tmp_path / "report.json")
    try:
        _running_for(sim, 15)  # 15 simulated minutes: run times learned from enough trains
        _command(stack, run_id, "pause")
        paused = _settled(stack, suffix, run_id, paused=True)
        faust.stop(sig=signal.SIGINT)  # the summary's writer restarts while the run goes on
        faust = FaustWorker(stack, tmp_path, *faust_args).start()
        _command(stack, run_id, "resume")
        _running_for(sim, 8)
        stop_process(sim)
        final = _settled(stack, suffix, run_id, paused=None)
    finally:
        stop_process(sim)
        stop_process(predict)
        faust.stop()
    assert paused["predictions"] and final["predictions"], "the predictions job published nothing"
    try:
        for live in (paused, final):
            rewound = _once(stack, suffix, "--at", live["sim"]["sim_time"], "--run", run_id)
            _assert_same(live, rewound)
        _assert_same(paused, _played_to(stack, suffix, run_id, paused["sim"]["sim_time_ms"]))
        before = _cli(stack, "--once", "--json", "--topic-suffix", suffix, "--at", "03:00", "--run", run_id)
        assert before.exit_code == 1, before.output
        assert (
            "the earliest it can show is" in before.output and "before the earliest moment" in before.output
        )
    finally:
        make_admin(stack).delete_topics(
            [t + suffix for t in (topics.ARRIVALS, topics.TURNSTILES, topics.WEATHER, topics.STATIONS_TABLE,
                                  topics.TURNSTILE_SUMMARY, topics.PREDICTIONS, topics.PREDICTIONS_STATE)]
            + [f"cta-rw-{suffix[3:]}-turnstile-counts-changelog", f"cta-rw-{suffix[3:]}-__assignor-__leader"]
        )  # fmt: skip
