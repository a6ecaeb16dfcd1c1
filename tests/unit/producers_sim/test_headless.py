"""The simulator's core never loads Textual or Kafka; only its publishers load Kafka."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "producers_sim.network", "producers_sim.clock", "producers_sim.schedule", "producers_sim.movement",
    "producers_sim.ridership", "producers_sim.weather", "producers_sim.events", "producers_sim.engine",
    "producers_sim.control", "producers_sim.runner", "producers_sim.terminal", "producers_sim.cli",
    "producers_sim.encoding", "producers_sim.publishers.stdout_publisher", "producers_sim.records",
    "producers_sim.prepare", "producers_sim.engine_pipe", "producers_sim.engine_process",
]  # fmt: skip


def _loaded(modules: list[str]) -> set[str]:
    code = (
        f"import sys\nfor m in {modules!r}: __import__(m)\n"
        "print(' '.join(sorted({n.split('.')[0] for n in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_core_modules_load_neither_textual_nor_kafka() -> None:
    loaded = _loaded(CORE)
    assert "producers_sim" in loaded
    assert "textual" not in loaded
    assert "confluent_kafka" not in loaded
    assert "httpx" not in loaded


def test_publishers_load_kafka_but_not_textual() -> None:
    loaded = _loaded(
        ["producers_sim.publishers.kafka_publisher", "producers_sim.publishers.weather_publisher"]
    )
    assert "confluent_kafka" in loaded and "httpx" in loaded
    assert "textual" not in loaded
