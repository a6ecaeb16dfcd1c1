"""Records: events prepared for where they are going, which is what the runner paces and
the sinks send.

A record is a plain tuple ``(t, topic, value, key)``: ``t`` the simulated time in epoch
seconds (the runner paces by it), ``topic`` the contract's topic name (a sink may append
a suffix), and ``value``/``key`` whatever that topic's sink sends: Avro in the Confluent
wire format for the Kafka topics, the :class:`~producers_sim.events.WeatherEvent` itself
for weather (the REST Proxy publisher encodes it as JSON), one JSON line for
``--dry-run``. Tuples, not objects: at ``--speed max`` hundreds of thousands cross a
process boundary per second, and a tuple of bytes is what pickles and unpickles fastest.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

#: ``(t, topic, value, key)``: an event prepared for its sink (not the dashboard's decoded
#: ``cta_tui.state.records.Record``)
SinkRecord = tuple[float, str, Any, Any]

#: the simulated time of a record (the runner's sort and bisect key)
record_time: Callable[[SinkRecord], float] = operator.itemgetter(0)
#: the topic of a record
record_topic: Callable[[SinkRecord], str] = operator.itemgetter(1)


def count_by_topic(records: Iterable[SinkRecord]) -> Counter[str]:
    """Records per topic (counted in C: sinks call this once per run of records)."""
    return Counter(map(record_topic, records))
