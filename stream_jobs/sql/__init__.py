"""SQL statements, one file each, read with :func:`statement`."""

from __future__ import annotations

from importlib.resources import files


def statement(name: str) -> str:
    """The text of ``stream_jobs/sql/<name>.sql``."""
    return files(__package__).joinpath(f"{name}.sql").read_text(encoding="utf-8")
