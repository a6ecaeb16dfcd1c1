"""The status bar's readouts (pure): the simulator's speed and the weather."""

from __future__ import annotations

from cta_tui.state.model import DashboardState


def format_speed(speed: float | str | None) -> str:
    if speed is None:
        return "?"
    if isinstance(speed, str):
        return speed
    return f"{speed:g}x"


def format_temperature(state: DashboardState, celsius: bool) -> str:
    w = state.weather
    if w is None:
        return "weather: no data yet"
    if celsius:
        return f"{w.temperature_c:.0f}°C {w.status.replace('_', ' ')}"
    return f"{w.temperature_f:.0f}°F {w.status.replace('_', ' ')}"
