"""The interface between the dashboard and where its records come from."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

#: The topics the dashboard reads.
from cta_core import topics
from cta_tui.state.records import Batch

DASHBOARD_TOPICS: tuple[str, ...] = (
    topics.STATIONS_TABLE,
    topics.TURNSTILE_SUMMARY,
    topics.WEATHER,
    topics.ARRIVALS,
    topics.SIM_STATUS,
    topics.PREDICTIONS,
)


@runtime_checkable
class RecordSource(Protocol):
    """A blocking source of decoded records, polled from a worker thread.

    ``poll`` returns at most ``max_records`` records, waiting up to ``timeout`` seconds
    for the first; it raises (e.g. :class:`cta_core.errors.ServiceUnavailable`) when the
    backend is unreachable, and may be called again afterwards to retry. Undecodable
    records are counted in :attr:`Batch.malformed`, never raised.
    """

    def poll(self, max_records: int, timeout: float) -> Batch: ...

    def close(self) -> None: ...
