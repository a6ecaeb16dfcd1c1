"""The interface between the runner and whatever publishes records."""

from __future__ import annotations

from typing import Protocol

from cta_core import topics
from producers_sim.control import TopicCounters
from producers_sim.records import SinkRecord, record_topic


class EventSink(Protocol):
    @property
    def counters(self) -> TopicCounters: ...

    def publish_many(self, records: list[SinkRecord]) -> None:
        """Hand records over, in order; may block briefly when a local queue is full."""

    def poll(self) -> None:
        """Serve delivery reports (cheap; called often)."""

    def flush(self, timeout: float) -> int:
        """Deliver what is queued; return the number still undelivered."""

    def close(self) -> None: ...


class StatusSink(Protocol):
    def publish_status(self, key: str, document: bytes) -> None: ...


class CompositeSink:
    """Sends weather records to one sink and everything else to another."""

    def __init__(self, events: EventSink, weather: EventSink, weather_topic: str = topics.WEATHER):
        self.events = events
        self.weather = weather
        self.weather_topic = weather_topic

    @property
    def counters(self) -> TopicCounters:
        return self.events.counters.merged(self.weather.counters)

    def publish_many(self, records: list[SinkRecord]) -> None:
        names = list(map(record_topic, records))  # searched in C: weather is rare (hourly)
        weather = self.weather_topic
        start = 0
        while True:
            try:
                i = names.index(weather, start)
            except ValueError:
                break
            if i > start:
                self.events.publish_many(records[start:i])
            self.weather.publish_many(records[i : i + 1])
            start = i + 1
        if start < len(records):
            self.events.publish_many(records[start:] if start else records)

    def poll(self) -> None:
        self.events.poll()
        self.weather.poll()

    def flush(self, timeout: float) -> int:
        return self.events.flush(timeout) + self.weather.flush(min(timeout, 5.0))

    def close(self) -> None:
        self.weather.close()
        self.events.close()
