"""The interface between the runner and whatever publishes events."""

from __future__ import annotations

from typing import Protocol

from producers_sim.control import TopicCounters
from producers_sim.events import Event


class EventSink(Protocol):
    @property
    def counters(self) -> TopicCounters: ...

    def publish(self, event: Event) -> None:
        """Hand one event over; may block briefly when a local queue is full."""

    def publish_many(self, events: list[Event]) -> None:
        """Hand several events over, in order (the fast path at --speed max)."""

    def poll(self) -> None:
        """Serve delivery reports (cheap; called often)."""

    def flush(self, timeout: float) -> int:
        """Deliver what is queued; return the number still undelivered."""

    def close(self) -> None: ...


class StatusSink(Protocol):
    def publish_status(self, key: str, document: bytes) -> None: ...


class CompositeSink:
    """Sends weather to one sink and everything else to another."""

    def __init__(self, events: EventSink, weather: EventSink):
        self.events = events
        self.weather = weather

    @property
    def counters(self) -> TopicCounters:
        return self.events.counters.merged(self.weather.counters)

    def publish(self, event: Event) -> None:
        from producers_sim.events import WeatherEvent

        (self.weather if isinstance(event, WeatherEvent) else self.events).publish(event)

    def publish_many(self, events: list[Event]) -> None:
        from producers_sim.events import WeatherEvent

        kinds = list(map(type, events))  # searched in C: weather is rare (hourly)
        start = 0
        while True:
            try:
                i = kinds.index(WeatherEvent, start)
            except ValueError:
                break
            if i > start:
                self.events.publish_many(events[start:i])
            self.weather.publish(events[i])
            start = i + 1
        if start < len(events):
            self.events.publish_many(events[start:] if start else events)

    def poll(self) -> None:
        self.events.poll()
        self.weather.poll()

    def flush(self, timeout: float) -> int:
        return self.events.flush(timeout) + self.weather.flush(min(timeout, 5.0))

    def close(self) -> None:
        self.weather.close()
        self.events.close()
