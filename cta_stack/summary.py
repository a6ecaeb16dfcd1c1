"""The parts of the summary lines ``cta-stack up`` and ``cta-tui up`` print when done."""

from __future__ import annotations

from collections.abc import Sequence


def listed(*groups: tuple[str, Sequence[str]]) -> list[str]:
    """``label`` followed by the names, for each group that names something
    (``listed(("started ", ["kafka"]), ("skipped: ", []))`` is ``["started kafka"]``)."""
    return [f"{label}{', '.join(names)}" for label, names in groups if names]
