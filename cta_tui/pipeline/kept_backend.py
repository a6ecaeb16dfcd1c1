"""The pipeline screen's backend, one per app and kept between visits.

The real backend holds a Kafka admin client, an HTTP client and a PostgreSQL connection;
made and closed on every visit of the pipeline screen, the process's memory grew a few MB
a visit (the C allocator keeps what librdkafka's threads freed). :func:`kept_backend`
makes it on the first visit and hands the same one to every later visit; a lock keeps two
visits' workers (one stopping, one starting) from probing it at once.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable
from typing import Any

from cta_stack.api import Outcome
from cta_tui.feeds.pipeline_probe import PipelineBackend
from cta_tui.state.pipeline_jobs import PipelineSnapshot


class KeptBackend:
    """A :class:`PipelineBackend` shared by every visit (its :meth:`close` keeps it
    open; :meth:`release` closes it)."""

    def __init__(self, backend: PipelineBackend) -> None:
        self.backend = backend
        self._lock = threading.Lock()

    def snapshot(self) -> PipelineSnapshot:
        with self._lock:
            return self.backend.snapshot()

    def control(self, action: str, name: str, sender: str) -> Outcome:
        return self.backend.control(action, name, sender)

    def log_path(self, name: str) -> str:
        return self.backend.log_path(name)

    def close(self) -> None:
        """A visit ends: the backend stays for the next one."""

    def release(self) -> None:
        with self._lock, contextlib.suppress(Exception):
            self.backend.close()


_by_app: weakref.WeakKeyDictionary[Any, tuple[Callable[[], PipelineBackend], KeptBackend]] = (
    weakref.WeakKeyDictionary()
)


def kept_backend(app: Any, factory: Callable[[], PipelineBackend]) -> KeptBackend:
    """``app``'s backend made by ``factory`` (on the first call for this factory; closed
    when the app goes)."""
    kept = _by_app.get(app)
    if kept is None or kept[0] is not factory:
        if kept is not None:
            kept[1].release()
        kept = _by_app[app] = (factory, KeptBackend(factory()))
        weakref.finalize(app, kept[1].release)
    return kept[1]
