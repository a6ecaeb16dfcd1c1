"""One rich progress display per command, on stderr so stdout stays parseable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


def console() -> Console:
    return Console(stderr=True)


@contextmanager
def progress_display() -> Iterator[Progress]:
    out = console()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=out,
        transient=True,
        # a non-terminal (CI log, pipe, test) gets the result lines only
        disable=not out.is_terminal,
    ) as progress:
        yield progress
