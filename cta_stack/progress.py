"""Progress of bringing the stack and the jobs up, as one rich line per service or job
(``cta-stack up`` and ``cta-tui up``)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column

from cta_stack.jars import downloaded_file

_STYLE = {
    "healthy": "green",
    "failed": "red",
    "starting": "yellow",
    "waiting": "dim",
    "checking": "cyan",
    "fetching": "cyan",
    "fetched": "green",
    "running": "green",
    "done": "green",
    "skipped": "dim",
}


class ProgressReporter:
    """Renders :class:`cta_stack.stack.Reporter` events as one rich progress line per service."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}
        self.downloads: dict[str, int] = {}

    def _task(self, name: str) -> TaskID:
        if name not in self.tasks:
            self.tasks[name] = self.progress.add_task(name, total=1, state="", detail="")
        return self.tasks[name]

    def service(self, name: str, state: str, detail: str = "") -> None:
        style = _STYLE.get(state, "white")
        done = state in ("healthy", "fetched", "failed", "stopped", "running", "done", "skipped")
        self.progress.update(
            self._task(name),
            state=f"[{style}]{state}[/]",
            detail=detail[:90],
            completed=1 if done else 0,
        )

    def fetch_line(self, jar_set: str, line: str) -> None:
        """Maven's output, condensed: how many files each jar set has downloaded, and the latest."""
        name = downloaded_file(line)
        if name is not None:
            self.downloads[jar_set] = self.downloads.get(jar_set, 0) + 1
            counts = ", ".join(f"{s}: {n} files" for s, n in self.downloads.items())
            self.progress.update(self._task("jars"), detail=f"{counts}, {name}"[:90])


def progress_display(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(finished_text="•"),
        TextColumn("[bold]{task.description}", table_column=Column(min_width=15, no_wrap=True)),
        TextColumn("{task.fields[state]}", table_column=Column(min_width=8, no_wrap=True)),
        TimeElapsedColumn(table_column=Column(min_width=7, no_wrap=True)),
        TextColumn(
            "[dim]{task.fields[detail]}", table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis")
        ),
        console=console,
        transient=False,
    )
