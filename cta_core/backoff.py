"""Exponential backoff for retry loops that wait in their own way (a stop event, a
cancelled worker): the delays only, no sleeping here."""

from __future__ import annotations


class Backoff:
    """``initial``, doubling on each :meth:`next` up to ``ceiling``; :meth:`reset` after
    a success starts again from ``initial``."""

    def __init__(self, initial: float = 0.5, ceiling: float = 10.0) -> None:
        if not 0 < initial <= ceiling:
            raise ValueError(f"backoff wants 0 < initial <= ceiling, got {initial} and {ceiling}")
        self.initial = initial
        self.ceiling = ceiling
        self.delay = initial

    def next(self) -> float:
        """The delay to wait now; the one after it is twice as long (at most ``ceiling``)."""
        delay = self.delay
        self.delay = min(delay * 2, self.ceiling)
        return delay

    def reset(self) -> None:
        self.delay = self.initial
