"""cta-weather through a broker kill: one visible reading per hour.

A stack of its own (Kafka, Schema Registry, REST Proxy on spare ports, a temporary
directory), never the shared one: its broker is killed with SIGKILL while cta-weather
publishes an hour of simulated weather every 2 s, then started again. A POST that the
proxy had in fact written before its answer was lost is retried, so the topic may hold
a second record for an hour; the dashboard (its reducer, where the dedupe lives) shows
one reading per hour, and every hour is there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from cta_core import topics
from cta_core.avro import AvroDecoder, RegistryLookup
from cta_core.kafka_clients import make_consumer
from cta_core.settings import Settings
from cta_stack.scratch import ScratchStack
from cta_tui.state.model import DashboardState
from cta_tui.state.records import Record
from cta_tui.state.reducers import apply_records

pytestmark = pytest.mark.integration


@pytest.fixture
def own_stack() -> Iterator[ScratchStack]:
    """A scratch stack with the REST Proxy and what it needs."""
    with ScratchStack.running(only=("rest-proxy",)) as stack:
        yield stack


def _read_weather(settings: Settings, topic: str) -> list[Record]:
    decoder = AvroDecoder(RegistryLookup(settings))
    consumer = make_consumer(settings, f"weather-check-{time.time_ns()}")
    out: list[Record] = []
    try:
        tp = TopicPartition(topic, 0)
        _low, high = consumer.get_watermark_offsets(tp, timeout=10)
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        deadline = time.monotonic() + 30
        while len(out) < high and time.monotonic() < deadline:
            for msg in consumer.consume(100, 1.0):
                if msg.error() is None:
                    key = decoder.decode(msg.key())
                    out.append(Record(topics.WEATHER, key, decoder.decode(msg.value()), None))
    finally:
        consumer.close()
    return out


def test_one_visible_reading_per_hour_through_a_broker_kill(own_stack: ScratchStack, tmp_path: Path) -> None:
    log = (tmp_path / "weather.log").open("wb")
    env = own_stack.env
    weather = subprocess.Popen(
        [sys.executable, "-m", "producers_sim.weather_job", "--no-follow-sim", "--speed", "1800",
         "--start", "2026-07-01T05:00", "--seed", "4", "-v"],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        time.sleep(8)
        os.kill(own_stack.broker_pid(1), signal.SIGKILL)  # mid-run, POSTs in flight
        time.sleep(12)
        own_stack.up()
        time.sleep(12)
    finally:
        weather.send_signal(signal.SIGTERM)
        weather.wait(60)
        log.close()
    text = (tmp_path / "weather.log").read_text(errors="replace")
    published = text.count("producers_sim.weather_job: weather for ")
    records = _read_weather(own_stack.settings, topics.WEATHER)
    hours = sorted({r.key["timestamp"] for r in records})
    state = DashboardState()
    visible = sum(apply_records(state, topics.WEATHER, [r], time.time()) for r in records)
    print(f"readings published {published}, records on the topic {len(records)}, hours {len(hours)}")
    assert published >= 10, text[-2000:]
    assert all(h % 3_600_000 == 0 for h in hours)
    assert hours == [hours[0] + i * 3_600_000 for i in range(len(hours))]  # no hour missing
    assert len(hours) >= published - 1  # the last may still be queued at SIGTERM (counted failed)
    assert visible == len(hours)  # one visible reading per hour, duplicates or not
