"""Durations and sizes as the stack's status table and the pipeline screen show them."""

from __future__ import annotations

import pytest

from cta_core.units import human_bytes, human_duration


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "-"), (0, "0s"), (59.9, "59s"), (60, "1m00s"), (187, "3m07s"), (3599, "59m59s"), (7500, "2h05m")],
)
def test_durations(seconds: float | None, shown: str) -> None:
    assert human_duration(seconds) == shown


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (None, "-"),
        (0, "0 B"),
        (1023, "1023 B"),
        (1536, "1.5 KB"),
        (5 * 1024**2, "5.0 MB"),
        (3 * 1024**4, "3072.0 GB"),
    ],
)
def test_sizes(n: int | None, shown: str) -> None:
    assert human_bytes(n) == shown


def test_missing_figure_shown_as_the_caller_says() -> None:
    assert human_duration(None, missing="—") == "—"
    assert human_bytes(None, missing="—") == "—"
