"""The tail screen's Kafka consumer and Schema Registry client, one of each per app.

A librdkafka client is megabytes of buffers and threads; made and closed on every visit
of the tail screen, the process's memory grew a few MB a visit (the C allocator keeps
what those threads freed). :class:`TailClients` makes them on the first visit and lends
them to every later one: one reader at a time holds the consumer (a visit's reader
closes, unassigning it, before the next one takes it), and the topic list is read
through the same consumer.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable
from typing import Any

from cta_core.avro import RegistryLookup
from cta_core.settings import Settings
from cta_tui.feeds.tail_source import TailSource, list_topics, tail_consumer

#: seconds a new reader waits for the previous visit's reader to let the consumer go
#: (its worker stops within one poll); past that it gets a consumer of its own
HANDOVER_S = 5.0


class _LentSource(TailSource):
    """A :class:`TailSource` on the lent consumer; closing it gives the consumer back."""

    def __init__(self, settings: Settings, topic: str, clients: TailClients) -> None:
        self._release: Callable[[], None] | None = clients.release
        try:
            super().__init__(settings, topic, consumer=clients.consumer(), registry=clients.registry())
        except BaseException:
            self._give_back()
            raise

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()

    def _give_back(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()


class TailClients:
    """One consumer and one registry client for every reader the tail screen makes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._consumer: Any = None
        self._registry: RegistryLookup | None = None
        self._made = threading.Lock()
        self._held = threading.Lock()

    def consumer(self) -> Any:
        with self._made:
            if self._consumer is None:
                self._consumer = tail_consumer(self.settings)
            return self._consumer

    def registry(self) -> RegistryLookup:
        with self._made:
            if self._registry is None:
                self._registry = RegistryLookup(self.settings)
            return self._registry

    def release(self) -> None:
        self._held.release()

    def reader(self, topic: str) -> TailSource:
        """A reader of ``topic`` on the lent consumer (its own one if the previous reader
        does not let go in time)."""
        if not self._held.acquire(timeout=HANDOVER_S):
            return TailSource(self.settings, topic)
        return _LentSource(self.settings, topic, self)

    def topics(self) -> list[str]:
        """Every topic's name (:func:`list_topics`) through the lent consumer."""
        return list_topics(self.settings, client=self.consumer())

    def close(self) -> None:
        with self._made:
            consumer, self._consumer = self._consumer, None
            registry, self._registry = self._registry, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                consumer.close()
        if registry is not None:
            registry.close()


_by_app: weakref.WeakKeyDictionary[Any, TailClients] = weakref.WeakKeyDictionary()


def tail_clients(app: Any, settings: Settings) -> TailClients:
    """``app``'s tail clients (made on the first call, closed when the app goes)."""
    clients = _by_app.get(app)
    if clients is None:
        clients = _by_app[app] = TailClients(settings)
        weakref.finalize(app, clients.close)
    return clients
