"""Reads control commands from Kafka in a background thread (format: :mod:`cta_core.records.control`).

The consumer has its own group id per run and starts at the end of each partition
(offsets looked up and assigned explicitly, so a command sent once the simulator
reports its first status is never missed). It never commits.
"""

from __future__ import annotations

import logging
import queue
import threading

from confluent_kafka import OFFSET_END, Consumer, TopicPartition

from cta_core import topics
from cta_core.kafka_clients import make_consumer
from cta_core.records.control import Command, Rejected, parse_command
from cta_core.settings import Settings

log = logging.getLogger(__name__)


class ControlListener:
    def __init__(
        self, consumer: Consumer, commands: queue.Queue[Command | Rejected], topic: str = topics.SIM_CONTROL
    ):
        self.consumer = consumer
        self.commands = commands
        self.topic = topic
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, run_id: str, commands: queue.Queue[Command | Rejected]
    ) -> ControlListener:
        consumer = make_consumer(settings, f"cta-sim-control-{run_id}", **{"auto.offset.reset": "latest"})
        return cls(consumer, commands)

    def start(self, timeout: float = 10.0) -> None:
        """Assign every partition at its current end, then consume in the background."""
        md = self.consumer.list_topics(self.topic, timeout=timeout)
        parts = sorted(md.topics[self.topic].partitions) if self.topic in md.topics else [0]
        assignment = []
        for p in parts:
            try:
                _, high = self.consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=timeout)
            except Exception:  # fall back to the logical end
                high = OFFSET_END
            assignment.append(TopicPartition(self.topic, p, high))
        self.consumer.assign(assignment)
        self._thread = threading.Thread(target=self._loop, name="cta-sim-control", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                msg = self.consumer.poll(0.1)
                if msg is None:
                    continue
                if msg.error():
                    log.debug("control consumer: %s", msg.error())
                    continue
                self.commands.put(parse_command(msg.value()))
        finally:
            self.consumer.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
