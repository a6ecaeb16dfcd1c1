"""Accuracy of predictions against the arrivals that followed (pure; the benchmark's core).

A prediction is scored when its train later arrives at its station: the error is the
actual arrival minus the predicted one, bucketed by horizon (predicted minus generated).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cta_core.records.arrival import Arrival
from cta_core.records.prediction import Prediction
from stream_jobs.predict.baseline import CtaMethod
from stream_jobs.predict.estimator import Estimator
from stream_jobs.predict.routes import LineMap

BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("0-2 min", 0.0, 120.0),
    ("2-5 min", 120.0, 300.0),
    ("5-10 min", 300.0, 600.0),
    ("10-15 min", 600.0, 900.0),
)
#: a train that has not arrived this long after its prediction's horizon never will
MATCH_WINDOW_S = 3600.0


@dataclass(frozen=True)
class Bucket:
    name: str
    n: int
    mae: float
    p50: float
    p90: float
    within_60: float


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    i = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[i]


def summarize(errors: dict[str, list[float]]) -> list[Bucket]:
    """Per-bucket and overall figures from absolute errors in seconds."""
    out = []
    everything: list[float] = []
    for name, _, _ in BUCKETS:
        errs = sorted(errors.get(name, []))
        everything += errs
        out.append(_bucket(name, errs))
    out.append(_bucket("all", sorted(everything)))
    return out


def _bucket(name: str, errs: list[float]) -> Bucket:
    n = len(errs)
    return Bucket(
        name,
        n,
        sum(errs) / n if n else math.nan,
        _quantile(errs, 0.5),
        _quantile(errs, 0.9),
        sum(1 for e in errs if e <= 60.0) / n if n else math.nan,
    )


def bucket_of(horizon_s: float) -> str | None:
    for name, lo, hi in BUCKETS:
        if lo <= horizon_s < hi:
            return name
    return "0-2 min" if horizon_s < 0 else None


class Actuals:
    """When each train arrived at each station."""

    def __init__(self, arrivals: Iterable[Arrival]):
        self._times: dict[tuple[str, int, str], list[float]] = {}
        for a in arrivals:
            self._times.setdefault((a.train_id, a.station_id, a.direction), []).append(a.t)
        for times in self._times.values():
            times.sort()

    def next_arrival(self, train_id: str, station_id: int, direction: str, after: float) -> float | None:
        """The train's first arrival at the station in that direction after ``after`` (a Loop
        line's train passes its outer stations twice, once each way)."""
        times = self._times.get((train_id, station_id, direction))
        if not times:
            return None
        i = bisect.bisect_right(times, after)
        if i < len(times) and times[i] - after <= MATCH_WINDOW_S:
            return times[i]
        return None


@dataclass
class Comparison:
    """Errors of the estimator and of the CTA method on the same (generated, train, station)."""

    ours: dict[str, list[float]]
    cta: dict[str, list[float]]
    #: the estimator's every published prediction, ticks included
    ours_all: dict[str, list[float]]
    arrivals: int
    published: int
    #: the CTA method's eta (s) per arrival-triggered point (train, generated ms, station, direction)
    cta_at: dict[tuple[str, int, int, str], float] = field(default_factory=dict)


def replay(
    arrivals: list[Arrival], line_map: LineMap, tick_s: float = 30.0
) -> Iterator[tuple[str, Arrival | None, list[Prediction], dict[tuple[int, str], float]]]:
    """Run the estimator and the CTA method over time-ordered arrivals.

    Yields ("arrival", arrival, our predictions, CTA etas for the same stations) and
    ("tick", None, our re-published predictions, {}).
    """
    est = Estimator(line_map)
    cta = CtaMethod(line_map)
    next_tick = -math.inf
    for a in arrivals:
        if a.t >= next_tick:
            if math.isfinite(next_tick):
                yield "tick", None, est.tick(next_tick), {}
            next_tick = (a.t // tick_s + 1) * tick_s
        preds = est.observe(a)
        cta.observe(a)
        etas = cta.etas(a.train_id, {(p.station_id, p.direction) for p in preds}) if preds else {}
        yield "arrival", a, preds, etas


def compare(arrivals: list[Arrival], line_map: LineMap, tick_s: float = 30.0) -> Comparison:
    arrivals = sorted(arrivals, key=lambda a: a.t)
    actual = Actuals(arrivals)
    ours: dict[str, list[float]] = {}
    cta: dict[str, list[float]] = {}
    ours_all: dict[str, list[float]] = {}
    published = 0
    cta_at: dict[tuple[str, int, int, str], float] = {}
    for kind, _, preds, etas in replay(arrivals, line_map, tick_s):
        published += len(preds)
        for p in preds:
            generated_t, predicted_t = p.generated_ms / 1000.0, p.predicted_ms / 1000.0
            t = actual.next_arrival(p.train_id, p.station_id, p.direction, generated_t)
            if t is None:
                continue
            name = bucket_of(predicted_t - generated_t)
            if name is None:
                continue
            err = abs(t - predicted_t)
            ours_all.setdefault(name, []).append(err)
            if kind == "arrival":
                ours.setdefault(name, []).append(err)
                c = etas.get((p.station_id, p.direction))
                if c is not None:
                    cta.setdefault(name, []).append(abs(t - c))
                    cta_at[(p.train_id, p.generated_ms, p.station_id, p.direction)] = c
    return Comparison(ours, cta, ours_all, len(arrivals), published, cta_at)
