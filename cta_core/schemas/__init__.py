"""The Avro schemas of the topic contract, shipped as ``.avsc`` files."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

ARRIVAL_KEY = "arrival_key"
ARRIVAL_VALUE = "arrival_value"
TURNSTILE_KEY = "turnstile_key"
TURNSTILE_VALUE = "turnstile_value"
WEATHER_KEY = "weather_key"
WEATHER_VALUE = "weather_value"
PREDICTION_KEY = "prediction_key"
PREDICTION_VALUE = "prediction_value"

ALL = (
    ARRIVAL_KEY,
    ARRIVAL_VALUE,
    TURNSTILE_KEY,
    TURNSTILE_VALUE,
    WEATHER_KEY,
    WEATHER_VALUE,
    PREDICTION_KEY,
    PREDICTION_VALUE,
)


@cache
def schema_text(name: str) -> str:
    """The ``.avsc`` file's text, as registered with the Schema Registry."""
    if name not in ALL:
        raise KeyError(f"unknown schema {name!r}; known: {', '.join(ALL)}")
    return resources.files(__name__).joinpath(f"{name}.avsc").read_text(encoding="utf-8")


def schema_dict(name: str) -> dict[str, Any]:
    """The parsed schema (a fresh copy each call)."""
    parsed: dict[str, Any] = json.loads(schema_text(name))
    return parsed
