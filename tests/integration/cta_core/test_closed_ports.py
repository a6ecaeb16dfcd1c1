"""Nothing stray on a terminal: every command that talks to a service, pointed at closed
ports, prints at most two lines on stderr (one: ``cta-X: error: <what>; <what to do>``)
and exits 1. The commands run as a user runs them (console scripts, in parallel).

The first test needs no stack (every port closed); the second points Kafka at the
shared stack and the Schema Registry at a closed port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cta_core.settings import Settings
from tests.support.ports import closed_port

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


@pytest.fixture
def closed_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTA_")}
    env.update(
        {
            "CTA_BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port()}",
            "CTA_SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{closed_port()}",
            "CTA_REST_PROXY_URL": f"http://127.0.0.1:{closed_port()}",
            "CTA_CONNECT_URL": f"http://127.0.0.1:{closed_port()}",
            "CTA_KSQL_URL": f"http://127.0.0.1:{closed_port()}",
            "CTA_POSTGRES_DSN": f"postgresql://cta:secret@127.0.0.1:{closed_port()}/cta",
            "CTA_BROKER_WAIT": "1",
            "CTA_STACK_DIR": str(tmp_path / "stack"),
            "CTA_LOG_FILE": str(tmp_path / "cta-tui.log"),
            "COLUMNS": "200",
        }
    )
    yield env


def _run_all(
    commands: list[list[str]], env: dict[str, str]
) -> list[tuple[list[str], subprocess.CompletedProcess[str]]]:
    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / argv[0]), *argv[1:]],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(zip(commands, pool.map(run, commands), strict=True))


def _check(results: list[tuple[list[str], subprocess.CompletedProcess[str]]]) -> None:
    bad = []
    for argv, proc in results:
        lines = proc.stderr.splitlines()
        prog = argv[0]
        if proc.returncode != 1 or not 1 <= len(lines) <= 2 or not lines[0].startswith(f"{prog}: error: "):
            bad.append(f"{' '.join(argv)}: exit {proc.returncode}, stderr:\n{proc.stderr}")
        elif "secret" in proc.stderr:
            bad.append(f"{' '.join(argv)} printed the DSN's password")
    assert not bad, "\n\n".join(bad)


ALL_CLOSED = [
    ["cta-sim", "-c", "1"],
    ["cta-weather", "-c", "1"],
    ["cta-jobs", "load-stations"],
    ["cta-jobs", "connector"],
    ["cta-jobs", "faust"],
    ["cta-jobs", "predict"],
    ["cta-jobs", "ksql"],
    ["cta-jobs", "setup"],
    ["cta-tui", "--once"],
    ["cta-tui", "tail", "org.chicago.cta.weather.v1", "-e"],
    ["cta-tui", "tail", "-L"],
]


def test_every_command_against_closed_ports_prints_one_line_and_exits_1(closed_env: dict[str, str]) -> None:
    _check(_run_all(ALL_CLOSED, closed_env))


REGISTRY_CLOSED = [
    ["cta-sim", "-c", "1", "--no-weather", "--no-control"],
    ["cta-jobs", "predict"],
    ["cta-jobs", "faust", "--no-stations"],
    ["cta-tui", "--once"],
]


def test_kafka_up_and_registry_closed_prints_one_line_and_exits_1(
    stack: Settings, closed_env: dict[str, str]
) -> None:
    env = {**closed_env, "CTA_BOOTSTRAP_SERVERS": stack.bootstrap_servers}
    _check(_run_all(REGISTRY_CLOSED, env))
