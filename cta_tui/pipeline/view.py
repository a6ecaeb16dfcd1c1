"""What the pipeline screen prints (pure): topic freshness, rates, catch-up, uptime and sizes."""

from __future__ import annotations

from cta_tui.state.model import DashboardState

#: Seconds without a message after which a topic is shown "stale" (None: never).
STALE_AFTER: dict[str, float | None] = {
    "org.chicago.cta.station.arrivals.v1": 10.0,
    "TURNSTILE_SUMMARY": 15.0,
    "org.chicago.cta.sim.status.v1": 5.0,
    "org.chicago.cta.weather.v1": 300.0,
    "org.chicago.cta.stations.table.v1": None,
}


def topic_freshness(state: DashboardState, topic: str, now: float) -> str:
    """ "12 msg/s", "stale 12 s" or "no data yet" for the pipeline screen."""
    stats = state.topics.get(topic)
    if stats is None or stats.last_message_at is None:
        return "no data yet"
    age = stats.age(now) or 0.0
    limit = STALE_AFTER.get(topic)
    if limit is not None and age > limit:
        return f"stale {age:.0f} s"
    return "ok"


def format_rate(rate: float | None) -> str:
    if rate is None:
        return "—"
    if rate >= 1000:
        return f"{rate / 1000:.1f}k/s"
    return f"{rate:.0f}/s" if rate >= 10 else f"{rate:.1f}/s"


def format_catch_up(rate: float | None) -> str:
    if rate is None:
        return "—"
    if abs(rate) < 0.05:
        return "steady"
    word = "catching up" if rate > 0 else "falling behind"
    return f"{word} {format_rate(abs(rate))}"


def format_uptime(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def format_bytes(n: int | None) -> str:
    if n is None:
        return "—"
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
