"""``--dry-run``: every event as one JSON line on stdout, no Kafka (the records come from
:class:`~producers_sim.prepare.JsonPreparer`)."""

from __future__ import annotations

import sys
from typing import TextIO

from producers_sim.control import TopicCounters
from producers_sim.records import SinkRecord, count_by_topic


class StdoutPublisher:
    def __init__(self, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stdout
        self.counters = TopicCounters()

    def publish_many(self, records: list[SinkRecord]) -> None:
        self.stream.write("".join([f"{value}\n" for _, _, value, _ in records]))
        produced, delivered = self.counters.produced, self.counters.delivered
        for topic, n in count_by_topic(records).items():
            produced[topic] = produced.get(topic, 0) + n
            delivered[topic] = delivered.get(topic, 0) + n

    def poll(self) -> None:
        pass

    def flush(self, timeout: float) -> int:
        self.stream.flush()
        return 0

    def close(self) -> None:
        self.stream.flush()
