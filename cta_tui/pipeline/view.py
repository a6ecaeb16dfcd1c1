"""What the pipeline screen prints (pure): topic freshness, rates, catch-up, uptime and sizes."""

from __future__ import annotations

from cta_core import topics
from cta_core.units import human_bytes, human_duration
from cta_tui.state.model import DashboardState

#: what a figure not known yet shows as
MISSING = "—"

#: Seconds without a message after which a topic is shown "stale" (None: never).
STALE_AFTER: dict[str, float | None] = {
    topics.ARRIVALS: 10.0,
    topics.TURNSTILE_SUMMARY: 15.0,
    topics.SIM_STATUS: 5.0,
    topics.WEATHER: 300.0,
    topics.STATIONS_TABLE: None,
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
        return MISSING
    if rate >= 1000:
        return f"{rate / 1000:.1f}k/s"
    return f"{rate:.0f}/s" if rate >= 10 else f"{rate:.1f}/s"


def format_catch_up(rate: float | None) -> str:
    if rate is None:
        return MISSING
    if abs(rate) < 0.05:
        return "steady"
    word = "catching up" if rate > 0 else "falling behind"
    return f"{word} {format_rate(abs(rate))}"


def format_uptime(seconds: float | None) -> str:
    return human_duration(seconds, missing=MISSING)


def format_bytes(n: int | None) -> str:
    return human_bytes(n, missing=MISSING)
