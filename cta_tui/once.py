"""`cta-tui --once --json`: read the pipeline headlessly for a bounded time, print the state.

No Textual here: the Kafka source feeds the pure state model directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cta_tui.feeds.kafka_source import KafkaSource
from cta_tui.state.model import DashboardState
from cta_tui.state.records import Batch
from cta_tui.state.reducers import apply_batch


def read_once(
    source: KafkaSource,
    *,
    timeout: float = 15.0,
    settle: float = 1.0,
    clock: Callable[[], float] = time.time,
) -> DashboardState:
    """Poll until the stations table is loaded and every assigned partition is read to
    its end (then ``settle`` more seconds for late topics), or until ``timeout``.

    Raises :class:`cta_core.errors.ServiceUnavailable` when Kafka cannot be reached.
    """
    state = DashboardState()
    deadline = time.monotonic() + timeout
    caught_up_at: float | None = None
    measured = 0.0
    try:
        while time.monotonic() < deadline:
            batch = source.poll(10_000, 0.5)
            apply_batch(state, batch, clock())
            state.feed_connected = True
            if time.monotonic() - measured > 1.0:
                measured = time.monotonic()
                apply_batch(state, Batch(lag=source.measure_lag()), clock())
            if state.lines and source.caught_up():
                caught_up_at = caught_up_at or time.monotonic()
                if time.monotonic() - caught_up_at >= settle:
                    break
            else:
                caught_up_at = None
    finally:
        source.close()
    return state
