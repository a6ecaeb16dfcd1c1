"""The CTA's published method (2011), the benchmark's baseline: the mean of the last
five trains' times over each portion of track, added up ahead of each train.

Pure, fed the same arrivals as :class:`~stream_jobs.predict.estimator.Estimator`.
Segment times are arrival to arrival, as the estimator's, taken as they come (a held
train's long time counts like any other); before a segment has a time, the line map's
scheduled estimate is used.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from cta_core.records.arrival import OUT_OF_SERVICE, Arrival
from stream_jobs.predict.estimator import Position
from stream_jobs.predict.routes import LOOP_LINES, LineMap

LAST_N = 5


@dataclass
class CtaMethod:
    line_map: LineMap
    samples: dict[tuple[str, str, int, int], deque[float]] = field(default_factory=dict)
    trains: dict[str, Position] = field(default_factory=dict)

    def segment(self, line: str, direction: str, prev: int, station: int) -> float:
        dq = self.samples.get((line, direction, prev, station))
        if dq:
            return sum(dq) / len(dq)
        return self.line_map.scheduled_s(line, prev, station)

    def observe(self, a: Arrival) -> None:
        prev = self.trains.get(a.train_id)
        if (
            prev is not None
            and a.prev_station_id == prev.station_id
            and a.t > prev.t
            and self.line_map.index.get((prev.line, prev.branch or "main", prev.direction, prev.station_id))
            and (a.direction == prev.direction or (a.line in LOOP_LINES and prev.direction == "a"))
        ):
            key = (a.line, a.direction, prev.station_id, a.station_id)
            dq = self.samples.get(key)
            if dq is None:
                dq = self.samples[key] = deque(maxlen=LAST_N)
            dq.append(a.t - prev.t)
        if a.train_status == OUT_OF_SERVICE:
            self.trains.pop(a.train_id, None)
        else:
            self.trains[a.train_id] = Position(
                a.line, a.branch, a.direction, a.station_id, a.t, a.train_status, a.seq
            )

    def etas(self, train_id: str, stops: set[tuple[int, str]]) -> dict[tuple[int, str], float]:
        """Predicted arrivals of the train at ``stops`` (station, direction) on its route."""
        p = self.trains.get(train_id)
        out: dict[tuple[int, str], float] = {}
        if p is None:
            return out
        eta, prev = p.t, p.station_id
        for sid, d in self.line_map.ahead(p.line, p.branch, p.direction, p.station_id):
            eta += self.segment(p.line, d, prev, sid)
            if (sid, d) in stops:
                out.setdefault((sid, d), eta)
                if len(out) == len(stops):
                    break
            prev = sid
        return out
