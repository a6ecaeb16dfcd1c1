"""A prediction worker's place in its consumer group (confluent-kafka).

The group member subscribes to the arrivals topic with cooperative-sticky assignment only
to learn which partitions it owns and to commit their offsets; it keeps them paused and
fetches nothing (the worker's reader reads every partition, see
:mod:`stream_jobs.predict.ownership`). A killed member's partitions move to the others
once its session times out (``SESSION_TIMEOUT_MS``); a member that stops leaves at once.
On revocation the member commits how far it got in the partitions it gives up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from cta_core.kafka_clients import make_consumer
from cta_core.settings import Settings
from stream_jobs.predict.ownership import Ownership

log = logging.getLogger("stream_jobs.predict")

#: how long a silent member keeps its partitions (the broker's minimum is 6 s)
SESSION_TIMEOUT_MS = 10_000
HEARTBEAT_MS = 1_000


class Membership:
    """Owned partitions in ``ownership``; ``positions()`` says how far each partition was
    processed (next offsets), for the commit on revocation."""

    def __init__(
        self,
        settings: Settings,
        group_id: str,
        topic: str,
        ownership: Ownership,
        positions: Callable[[], dict[int, int]],
        on_error: Callable[[KafkaError, str | None], None] | None = None,
    ):
        self.topic = topic
        #: told of the group consumer's errors (a refused group stops the job with one line)
        self.on_error = on_error
        self.ownership = ownership
        self.positions = positions
        #: the group has assigned partitions (maybe none) at least once
        self.joined = False
        self.consumer: Consumer = make_consumer(
            settings,
            group_id,
            **{
                "partition.assignment.strategy": "cooperative-sticky",
                "session.timeout.ms": SESSION_TIMEOUT_MS,
                "heartbeat.interval.ms": HEARTBEAT_MS,
            },
        )

    def committed(self, partitions: list[int]) -> dict[int, int]:
        """The group's committed offsets of ``partitions`` (absent: none committed)."""
        tps = [TopicPartition(self.topic, p) for p in partitions]
        got = self.consumer.committed(tps, timeout=10)
        return {tp.partition: tp.offset for tp in got if tp.offset >= 0}

    def start(self) -> None:
        self.consumer.subscribe(
            [self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )

    def wait_joined(self, stop: threading.Event, timeout: float = 60.0) -> None:
        """Serve the group until its first assignment (possibly empty: more workers than
        partitions), so arrivals read after it are published by their owner."""
        deadline = time.monotonic() + timeout
        while not self.joined and not stop.is_set() and time.monotonic() < deadline:
            self.consumer.consume(1, timeout=0.2)
        if not self.joined:
            log.warning("no partitions assigned after %.0f s: learning only until then", timeout)

    def poll(self) -> None:
        """Serve the group's callbacks (assignments, revocations); nothing is fetched."""
        for msg in self.consumer.consume(1, timeout=0):
            if (err := msg.error()) is not None and self.on_error is not None:
                self.on_error(err, msg.topic())

    def commit(self) -> None:
        """Commit the processed positions of the owned partitions (asynchronously)."""
        offsets = self._offsets(self.ownership.owned)
        if offsets:
            try:
                self.consumer.commit(offsets=offsets, asynchronous=True)
            except KafkaException as exc:  # a rebalance under way: the next batch commits
                log.debug("commit skipped: %s", exc)

    def close(self) -> None:
        self.consumer.close()

    def _offsets(self, partitions: set[int]) -> list[TopicPartition]:
        pos = self.positions()
        return [TopicPartition(self.topic, p, pos[p]) for p in sorted(partitions) if p in pos]

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        consumer.incremental_assign(partitions)
        if partitions:
            consumer.pause(partitions)
        self.ownership.assign({tp.partition for tp in partitions})
        self.joined = True
        log.info("partitions owned: %s", sorted(self.ownership.owned))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        gone = {tp.partition for tp in partitions}
        offsets = self._offsets(gone & self.ownership.owned)
        if offsets:
            try:
                consumer.commit(offsets=offsets, asynchronous=False)
            except KafkaException as exc:
                log.warning("commit on revocation failed: %s", exc)
        self._drop(consumer, partitions)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._drop(consumer, partitions)

    def _drop(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if not partitions:
            return
        consumer.incremental_unassign(partitions)
        self.ownership.revoke({tp.partition for tp in partitions})
        log.info("partitions owned: %s", sorted(self.ownership.owned))
