"""Turning the engine's events into records (see :mod:`producers_sim.records`).

Preparing is most of the simulator's per-event work besides producing (encoding Avro
especially), so it runs next to the engine, in the engine's process when there is one
(:mod:`producers_sim.engine_pipe`). Preparers are built from picklable arguments and keep their
caches to themselves.
"""

from __future__ import annotations

from typing import Protocol

from cta_core import topics
from cta_core.records.arrival import Arrival
from producers_sim.encoding import _LOW, ArrivalEncoder, TurnstileEncoder, millis_suffix
from producers_sim.engine import Minute
from producers_sim.events import Event, TurnstileEvent, WeatherEvent, to_json
from producers_sim.records import SinkRecord
from producers_sim.ridership import EntryBlock


class Preparer(Protocol):
    def prepare(self, minute: Minute) -> list[SinkRecord]:
        """The minute's events as records: a stable sort by time (which the pipe does, on
        the runner's side of the pipe, where there is time to spare) must give
        :meth:`Minute.ordered`'s order."""


class JsonPreparer:
    """``--dry-run``: each event as one JSON line (the record's value)."""

    def prepare(self, minute: Minute) -> list[SinkRecord]:
        return [(ev.t, ev.topic, to_json(ev), None) for ev in minute.ordered()]


class KafkaPreparer:
    """Arrivals and turnstile entries as Avro in the Confluent wire format, with the schema
    ids the registry gave (``{topic: (key id, value id)}``); weather passes through as the
    event, for the REST Proxy publisher."""

    def __init__(self, schema_ids: dict[str, tuple[int, int]]):
        self.schema_ids = schema_ids
        self.arrivals = ArrivalEncoder(*schema_ids[topics.ARRIVALS])
        self.turnstiles = TurnstileEncoder(*schema_ids[topics.TURNSTILES])
        #: the stations list of the blocks seen, and per station index its key and the value
        #: up to sim_time's varint
        self._stations: list[tuple[int, str, str | None]] | None = None
        self._keys: list[bytes] = []
        self._prefixes: list[bytes] = []
        #: sim_time varint suffixes by ``ms // 8192`` (a float, as divmod gives it)
        self._suffixes: dict[float, bytes] = {}

    def __reduce__(self) -> tuple[type, tuple[dict[str, tuple[int, int]]]]:
        return (KafkaPreparer, (self.schema_ids,))  # the caches are rebuilt where it runs

    def prepare_one(self, event: Event) -> SinkRecord:
        """One event the straightforward way (the reference :meth:`prepare` is tested against)."""
        if isinstance(event, TurnstileEvent):
            enc = self.turnstiles
            return (event.t, event.topic, enc.value(event), enc.key(event))
        if isinstance(event, Arrival):
            return (event.t, event.topic, self.arrivals.value(event), self.arrivals.key(event))
        if isinstance(event, WeatherEvent):
            return (event.t, event.topic, event, None)
        raise TypeError(f"no Kafka encoding for {type(event).__name__}")

    def prepare(self, minute: Minute) -> list[SinkRecord]:
        """:meth:`prepare_one` for a minute, with the turnstile entries (~93% of all events)
        encoded straight from their columns: the station's cached key and value prefix, then
        sim_time's varint from two table lookups (see ``encoding._LOW``)."""
        a_key, a_value, a_topic = self.arrivals.key, self.arrivals.value, topics.ARRIVALS
        out: list[SinkRecord] = [
            (ev.t, a_topic, a_value(ev), a_key(ev)) if type(ev) is Arrival else self.prepare_one(ev)
            for ev in minute.events
        ]
        block = minute.entries
        if block.times:
            append = out.append
            keys, prefixes = self._station_parts(block)
            q_get = self._suffixes.get
            low = _LOW
            join = b"".join
            t_topic = topics.TURNSTILES
            for t, k in zip(block.times, block.where, strict=True):  # (reuses its tuple)
                q, r = divmod(t * 1000.0, 8192.0)
                suffix = q_get(q) or self._suffix(q)
                if suffix:
                    append((t, t_topic, join((prefixes[k], low[int(r)], suffix)), keys[k]))
                else:  # a time outside the tables' range: the long way
                    append(self.prepare_one(TurnstileEvent(t, *block.stations[k])))
        return out  # events, then entries as drawn: a stable sort by time gives Minute.ordered()

    def _station_parts(self, block: EntryBlock) -> tuple[list[bytes], list[bytes]]:
        if block.stations is not self._stations:
            enc = self.turnstiles
            events = [TurnstileEvent(0.0, *station) for station in block.stations]
            self._keys = [enc.key(ev) for ev in events]
            self._prefixes = [enc.prefix(ev) for ev in events]
            self._stations = block.stations
        return self._keys, self._prefixes

    def _suffix(self, q: float) -> bytes | None:
        """sim_time's varint suffix for a new 8.192 s slice of time (None out of range)."""
        suffix = millis_suffix(int(q))
        if suffix is not None:
            if len(self._suffixes) > 100_000:  # ~9 simulated days of slices
                self._suffixes.clear()
            self._suffixes[q] = suffix
        return suffix
