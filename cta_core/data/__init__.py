"""The CTA data cta-live ships, one copy of each file: the 'L' stops, each line's
station sequence and the ridership figures. Sources and known quirks: README.md in
this folder."""

from __future__ import annotations

from importlib import resources


def read_text(name: str) -> str:
    """The packaged file ``name`` (e.g. ``"cta_lines.csv"``) as text."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
