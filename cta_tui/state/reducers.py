"""Pure functions that apply decoded records to a :class:`DashboardState`.

Each ``apply_*`` takes the state, a list of :class:`Record` of one topic and the wall
clock ``now``; it mutates the state and returns how many records changed it. Input is
untrusted: a record with missing or mistyped fields is counted as malformed on its
topic and skipped, never raised.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from cta_core import topics
from cta_core.records.arrival import OUT_OF_SERVICE, Arrival, MalformedArrival
from cta_core.records.status import MalformedStatus, as_int
from cta_tui.state.model import (
    BOARD_SIZE,
    DOWN,
    HISTORY_MINUTES,
    UP,
    ArrivalEntry,
    DashboardState,
    Line,
    LineStation,
    SimStatus,
    Train,
    Weather,
)
from cta_tui.state.predictions import RUN_JUMP_MS, apply_prediction_records
from cta_tui.state.records import Batch, Record


class MalformedRecord(ValueError):
    """A record whose fields do not fit the topic contract."""


def _field(value: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` present in ``value`` (upper or lower case)."""
    for name in names:
        for candidate in (name, name.upper(), name.lower()):
            if candidate in value:
                return value[candidate]
    return None


# --------------------------------------------------------------------------- stations


def apply_stations(state: DashboardState, records: Iterable[Record], now: float) -> int:
    """Upsert stations table rows ``{station_id, station_name, order, line, branch?}``.

    A tombstone (value None) removes the station from the line its key names. Arrivals
    held for stations now known are applied afterwards.
    """
    changed = 0
    for record in records:
        value = record.value
        if value is None:
            changed += _remove_station(state, record.key)
            continue
        if not isinstance(value, Mapping):
            state.topic(record.topic).malformed += 1
            continue
        station_id = as_int(_field(value, "station_id", "stop_id"))
        line_name = _field(value, "line")
        order = as_int(_field(value, "order", "position"))
        name = _field(value, "station_name", "name")
        if station_id is None or not isinstance(line_name, str) or order is None:
            state.topic(record.topic).malformed += 1
            continue
        branch = _field(value, "branch")
        line = state.lines.setdefault(line_name.lower(), Line(line_name.lower()))
        line.stations[station_id] = LineStation(
            station_id=station_id,
            name=str(name) if name else str(station_id),
            order=order,
            branch=str(branch) if branch else None,
        )
        state.station_names[station_id] = str(name) if name else str(station_id)
        changed += 1
    if changed and state.pending_arrivals:
        held = list(state.pending_arrivals)
        state.pending_arrivals.clear()
        _apply_arrival_values(state, held, now)
    return changed


def _remove_station(state: DashboardState, key: Any) -> int:
    """A tombstone's key: ``"<line>:<station_id>"`` (docs/jobs.md) or ``{line, station_id}``."""
    if isinstance(key, str) and ":" in key:
        line_name, _, sid = key.partition(":")
        station_id = as_int(sid)
    elif isinstance(key, Mapping):
        station_id = as_int(_field(key, "station_id"))
        line_name = _field(key, "line")
    else:
        return 0
    if station_id is None or not isinstance(line_name, str):
        return 0
    line = state.lines.get(line_name.lower())
    if line is None or line.stations.pop(station_id, None) is None:
        return 0
    if not any(station_id in other.stations for other in state.lines.values()):
        state.station_names.pop(station_id, None)
    return 1


# --------------------------------------------------------------------------- arrivals


def apply_arrivals(state: DashboardState, records: Iterable[Record], now: float) -> int:
    return _apply_arrival_values(state, [record.value for record in records], now)


def _heading(
    state: DashboardState,
    stations: dict[int, LineStation],
    line: str,
    station_id: int,
    prev: int | None,
    direction: str,
) -> str:
    """UP/DOWN along the line's station order: from the previous station when known
    (and learned for the direction), else the learned or default mapping a->DOWN, b->UP."""
    here = stations.get(station_id)
    before = stations.get(prev) if prev is not None else None
    if here is not None and before is not None and here.order != before.order:
        heading = DOWN if here.order > before.order else UP
        state.headings[(line, direction)] = heading
        return heading
    learned = state.headings.get((line, direction))
    if learned:
        return learned
    return UP if direction == "b" else DOWN


_NO_STATIONS: dict[int, LineStation] = {}

# an arrival RUN_JUMP_MS (simulated) from the train's last one, with a lower ``seq``,
# comes from another simulator run: it replaces the train's state instead of being
# dropped as stale


def _another_run(last_ms: int | None, sim_time: Any) -> bool:
    return last_ms is not None and sim_time.__class__ is int and abs(sim_time - last_ms) > RUN_JUMP_MS


def _apply_arrival_values(state: DashboardState, values: Iterable[Any], now: float) -> int:
    """The hot path (tens of thousands of records a second): locals bound once. Malformed
    arrivals are counted, those at stations not known yet held back, stale ones skipped."""
    changed = 0
    trains = state.trains
    known = state.station_names
    pending = state.pending_arrivals
    parse = Arrival.from_value
    for value in values:
        try:
            arrival = parse(value)
        except MalformedArrival:
            state.topic(topics.ARRIVALS).malformed += 1
            continue
        if arrival.station_id not in known:
            pending.append(dict(value))
            continue
        seq = arrival.seq
        train = trains.get(arrival.train_id)
        if (
            train is not None
            and seq is not None
            and train.seq is not None
            and seq <= train.seq
            and not _another_run(train.sim_time_ms, arrival.sim_time)
        ):
            state.stale_arrivals += 1
            continue
        _apply_arrival(state, arrival, train, now)
        changed += 1
    return changed


def _apply_arrival(state: DashboardState, a: Arrival, train: Train | None, now: float) -> None:
    """One valid, current arrival: the train moves there and the station's board shows it."""
    line = a.line.lower()
    station_id, direction, prev, status = a.station_id, a.direction, a.prev_station_id, a.train_status
    sim_time, delay = a.sim_time, a.delay_s
    line_obj = state.lines.get(line)
    stations = line_obj.stations if line_obj is not None else _NO_STATIONS
    heading = _heading(state, stations, line, station_id, prev, direction)
    if train is None:
        state.trains[a.train_id] = Train(
            train_id=a.train_id,
            line=line,
            station_id=station_id,
            direction=direction,
            heading=heading,
            status=status,
            seq=a.seq,
            sim_time_ms=sim_time,
            received_at=now,
            prev_station_id=prev,
            branch=a.branch,
            delay_s=delay,
        )
    else:
        last_ms = train.sim_time_ms
        if last_ms is not None and sim_time is not None and prev == train.station_id:
            learn_run_time(state, line, train.station_id, station_id, sim_time - last_ms)
        train.line = line
        train.station_id = station_id
        train.direction = direction
        train.heading = heading
        train.status = status
        train.seq = a.seq
        train.sim_time_ms = sim_time
        train.received_at = now
        train.prev_station_id = prev
        train.branch = a.branch
        train.delay_s = delay
    board = state.boards.get(station_id)
    if board is None:
        board = state.boards[station_id] = deque(maxlen=BOARD_SIZE)
    board_insert(board, ArrivalEntry(a.train_id, line, direction, heading, status, sim_time, now, delay))
    if sim_time is not None:
        state.predictions.visited(station_id, a.train_id, sim_time)


def board_insert(board: deque[ArrivalEntry], entry: ArrivalEntry) -> None:
    """Put ``entry`` on a station's board, newest first by simulated time. Arrivals come
    from several partitions (keyed by train), so one can be read after a later one; a
    full board drops its oldest, and an entry older than all of a full board is left out.
    An entry far older than the newest (a new simulator run) goes on top."""
    newest = board[0].sim_time_ms if board else None
    when = entry.sim_time_ms
    if newest is None or when is None or newest <= when or newest - when > RUN_JUMP_MS:
        board.appendleft(entry)
        return
    at = next((i for i, e in enumerate(board) if (e.sim_time_ms or 0) <= when), len(board))
    if len(board) == board.maxlen:
        if at == len(board):
            return
        board.pop()
    board.insert(at, entry)


#: run times outside this range (simulated ms) are not learned: a pause, a breakdown
#: or a replayed older run, not a run between two stations
RUN_MS_RANGE = (10_000, 20 * 60_000)
#: weight of a new observation in the learned run times (exponential moving average)
RUN_MS_WEIGHT = 0.3


def learn_run_time(state: DashboardState, line: str, from_id: int, to_id: int, run_ms: int) -> None:
    """Fold one observed run (arrival at ``from_id`` to arrival at ``to_id``) into the
    segment's and the line's moving averages."""
    low, high = RUN_MS_RANGE
    if not low <= run_ms <= high:
        return
    segment = (from_id, to_id)
    state.segment_run_ms[segment] = _average(state.segment_run_ms.get(segment), run_ms)
    state.line_run_ms[line] = _average(state.line_run_ms.get(line), run_ms)


def _average(old: float | None, new: int) -> float:
    return float(new) if old is None else old + RUN_MS_WEIGHT * (new - old)


# --------------------------------------------------------------------------- summary


def _summary_station(record: Record) -> int | None:
    value = record.value
    if isinstance(value, Mapping):
        sid = as_int(_field(value, "station_id"))
        if sid is not None:
            return sid
    key = record.key
    if isinstance(key, Mapping):
        return as_int(_field(key, "station_id"))
    return as_int(key)


def summary_station_id(record: Record) -> int | None:
    """The station a TURNSTILE_SUMMARY record counts (from its value, else its key)."""
    return _summary_station(record)


def _summary_count(value: Any) -> int | None:
    if isinstance(value, Mapping):
        return as_int(_field(value, "count", "entries", "total", "KSQL_COL_0"))
    return as_int(value)


def current_minute(state: DashboardState, now: float) -> int:
    """The minute entries are bucketed by: the simulated clock when known, else the wall clock."""
    if state.sim is not None and state.sim.sim_time_ms is not None:
        return state.sim.sim_time_ms // 60_000
    return int(now // 60)


def record_minute(state: DashboardState, timestamp_ms: int | None, now: float, minute: int) -> int | None:
    """The (simulated) minute a summary record written at ``timestamp_ms`` (wall) belongs
    to: the simulator's clock at its last status, wound back by the record's age at the
    simulator's speed (a fresh record: the current minute); the wall minute without a
    simulator.
    None when it predates the history kept (or the simulator's status): only a baseline."""
    if timestamp_ms is None:
        return minute
    sim = state.sim
    if sim is None or sim.sim_time_ms is None:
        at = int((timestamp_ms / 1000.0) // 60)
    else:
        speed = sim.speed if isinstance(sim.speed, int | float) and not sim.paused else None
        if speed is None or timestamp_ms / 1000.0 < sim.received_at - 3600:
            return None
        at = int(
            (sim.sim_time_ms - max(0.0, sim.received_at - timestamp_ms / 1000.0) * speed * 1000) // 60_000
        )
    return at if minute - HISTORY_MINUTES < at <= minute else None


def apply_summary(state: DashboardState, records: Iterable[Record], now: float) -> int:
    """TURNSTILE_SUMMARY: running entry count per station; the increase goes to the
    current minute's bucket of the station's entries-per-minute history."""
    changed = 0
    minute = current_minute(state, now)
    for record in records:
        if record.value is None:
            continue
        station_id = _summary_station(record)
        count = _summary_count(record.value)
        if station_id is None or count is None:
            state.topic(record.topic).malformed += 1
            continue
        previous = state.turnstile_counts.get(station_id)
        state.turnstile_counts[station_id] = count
        if previous is not None and count > previous:
            # a record read from the topic's history belongs to the minute it was written
            # in, not to this one (else the whole history lands in the first minute)
            at = record_minute(state, record.timestamp_ms, now, minute)
            if at is None:
                continue
            history = state.entries_history.setdefault(station_id, {})
            history[at] = history.get(at, 0) + (count - previous)
            if len(history) > HISTORY_MINUTES:
                for old in sorted(history)[: len(history) - HISTORY_MINUTES]:
                    del history[old]
        changed += 1
    return changed


def entries_per_minute(state: DashboardState, station_id: int, minute: int, n: int = 20) -> list[float]:
    """The last ``n`` minutes' entries at a station, oldest first, zeros where none."""
    history = state.entries_history.get(station_id, {})
    return [float(history.get(m, 0)) for m in range(minute - n + 1, minute + 1)]


# --------------------------------------------------------------------------- weather, sim


def apply_weather(state: DashboardState, records: Iterable[Record], now: float) -> int:
    changed = 0
    for record in records:
        value = record.value
        temp = _field(value, "temperature") if isinstance(value, Mapping) else None
        status = _field(value, "status") if isinstance(value, Mapping) else None
        if not isinstance(temp, int | float) or isinstance(temp, bool) or not isinstance(status, str):
            state.topic(record.topic).malformed += 1
            continue
        sim_time = _field(value, "sim_time")
        if sim_time is not None and not isinstance(sim_time, int):
            sim_time = int(sim_time.timestamp() * 1000) if hasattr(sim_time, "timestamp") else None
        clock = state.sim.sim_time_ms if state.sim is not None else None
        if _after(sim_time, clock):
            continue  # a reading from an earlier run that simulated further ahead
        current = state.weather.sim_time_ms if state.weather is not None else None
        if sim_time is not None and current is not None and sim_time < current and not _after(current, clock):
            continue  # older than the reading shown (the topic's last few are read at start)
        shown = state.weather
        if shown is not None and (shown.sim_time_ms, shown.temperature_f, shown.status) == (
            sim_time,
            float(temp),
            status,
        ):
            continue  # the same hour's reading again (a retried POST the proxy had written)
        state.weather = Weather(float(temp), status, sim_time, now)
        changed += 1
    return changed


#: how far a weather reading may be ahead of the simulator's clock (hourly readings)
WEATHER_AHEAD_MS = 3_600_000


def _after(sim_time: int | None, clock: int | None) -> bool:
    """Whether a reading is ahead of the simulator's clock: it comes from an earlier run
    (a new run of the same day starts at 05:00 again), so it is not today's weather."""
    return sim_time is not None and clock is not None and sim_time > clock + WEATHER_AHEAD_MS


def apply_sim_status(state: DashboardState, records: Iterable[Record], now: float) -> int:
    changed = 0
    for record in records:
        try:
            state.sim = SimStatus.from_json(record.value, received_at=now)
        except MalformedStatus:
            state.topic(record.topic).malformed += 1
            continue
        if state.weather is not None and _after(state.weather.sim_time_ms, state.sim.sim_time_ms):
            state.weather = None  # from another run: "no data yet" until this run's reading
        changed += 1
    return changed


# --------------------------------------------------------------------------- batches


def apply_predictions(state: DashboardState, records: Iterable[Record], now: float) -> int:
    return apply_prediction_records(state.predictions, records)


APPLIERS = {
    topics.STATIONS_TABLE: apply_stations,
    topics.ARRIVALS: apply_arrivals,
    topics.TURNSTILE_SUMMARY: apply_summary,
    topics.WEATHER: apply_weather,
    topics.SIM_STATUS: apply_sim_status,
    topics.PREDICTIONS: apply_predictions,
}

#: Stations first so that arrivals in the same batch find their stations.
APPLY_ORDER = (
    topics.STATIONS_TABLE,
    topics.SIM_STATUS,
    topics.ARRIVALS,
    topics.TURNSTILE_SUMMARY,
    topics.WEATHER,
)


def apply_records(state: DashboardState, topic: str, records: list[Record], now: float) -> int:
    """Apply one topic's records and update that topic's statistics."""
    stats = state.topic(topic)
    newest = max((r.timestamp_ms for r in records if r.timestamp_ms is not None), default=None)
    stats.count(len(records), now, newest / 1000.0 if newest is not None else (now if records else None))
    applier = APPLIERS.get(topic)
    return applier(state, records, now) if applier is not None else 0


def apply_batch(state: DashboardState, batch: Batch, now: float) -> int:
    """Apply every topic of a batch (stations first), its malformed counts and lag."""
    changed = 0
    ordered = [t for t in APPLY_ORDER if t in batch.records]
    ordered += [t for t in batch.records if t not in APPLY_ORDER]
    for topic in ordered:
        changed += apply_records(state, topic, batch.records[topic], now)
    for topic, n in batch.malformed.items():
        state.topic(topic).malformed += n
    for topic, lag in batch.lag.items():
        state.topic(topic).lag = lag
    return changed


def is_out_of_service(train: Train) -> bool:
    return train.status == OUT_OF_SERVICE
