"""How the feeds put a failure on screen: its first line, cut to fit."""

from __future__ import annotations


def short_error(exc: BaseException, limit: int = 80) -> str:
    """The exception's first line (its type's name when it has no text), at most ``limit``
    characters."""
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:limit]
