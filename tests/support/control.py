"""A reader of the simulator's control topic from its current end, for tests that check
which dashboards' commands reach it (SSH and web sessions)."""

from __future__ import annotations

import time
from typing import Any


class ControlTopicWatcher:
    """Reads SIM_CONTROL from its current end (own group id, no commits)."""

    def __init__(self, settings: Any) -> None:
        import uuid

        from confluent_kafka import TopicPartition

        from cta_core import topics
        from cta_core.kafka_clients import ensure_topics, make_consumer, wait_for_broker

        admin = wait_for_broker(settings, 30)
        ensure_topics(admin, [topics.SPECS[topics.SIM_CONTROL]])
        self.consumer = make_consumer(settings, f"test-control-{uuid.uuid4().hex}")
        meta = self.consumer.list_topics(topics.SIM_CONTROL, timeout=10)
        parts = []
        for p in meta.topics[topics.SIM_CONTROL].partitions:
            _, high = self.consumer.get_watermark_offsets(TopicPartition(topics.SIM_CONTROL, p), timeout=10)
            parts.append(TopicPartition(topics.SIM_CONTROL, p, high))
        self.consumer.assign(parts)
        self.seen: list[dict[str, Any]] = []

    def poll_for(self, seconds: float) -> list[dict[str, Any]]:
        import json

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            msg = self.consumer.poll(0.2)
            if msg is not None and msg.error() is None:
                self.seen.append(json.loads(msg.value()))
        return self.seen

    def close(self) -> None:
        self.consumer.close()
