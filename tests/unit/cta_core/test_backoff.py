from __future__ import annotations

import pytest

from cta_core.backoff import Backoff


def test_doubles_up_to_the_ceiling_and_resets() -> None:
    b = Backoff(0.25, 3.0)
    assert [b.next() for _ in range(6)] == [0.25, 0.5, 1.0, 2.0, 3.0, 3.0]
    b.reset()
    assert b.next() == 0.25


def test_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(0, 1)
    with pytest.raises(ValueError):
        Backoff(2, 1)
