"""Day types and headways by time of day (peak, off-peak, overnight), configurable."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from producers_sim.clock import CHICAGO


class DayType(StrEnum):
    WEEKDAY = "weekday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"  # Sundays and holidays


class Period(StrEnum):
    PEAK = "peak"
    OFFPEAK = "offpeak"
    OVERNIGHT = "overnight"


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(weekday - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


def _last_weekday(year: int, month: int, weekday: int) -> date:
    d = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() - weekday) % 7)


def cta_holidays(year: int) -> set[date]:
    """The holidays on which the CTA runs a Sunday schedule."""
    return {
        date(year, 1, 1),
        _last_weekday(year, 5, 0),  # Memorial Day
        date(year, 7, 4),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        date(year, 12, 25),
    }


def day_type(d: date) -> DayType:
    if d in cta_holidays(d.year) or d.weekday() == 6:
        return DayType.SUNDAY
    if d.weekday() == 5:
        return DayType.SATURDAY
    return DayType.WEEKDAY


def period(dt: datetime) -> Period:
    """Overnight 23:00-05:00; peak 06:00-09:00 and 15:00-18:30 on weekdays; otherwise off-peak."""
    minutes = dt.hour * 60 + dt.minute
    if minutes < 5 * 60 or minutes >= 23 * 60:
        return Period.OVERNIGHT
    if day_type(dt.date()) is DayType.WEEKDAY and (
        6 * 60 <= minutes < 9 * 60 or 15 * 60 <= minutes < 18 * 60 + 30
    ):
        return Period.PEAK
    return Period.OFFPEAK


#: Minutes between trains, per line (Green: on the shared trunk; each branch gets double).
DEFAULT_HEADWAYS: dict[Period, dict[str, float]] = {
    Period.PEAK: {
        "red": 4, "blue": 5, "green": 6, "brown": 5, "purple": 8, "yellow": 10, "pink": 7, "orange": 6,
    },
    Period.OFFPEAK: {
        "red": 7, "blue": 8, "green": 9, "brown": 8, "purple": 12, "yellow": 15, "pink": 10, "orange": 9,
    },
    Period.OVERNIGHT: {
        "red": 15, "blue": 15, "green": 20, "brown": 20, "purple": 20, "yellow": 20, "pink": 20, "orange": 20,
    },
}  # fmt: skip


@dataclass(frozen=True)
class HeadwayPlan:
    """Headways in minutes per period and line."""

    minutes: dict[Period, dict[str, float]] = field(default_factory=lambda: DEFAULT_HEADWAYS)

    def with_overrides(
        self, peak: float | None = None, offpeak: float | None = None, overnight: float | None = None
    ) -> HeadwayPlan:
        """A plan where a given period uses one headway for every line."""
        out = {p: dict(v) for p, v in self.minutes.items()}
        for p, value in ((Period.PEAK, peak), (Period.OFFPEAK, offpeak), (Period.OVERNIGHT, overnight)):
            if value is not None:
                if value <= 0:
                    raise ValueError("headways must be > 0 minutes")
                out[p] = {line: float(value) for line in out[p]}
        return replace(self, minutes=out)

    def headway_s(self, line: str, t: float) -> float:
        """Seconds between trains on ``line`` at simulated epoch time ``t``."""
        p = period(datetime.fromtimestamp(t, CHICAGO))
        return float(self.minutes[p][line]) * 60.0
