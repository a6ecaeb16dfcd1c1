"""The pipeline screen's tables: services' health and per-topic feed statistics."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from cta_tui.common.synced import Row, SyncedTable
from cta_tui.feeds.source import DASHBOARD_TOPICS
from cta_tui.pipeline.view import topic_freshness
from cta_tui.state.model import DashboardState

#: Seconds between two changes of the per-topic figures: counts, rates and ages change
#: with every batch, and each change repaints the whole table; whole seconds are shown
TOPICS_PERIOD = 1.0


class ServicesTable(SyncedTable):
    def on_mount(self) -> None:
        self.cursor_type = "row"

    def _ensure_columns(self) -> None:
        if not self.columns:
            self.add_columns("service", "health", "detail")

    def show(self, state: DashboardState, bootstrap: str) -> None:
        rows: list[Row] = []
        if state.feed_error:
            kafka = (Text("✖ down", style="bold red"), state.feed_error[:60])
        elif state.feed_connected:
            kafka = (Text("✔ ok"), bootstrap)
        else:
            kafka = (Text("… connecting", style="dim"), bootstrap)
        rows.append(("Kafka broker", ("Kafka broker", *kafka)))
        if not state.services:
            rows.append((None, ("HTTP services", Text("not checked yet", style="dim"), "")))
        for service in state.services.values():
            if service.ok:
                health = Text("✔ ok")
            elif service.optional:
                health = Text("– not used", style="dim")
            else:
                health = Text("✖ down", style="bold red")
            rows.append((None, (service.name, health, service.detail)))
        self.set_rows(rows)


class TopicsTable(SyncedTable):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: (state clock) when the figures were last shown
        self._shown_at: float | None = None

    def on_mount(self) -> None:
        self.cursor_type = "row"

    def _ensure_columns(self) -> None:
        if not self.columns:
            self.add_columns("topic", "state", "last msg", "msg/s", "msgs", "malformed", "lag")

    def show(self, state: DashboardState, now: float) -> None:
        """The figures as of ``now``, at most once every :data:`TOPICS_PERIOD`."""
        if self._shown_at is not None and 0 <= now - self._shown_at < TOPICS_PERIOD:
            return
        self._shown_at = now
        rows: list[Row] = []
        for topic in DASHBOARD_TOPICS:
            stats = state.topics.get(topic)
            fresh = topic_freshness(state, topic, now)
            style = "bold" if fresh.startswith("stale") else ("dim" if fresh == "no data yet" else "")
            age = stats.age(now) if stats is not None else None
            cells = (
                topic.removeprefix("org.chicago.cta."),
                Text(fresh, style=style),
                "—" if age is None else f"{age:.0f} s ago",
                "—" if stats is None else f"{stats.rate(now):.1f}",
                "0" if stats is None else f"{stats.messages:,}",
                "0" if stats is None else str(stats.malformed),
                "—" if stats is None or stats.lag is None else f"{stats.lag:,}",
            )
            rows.append((topic, cells))
        self.set_rows(rows)
