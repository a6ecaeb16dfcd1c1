"""`cta-tui up` on a stack of its own (own directory, own ports: the shared stack is
never touched): everything comes up, and a second run starts nothing twice."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cta_stack.scratch import ScratchStack

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


@pytest.fixture
def own_stack() -> Iterator[dict[str, str]]:
    """A scratch stack's environment, nothing started: ``cta-tui up`` starts it."""
    with ScratchStack.running(start=False) as stack:
        yield {**stack.env, "CTA_SIM_SPEED": "10"}


def _up(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "cta-tui"), "up", "--no-dashboard"], env=env, capture_output=True, text=True, timeout=300
    )


def _pids(stack_dir: Path) -> dict[str, int]:
    out = {}
    for f in sorted((stack_dir / "run").glob("*.json")):
        out[f.stem] = json.loads(f.read_text())["pid"]
    return out


def test_up_brings_everything_up_and_run_again_starts_nothing(own_stack: dict[str, str]) -> None:
    stack_dir = Path(own_stack["CTA_STACK_DIR"])
    first = _up(own_stack)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "stack: started postgres, kafka, schema-registry, connect, rest-proxy" in first.stderr
    assert "jobs: started stations, connector, faust, predict, weather, sim" in first.stderr
    assert "make down" in first.stderr
    pids = _pids(stack_dir)
    assert {"kafka", "connect", "postgres", "app-faust", "app-predict", "app-weather", "app-sim"} <= set(pids)

    second = _up(own_stack)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "stack: started nothing" in second.stderr
    assert (
        "jobs: started nothing; already done or running: stations, connector, faust, predict, weather, sim"
        in second.stderr
    )
    assert _pids(stack_dir) == pids
    assert (stack_dir / "logs" / "stations.log").read_text().count("exited with code 0") == 1
