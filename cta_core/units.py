"""Durations and sizes as people read them (``3m07s``, ``1.5 MB``), for every command
and screen that shows an uptime or a data size."""

from __future__ import annotations

#: what a missing figure shows as, unless the caller says otherwise
MISSING = "-"


def human_duration(seconds: float | None, missing: str = MISSING) -> str:
    """``42s``, ``3m07s`` or ``2h05m`` (whole seconds, rounded down)."""
    if seconds is None:
        return missing
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def human_bytes(n: int | None, missing: str = MISSING) -> str:
    """``512 B``, ``1.5 KB`` … ``3.2 GB`` (binary multiples; GB is the largest unit)."""
    if n is None:
        return missing
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
