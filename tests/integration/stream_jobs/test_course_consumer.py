"""The course project's consumers read this pipeline (docs/architecture.md promises it).

The simulator, the weather job and the Faust worker run as the separate jobs they are,
on uniquely suffixed topics; a consumer written as the course's were (a regex
subscription to the arrivals topics, Avro through the Schema Registry for arrivals and
weather, the stations table's ``station_id``/``station_name``/``order``/``line``, and
``STATION_ID``/``COUNT`` from the TURNSTILE_SUMMARY value) sees trains at stations in
both directions, a weather reading, and non-zero counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluent_kafka import Consumer
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from cta_core import topics
from cta_core.kafka_clients import make_registry_client
from cta_core.settings import Settings
from stream_jobs.cli import main as jobs_main
from tests.support.jobs import FaustWorker, unique

pytestmark = pytest.mark.integration


def _job(settings: Settings, log: Path, module: str, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CTA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "CTA_SCHEMA_REGISTRY_URL": settings.schema_registry_url,
        "CTA_REST_PROXY_URL": settings.rest_proxy_url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", module, *args], stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env
    )


@pytest.fixture
def running(stack: Settings, tmp_path: Path) -> Iterator[dict[str, Any]]:
    result = CliRunner().invoke(
        jobs_main,
        ["setup", "--connect-url", stack.connect_url, "--postgres-dsn", stack.postgres_dsn],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    suffix = f".course{uuid.uuid4().hex[:8]}"
    names = {
        "suffix": suffix,
        "table": unique("test.course.stations.table"),
        "summary": unique("test.course.summary"),
    }
    faust = FaustWorker(
        stack,
        tmp_path,
        "--group-id",
        unique("test-course"),
        "--turnstiles-topic",
        topics.TURNSTILES + suffix,
        "--summary-topic",
        names["summary"],
        "--stations-table-topic",
        names["table"],
        "--data-dir",
        str(tmp_path),
    )
    sim_args = ["--speed", "600", "--duration", "30m", "--lines", "blue", "--seed", "3", "--no-control"]
    sim_args += ["--topic-suffix", suffix, "--no-weather", "--start", "08:00"]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        faust.start()
        assert faust.wait_for_log("Worker ready", 90), faust.log()[-2000:]
        procs.append(_job(stack, tmp_path / "sim.log", "producers_sim", *sim_args))
        procs.append(
            _job(
                stack,
                tmp_path / "weather.log",
                "producers_sim.weather_job",
                "--no-follow-sim",
                "--speed",
                "600",
                "--start",
                "08:00",
                "--topic-suffix",
                suffix,
            )
        )
        yield names
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(30)
        faust.stop()


def test_a_course_style_consumer_reads_every_topic(stack: Settings, running: dict[str, Any]) -> None:
    suffix = running["suffix"]
    registry = make_registry_client(stack)
    avro = AvroDeserializer(registry)
    consumer = Consumer(
        {
            "bootstrap.servers": stack.bootstrap_servers,
            "group.id": f"course-consumer-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "topic.metadata.refresh.interval.ms": 2000,
        }
    )
    arrivals_pattern = "^" + (topics.ARRIVALS + suffix).replace(".", r"\.")  # as the course: a regex
    weather_topic = topics.WEATHER + suffix
    consumer.subscribe([arrivals_pattern, weather_topic, running["table"], running["summary"]])
    directions: dict[int, set[str]] = {}
    stations: dict[tuple[str, int], dict[str, Any]] = {}
    weather: list[dict[str, Any]] = []
    counts: dict[int, int] = {}
    deadline = time.monotonic() + 150

    def done() -> bool:
        both = [sid for sid, d in directions.items() if d >= {"a", "b"}]
        blue_rows = sum(1 for line, _sid in stations if line == "blue")  # the table comes line by line
        return bool(both) and bool(weather) and any(n > 0 for n in counts.values()) and blue_rows >= 33

    try:
        while time.monotonic() < deadline and not done():
            msg = consumer.poll(0.5)
            if msg is None or msg.error() is not None:
                continue
            topic = msg.topic()
            if topic.startswith(topics.ARRIVALS):
                value = avro(msg.value(), SerializationContext(topic, MessageField.VALUE))
                directions.setdefault(value["station_id"], set()).add(value["direction"])
            elif topic == weather_topic:
                value = avro(msg.value(), SerializationContext(topic, MessageField.VALUE))
                weather.append({"temperature": value["temperature"], "status": value["status"]})
            elif topic == running["table"]:
                value = json.loads(msg.value())
                stations[(value["line"], value["station_id"])] = {
                    k: value[k] for k in ("station_id", "station_name", "order", "line")
                }
            else:
                value = json.loads(msg.value())
                counts[int(value["STATION_ID"])] = int(value["COUNT"])
    finally:
        consumer.close()
    assert any(d >= {"a", "b"} for d in directions.values()), directions
    assert weather and isinstance(weather[0]["temperature"], float) and weather[0]["status"]
    assert any(n > 0 for n in counts.values()) and all(
        sid in directions or n > 0 for sid, n in counts.items()
    )
    blue = {sid: s for (line, sid), s in stations.items() if line == "blue"}
    assert len(blue) == 33 and blue[40890]["station_name"] == "O'Hare" and blue[40890]["order"] == 0
