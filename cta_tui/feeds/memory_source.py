"""An in-memory :class:`RecordSource` for UI tests and demos without Kafka."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable

from cta_tui.state.records import Batch, Record


class MemorySource:
    """Records pushed with :meth:`push` (from any thread) are returned by :meth:`poll`.

    :meth:`fail_next` makes the next poll raise; :meth:`set_down` makes every poll raise
    until cleared (a backend that stays down), to exercise the dashboard's retry path.
    """

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self._queue: queue.Queue[Record | BaseException] = queue.Queue()
        self.closed = False
        self.polls = 0
        self._lock = threading.Lock()
        self._down: BaseException | None = None
        self.push(*records)

    def push(self, *records: Record) -> None:
        for record in records:
            self._queue.put(record)

    def fail_next(self, error: BaseException) -> None:
        self._queue.put(error)

    def set_down(self, error: BaseException | None) -> None:
        self._down = error

    def pending(self) -> int:
        return self._queue.qsize()

    def poll(self, max_records: int, timeout: float) -> Batch:
        with self._lock:
            self.polls += 1
        if self._down is not None:
            raise self._down
        batch = Batch()
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return batch
        if isinstance(first, BaseException):
            raise first
        batch.add(first)
        while batch.count() < max_records:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, BaseException):
                # keep the error for the next poll, return what was read so far
                self._queue.put(item)
                break
            batch.add(item)
        return batch

    def close(self) -> None:
        self.closed = True
