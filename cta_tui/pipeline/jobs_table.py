"""The pipeline screen's job table and consumer-group lag table."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from cta_tui.common.synced import Row, SyncedTable
from cta_tui.pipeline.view import format_bytes, format_catch_up, format_rate, format_uptime
from cta_tui.state.lag_trend import GROWING, STEADY, LagHistory
from cta_tui.state.pipeline_jobs import JobView, PipelineSnapshot

_STATE_STYLE = {
    "running": "green",
    "stopped": "yellow",
    "exited": "",
    "failed": "bold red",
    "not started": "dim",
    "not installed": "dim",
}


def short_topic(topic: str) -> str:
    return topic.removeprefix("org.chicago.cta.")


def rate_text(job: JobView) -> str:
    parts = []
    if job.produced_rate is not None:
        parts.append(f"↑{format_rate(job.produced_rate)}")
    if job.consumed_rate is not None:
        parts.append(f"↓{format_rate(job.consumed_rate)}")
    return " ".join(parts) or "—"


def lag_text(job: JobView) -> str:
    if not job.lag:
        return "—"
    return f"{sum(job.lag.values()):,}"


def lag_cell(job: JobView, trend: str) -> str | Text:
    """The lag column: the total, and while it moves an arrow (a growing lag in the
    warning colour: the job falls behind); kept within the column's 7 characters."""
    text = lag_text(job)
    if trend == STEADY or not job.lag:
        return text
    total = sum(job.lag.values())
    if len(text) >= 7:
        text = f"{total / 1e6:.1f}M" if total >= 1e6 else f"{total // 1000}k"
    return Text(text + trend, style="bold yellow" if trend == GROWING else "")


def connector_detail(snapshot: PipelineSnapshot) -> str:
    """The connector job's extra: each connector's tasks and each replication slot's lag."""
    parts = []
    for c in snapshot.connectors:
        tasks = ", ".join(c.tasks) or "no tasks"
        parts.append(f"{c.name} {c.state}, tasks {tasks}")
    for s in snapshot.slots:
        parts.append(f"slot {s.name} lag {format_bytes(s.lag_bytes)}{'' if s.active else ' (inactive)'}")
    return "; ".join(parts)


class JobsTable(SyncedTable):
    """One row per job, keyed by the job's name (the cursor stays on its job)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lag_history = LagHistory()

    def on_mount(self) -> None:
        self.cursor_type = "row"

    def _ensure_columns(self) -> None:
        if not self.columns:
            # fixed widths (values change every few seconds; the columns must not jump)
            for label, width in (
                ("job", 9),
                ("state", 13),
                ("pid", 7),
                ("up", 6),
                ("rst", 3),
                ("rate", 15),
                ("lag", 7),
                ("detail", None),
            ):
                self.add_column(label, key=label, width=width)

    @property
    def selected(self) -> str | None:
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    def show(self, snapshot: PipelineSnapshot) -> None:
        connector = connector_detail(snapshot)
        self.lag_history.add(snapshot.at, {j.name: sum(j.lag.values()) for j in snapshot.jobs if j.lag})
        rows: list[Row] = []
        for job in snapshot.jobs:
            style = _STATE_STYLE.get(job.state, "")
            detail = connector if job.name == "connector" and connector else job.detail
            cells: list[str | Text] = [
                job.name,
                Text(job.label, style=style),
                str(job.pid) if job.pid else "—",
                format_uptime(job.uptime_s),
                str(job.restarts),
                rate_text(job),
                lag_cell(job, self.lag_history.trend(job.name)),
                detail,
            ]
            rows.append((job.name, cells))
        self.set_rows(rows)  # the same jobs: their changed cells only (the cursor stays)


class GroupLagTable(SyncedTable):
    """Lag of every consumer group reading the pipeline's topics, and how it moves."""

    def on_mount(self) -> None:
        self.cursor_type = "row"

    def show(self, snapshot: PipelineSnapshot) -> None:
        if not self.columns:
            self.add_columns("group", "topic", "state", "lag", "consumed", "trend")
        rows: list[Row] = []
        for i, g in enumerate(snapshot.groups):
            trend = format_catch_up(g.catch_up)
            style = (
                "red" if trend.startswith("falling") else ("green" if trend.startswith("catching") else "")
            )
            cells = (
                g.group,
                short_topic(g.topic),
                g.state,
                f"{g.lag:,}",
                format_rate(g.consumed_rate),
                Text(trend, style=style),
            )
            rows.append((f"{i}\t{g.topic}", cells))
        self.set_rows(rows)

    @property
    def selected_topic(self) -> str | None:
        """The highlighted row's topic (for the tail)."""
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value).split("\t", 1)[1]
