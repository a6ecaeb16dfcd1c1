"""Whether a job's consumer lag keeps growing (pure: no Kafka, no Textual).

A job that falls behind (the simulator sped up past what it counts) shows it as a lag
that grows sample after sample. Committed offsets move in steps (a worker commits every
few seconds), so one sample to the next says little: the trend compares the lowest lag of
the later half of a window of samples with the lowest of its earlier half, and needs
the change to be large both in events and against the lag itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: seconds of samples the trend looks at
WINDOW_S = 20.0
#: the shortest span of samples that makes a trend
MIN_SPAN_S = 8.0
#: events the lag must move by (noise below this is "steady")
MIN_CHANGE = 2_000
#: and as a fraction of the lag at the window's start
MIN_RATIO = 0.25

GROWING, SHRINKING, STEADY = "↑", "↓", ""


def lag_trend(samples: Iterable[tuple[float, int]]) -> str:
    """GROWING, SHRINKING or STEADY for (seconds, lag) samples in time order: the lowest
    lag of the window's later half against the lowest of its earlier half (the floor of
    a lag that saws with each commit)."""
    window = list(samples)
    if not window:
        return STEADY
    window = [(t, lag) for t, lag in window if t >= window[-1][0] - WINDOW_S]
    if len(window) < 3 or window[-1][0] - window[0][0] < MIN_SPAN_S:
        return STEADY
    half = len(window) // 2
    before = min(lag for _, lag in window[:half])
    after = min(lag for _, lag in window[half:])
    change = after - before
    if abs(change) < max(MIN_CHANGE, MIN_RATIO * max(before, after)):
        return STEADY
    return GROWING if change > 0 else SHRINKING


@dataclass
class LagHistory:
    """The recent total lag of each job, one sample per pipeline snapshot."""

    samples: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)

    def add(self, at: float, lags: Mapping[str, int]) -> None:
        """Record each job's total lag at ``at`` (jobs without lag are forgotten)."""
        for name in [n for n in self.samples if n not in lags]:
            del self.samples[name]
        for name, lag in lags.items():
            history = self.samples.setdefault(name, deque())
            history.append((at, lag))
            while history and history[0][0] < at - WINDOW_S:
                history.popleft()

    def trend(self, name: str) -> str:
        return lag_trend(self.samples.get(name, ()))
