"""`cta-tui up` on a stack of its own (own directory, own ports: the shared stack is
never touched): everything comes up, and a second run starts nothing twice."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@pytest.fixture
def own_stack() -> Iterator[dict[str, str]]:
    # not pytest's tmp_path: run as root, PostgreSQL's server runs as another user and
    # must be able to reach its data directory (pytest's directories are 0700)
    root = Path(tempfile.mkdtemp(prefix="cta-tui-up-test-"))
    root.chmod(0o755)
    kafka, controller, registry, proxy, connect, ksql, postgres = _free_ports(7)
    env = {
        **os.environ,
        "CTA_STACK_DIR": str(root / "stack"),
        "CTA_KAFKA_PORT": str(kafka),
        "CTA_KAFKA_CONTROLLER_PORT": str(controller),
        "CTA_SCHEMA_REGISTRY_PORT": str(registry),
        "CTA_REST_PROXY_PORT": str(proxy),
        "CTA_CONNECT_PORT": str(connect),
        "CTA_KSQL_PORT": str(ksql),
        "CTA_POSTGRES_PORT": str(postgres),
        "CTA_SIM_SPEED": "10",
    }
    for name in ("CTA_BOOTSTRAP_SERVERS", "CTA_SCHEMA_REGISTRY_URL", "CTA_REST_PROXY_URL", "CTA_CONNECT_URL"):
        env.pop(name, None)
    env.pop("CTA_POSTGRES_DSN", None)
    try:
        yield env
    finally:
        subprocess.run([str(BIN / "cta-stack"), "down", "--purge"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


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
