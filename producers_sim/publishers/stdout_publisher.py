"""``--dry-run``: every event as one JSON line on stdout, no Kafka."""

from __future__ import annotations

import sys
from typing import TextIO

from producers_sim.control import TopicCounters
from producers_sim.events import Event, to_json


class StdoutPublisher:
    def __init__(self, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stdout
        self.counters = TopicCounters()

    def publish(self, event: Event) -> None:
        self.stream.write(to_json(event) + "\n")
        topic = event.topic
        self.counters.produced[topic] = self.counters.produced.get(topic, 0) + 1
        self.counters.delivered[topic] = self.counters.delivered.get(topic, 0) + 1

    def publish_many(self, events: list[Event]) -> None:
        for event in events:
            self.publish(event)

    def poll(self) -> None:
        pass

    def flush(self, timeout: float) -> int:
        self.stream.flush()
        return 0

    def close(self) -> None:
        self.stream.flush()
