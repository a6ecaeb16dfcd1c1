"""What the pipeline screen shows about jobs and consumer groups (pure: no Kafka, no IO).

The probe (:mod:`cta_tui.feeds.pipeline_probe`) takes :class:`OffsetsSample` s a few
seconds apart; :func:`group_lags` and :func:`topic_rates` turn two samples into lag
and rates. "Catch-up" is how fast a group's lag shrinks (negative: it falls behind).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: (topic, partition)
TP = tuple[str, int]


@dataclass(frozen=True)
class OffsetsSample:
    """End offsets of topics and committed offsets of groups, read at ``at`` (seconds)."""

    at: float
    end: Mapping[TP, int] = field(default_factory=dict)
    #: group -> (topic, partition) -> committed offset
    committed: Mapping[str, Mapping[TP, int]] = field(default_factory=dict)
    #: group -> its state as the broker says (Stable, Empty ...)
    group_state: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupLag:
    group: str
    topic: str
    lag: int
    state: str = ""
    #: records committed per second (None on the first sample)
    consumed_rate: float | None = None
    #: lag shrinking per second; negative when the group falls behind
    catch_up: float | None = None


@dataclass(frozen=True)
class JobView:
    """One row of the jobs table."""

    name: str
    state: str
    label: str
    pid: int | None = None
    uptime_s: float | None = None
    restarts: int = 0
    #: events per second it produces (↑) and consumes (↓)
    produced_rate: float | None = None
    consumed_rate: float | None = None
    #: topic -> lag of the job's consumer group
    lag: Mapping[str, int] = field(default_factory=dict)
    detail: str = ""
    oneshot: bool = False
    #: the topics it writes, its main one first (the pipeline's ``t`` tails that one)
    produces: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConnectorView:
    name: str
    state: str
    tasks: tuple[str, ...] = ()
    trace: str | None = None


@dataclass(frozen=True)
class SlotView:
    name: str
    active: bool
    lag_bytes: int | None


@dataclass(frozen=True)
class PipelineSnapshot:
    at: float
    jobs: tuple[JobView, ...] = ()
    groups: tuple[GroupLag, ...] = ()
    connectors: tuple[ConnectorView, ...] = ()
    slots: tuple[SlotView, ...] = ()
    #: problems reading Kafka, Connect or PostgreSQL (shown, never raised)
    errors: tuple[str, ...] = ()


def _lag(end: Mapping[TP, int], committed: Mapping[TP, int], topic: str) -> int | None:
    total = None
    for (t, p), offset in committed.items():
        if t != topic or offset < 0:
            continue
        high = end.get((t, p))
        if high is None:
            continue
        total = (total or 0) + max(0, high - offset)
    return total


def _sum_topic(offsets: Mapping[TP, int], topic: str) -> int:
    return sum(o for (t, _p), o in offsets.items() if t == topic and o >= 0)


def group_lags(prev: OffsetsSample | None, cur: OffsetsSample) -> list[GroupLag]:
    """Lag per (group, topic) for every committed topic whose end offsets are known."""
    out = []
    dt = cur.at - prev.at if prev is not None else 0.0
    for group in sorted(cur.committed):
        offsets = cur.committed[group]
        for topic in sorted({t for t, _ in offsets}):
            lag = _lag(cur.end, offsets, topic)
            if lag is None:
                continue
            rate = catch_up = None
            if prev is not None and dt > 0 and group in prev.committed:
                before = prev.committed[group]
                rate = max(0.0, (_sum_topic(offsets, topic) - _sum_topic(before, topic)) / dt)
                prev_lag = _lag(prev.end, before, topic)
                if prev_lag is not None:
                    catch_up = (prev_lag - lag) / dt
            out.append(GroupLag(group, topic, lag, cur.group_state.get(group, ""), rate, catch_up))
    return out


def topic_rates(prev: OffsetsSample | None, cur: OffsetsSample) -> dict[str, float]:
    """Records produced per second on each topic between the two samples."""
    if prev is None or cur.at <= prev.at:
        return {}
    topics = {t for t, _ in cur.end}
    out = {}
    for topic in topics:
        shared = [tp for tp in cur.end if tp[0] == topic and tp in prev.end]
        if shared:
            out[topic] = max(0, sum(cur.end[tp] - prev.end[tp] for tp in shared)) / (cur.at - prev.at)
    return out


def job_rates(
    produces: Iterable[str],
    group: str | None,
    rates: Mapping[str, float],
    lags: Iterable[GroupLag],
) -> tuple[float | None, float | None, dict[str, int]]:
    """(produced/s, consumed/s, lag per topic) of one job."""
    produced_parts = [rates[t] for t in produces if t in rates]
    produced = sum(produced_parts) if produced_parts else None
    mine = [g for g in lags if group is not None and g.group == group]
    consumed_parts = [g.consumed_rate for g in mine if g.consumed_rate is not None]
    consumed = sum(consumed_parts) if consumed_parts else None
    return produced, consumed, {g.topic: g.lag for g in mine}
