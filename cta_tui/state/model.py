"""The dashboard's state: plain dataclasses, no Textual, no Kafka.

Everything the screens show is derived from one :class:`DashboardState`, which the
reducers in :mod:`cta_tui.state.reducers` update from batches of decoded records.
Times are passed in (``now`` in wall seconds) so that tests and snapshots are
deterministic.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from cta_core.records import status
from cta_core.records.arrival import BROKEN_DOWN, OUT_OF_SERVICE
from cta_tui.state.predictions import PredictionBook

#: The lines in the order of the 1-8 keys.
LINE_ORDER: tuple[str, ...] = ("red", "blue", "green", "brown", "purple", "yellow", "pink", "orange")

#: The Loop's elevated stations (cta_lines.csv ids): brown, purple, pink and orange circle them.
LOOP_STATION_IDS: frozenset[int] = frozenset({40730, 40040, 40160, 40850, 40680, 40640, 40200, 40260, 40380})

#: Branch names that mean "the line's trunk" rather than a branch of it.
TRUNK_BRANCHES: frozenset[str] = frozenset({"", "main", "trunk"})

#: A train is shown "at" a station this long (simulated ms) after arriving, then "departed".
DWELL_MS = 30_000

#: How many recent arrivals each station's board keeps.
BOARD_SIZE = 20

#: Arrivals for stations not (yet) in the stations table are held, up to this many.
PENDING_LIMIT = 20_000

#: Minutes of entries-per-minute history kept per station (an hour: the network
#: panels show entries in the last simulated hour).
HISTORY_MINUTES = 60

UP = "up"  # towards the start of the line's station list (lower order)
DOWN = "down"  # towards its end (higher order)


@dataclass(slots=True)
class LineStation:
    """One station of one line, as the stations table lists it."""

    station_id: int
    name: str
    order: int
    branch: str | None = None

    @property
    def loop(self) -> bool:
        return self.station_id in LOOP_STATION_IDS


@dataclass
class Line:
    """A line's stations keyed by id; :meth:`ordered` gives display order."""

    name: str
    stations: dict[int, LineStation] = field(default_factory=dict)

    def ordered(self) -> list[LineStation]:
        """Trunk stations by order, then each named branch by order (Green's branches)."""
        trunk = [s for s in self.stations.values() if (s.branch or "") in TRUNK_BRANCHES]
        branches: dict[str, list[LineStation]] = {}
        for s in self.stations.values():
            if (s.branch or "") not in TRUNK_BRANCHES:
                branches.setdefault(str(s.branch), []).append(s)
        out = sorted(trunk, key=lambda s: (s.order, s.station_id))
        for name in sorted(branches):
            out.extend(sorted(branches[name], key=lambda s: (s.order, s.station_id)))
        return out


@dataclass(slots=True)
class Train:
    """Where a train was last seen: at ``station_id`` since ``sim_time_ms``."""

    train_id: str
    line: str
    station_id: int
    direction: str
    heading: str
    status: str
    seq: int | None
    sim_time_ms: int | None
    received_at: float
    prev_station_id: int | None = None
    branch: str | None = None
    delay_s: int | None = None

    @property
    def broken(self) -> bool:
        return self.status == BROKEN_DOWN

    @property
    def in_service(self) -> bool:
        return self.status != OUT_OF_SERVICE


@dataclass(slots=True)
class ArrivalEntry:
    """One line of a station's arrivals board."""

    train_id: str
    line: str
    direction: str
    heading: str
    status: str
    sim_time_ms: int | None
    received_at: float
    delay_s: int | None = None


@dataclass(frozen=True, slots=True)
class Weather:
    temperature_f: float
    status: str
    sim_time_ms: int | None
    received_at: float

    @property
    def temperature_c(self) -> float:
        return (self.temperature_f - 32.0) * 5.0 / 9.0


@dataclass(frozen=True, slots=True)
class SimStatus(status.SimStatus):
    """The simulator's last status message (:class:`cta_core.records.status.SimStatus`)
    and when it was received (wall seconds)."""

    received_at: float = 0.0


@dataclass
class TopicStats:
    """What the pipeline screen shows about one topic."""

    topic: str
    messages: int = 0
    malformed: int = 0
    #: newest record timestamp seen (wall seconds; Kafka's timestamp or receive time)
    last_message_at: float | None = None
    lag: int | None = None
    #: (wall second, messages) buckets for the rate over the last few seconds
    recent: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=16))

    RATE_WINDOW = 10

    def count(self, n: int, now: float, newest_ts: float | None) -> None:
        self.messages += n
        second = int(now)
        if self.recent and self.recent[-1][0] == second:
            self.recent[-1] = (second, self.recent[-1][1] + n)
        else:
            self.recent.append((second, n))
        if newest_ts is not None and (self.last_message_at is None or newest_ts > self.last_message_at):
            self.last_message_at = newest_ts

    def age(self, now: float) -> float | None:
        return None if self.last_message_at is None else max(0.0, now - self.last_message_at)

    def rate(self, now: float) -> float:
        """Messages per second over the last RATE_WINDOW seconds."""
        start = int(now) - self.RATE_WINDOW
        total = sum(n for second, n in self.recent if second > start)
        return total / self.RATE_WINDOW


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    """One row of the pipeline screen's services table."""

    name: str
    url: str
    ok: bool
    detail: str = ""
    #: e.g. Kafka Connect's task trace when FAILED
    trace: str | None = None
    #: a service the pipeline can do without (ksqlDB: the Faust worker writes the summary
    #: on the local stack), shown as "not used" rather than "down" when it does not answer
    optional: bool = False


@dataclass
class DashboardState:
    lines: dict[str, Line] = field(default_factory=dict)
    station_names: dict[int, str] = field(default_factory=dict)
    trains: dict[str, Train] = field(default_factory=dict)
    boards: dict[int, deque[ArrivalEntry]] = field(default_factory=dict)
    pending_arrivals: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=PENDING_LIMIT))
    stale_arrivals: int = 0
    #: learned mapping (line, direction "a"/"b") -> UP/DOWN, from arrivals with a previous station
    headings: dict[tuple[str, str], str] = field(default_factory=dict)
    turnstile_counts: dict[int, int] = field(default_factory=dict)
    #: learned run times (simulated ms, arrival to next arrival, dwell included), per
    #: (from station, to station) and per line; the network screen moves trains by them
    segment_run_ms: dict[tuple[int, int], float] = field(default_factory=dict)
    line_run_ms: dict[str, float] = field(default_factory=dict)
    #: station -> {minute: entries in that minute}
    entries_history: dict[int, dict[int, int]] = field(default_factory=dict)
    weather: Weather | None = None
    sim: SimStatus | None = None
    topics: dict[str, TopicStats] = field(default_factory=dict)
    services: dict[str, ServiceHealth] = field(default_factory=dict)
    #: the Kafka feed's last error while it is failing (None when healthy)
    feed_error: str | None = None
    feed_connected: bool = False
    #: Train Tracker predictions (org.chicago.cta.predictions.v1)
    predictions: PredictionBook = field(default_factory=PredictionBook)

    def topic(self, name: str) -> TopicStats:
        stats = self.topics.get(name)
        if stats is None:
            stats = self.topics[name] = TopicStats(name)
        return stats

    def station_name(self, station_id: int) -> str:
        return self.station_names.get(station_id, str(station_id))

    def known_station(self, station_id: int) -> bool:
        return station_id in self.station_names

    def trains_at(self, station_id: int, line: str | None = None) -> list[Train]:
        """Trains in service whose last arrival was at ``station_id``."""
        return [
            t
            for t in self.trains.values()
            if t.station_id == station_id and t.in_service and (line is None or t.line == line)
        ]
