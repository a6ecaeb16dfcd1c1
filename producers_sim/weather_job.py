"""cta-weather: hourly weather readings through the REST Proxy, as a job of its own.

Its clock follows the simulator's status topic once a simulator is running (so pause
and speed apply, and a new run starts its hours again); until then, or with
``--no-follow-sim``, its own ``--start``/``--speed`` clock. Each reading is keyed by its
simulated hour. The POSTs are retried with exponential backoff
(:class:`~producers_sim.publishers.weather_publisher.WeatherPublisher`); a retry of a
POST the proxy had in fact written can put a second record for the same hour on the
topic, and the readers drop it where that is cheapest: the dashboard shows one reading
per hour key (``cta_tui.state.reducers.apply_weather``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import signal
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import click

from cta_core import topics
from cta_core.cli_base import CtaCommand
from cta_core.cli_options import (
    KAFKA,
    REST_PROXY,
    aliased,
    broker_wait_option,
    connection_options,
    count_option,
    deprecated_alias,
    settings_from_options,
    topic_suffix_option,
)
from cta_core.settings import Settings
from producers_sim.cli import speed_cb, start_cb
from producers_sim.clock import CHICAGO, SimClock
from producers_sim.weather import Weather
from producers_sim.weather_clock import FollowedStatus, due_hours

log = logging.getLogger("producers_sim.weather_job")

#: a status older than this (wall seconds) at start is from a simulator no longer running
STALE_STATUS_S = 10.0
STEP_S = 0.2


class StatusFollower:
    """The latest simulator status, read in a background thread (its own consumer, no group
    commits, starting from the topic's last status)."""

    def __init__(self, settings: Settings, topic: str = topics.SIM_STATUS):
        self.settings = settings
        self.topic = topic
        self.latest: FollowedStatus | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cta-weather-status", daemon=True)

    def start(self) -> StatusFollower:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        from confluent_kafka import OFFSET_END, TopicPartition

        from cta_core.kafka_clients import make_consumer

        consumer = make_consumer(
            self.settings, f"cta-weather-{time.time_ns()}", **{"enable.partition.eof": False}
        )
        try:
            tp = TopicPartition(self.topic, 0)
            try:
                low, high = consumer.get_watermark_offsets(tp, timeout=5)
                tp.offset = max(low, high - 1)
            except Exception:  # the topic may not exist yet: follow from its end
                tp.offset = OFFSET_END
            consumer.assign([tp])
            while not self._stop.is_set():
                msg = consumer.poll(0.2)
                if msg is None or msg.error() is not None:
                    continue
                self._take(msg.value(), msg.timestamp()[1])
        finally:
            consumer.close()

    def _take(self, raw: bytes | None, timestamp_ms: int) -> None:
        if timestamp_ms > 0 and self.latest is None and time.time() - timestamp_ms / 1000 > STALE_STATUS_S:
            return  # the last status of a simulator that is gone
        try:
            doc = json.loads(raw or b"")
        except ValueError:
            log.warning("skipped a malformed status message on %s", self.topic)
            return
        status = FollowedStatus.parse(doc, time.monotonic())
        if status is not None:
            self.latest = status


class WeatherJob:
    """Publishes the readings that fall due on whichever clock applies."""

    def __init__(self, publisher: Any, weather: Weather, clock: SimClock, follower: StatusFollower | None):
        self.publisher = publisher
        self.weather = weather
        self.clock = clock
        self.follower = follower
        self.last_hour: float | None = None
        self.run_id: str | None = None
        self.readings = 0

    def now(self) -> float | None:
        """Simulated time now; None while a followed simulator is stopped."""
        status = self.follower.latest if self.follower is not None else None
        if status is None:
            return self.clock.now()
        if status.run_id != self.run_id:
            if self.run_id is not None:  # a new run: its hours start again
                self.last_hour = None
            # (the first run seen goes on from the own clock's last hour: the hour both
            # clocks are in is not published twice; a clock behind starts again anyway)
            self.run_id = status.run_id
        return None if status.stopped else status.now(time.monotonic())

    def step(self) -> int:
        now = self.now()
        if now is None:
            return 0
        hours = due_hours(self.last_hour, now)
        for hour in hours:
            self.publisher.publish(self.weather.reading(hour))
            self.last_hour = hour
            self.readings += 1
            log.info("weather for %s", datetime.fromtimestamp(hour, CHICAGO).strftime("%Y-%m-%d %H:%M"))
        return len(hours)


def check_proxy(settings: Settings, timeout: float = 5.0) -> None:
    """ServiceUnavailable unless the REST Proxy answers; Refused if it refuses these credentials."""
    from cta_core.http_client import require_service

    require_service(
        "REST Proxy", settings.rest_proxy_url, "/topics", timeout, http=settings.rest_proxy_http()
    )


def ensure_weather_topic(settings: Settings, name: str, wait: float) -> None:
    """Create the weather topic when missing (the REST Proxy does not)."""
    import dataclasses

    from cta_core.kafka_clients import ensure_topics, wait_for_broker
    from cta_core.topics import SPECS

    ensure_topics(
        wait_for_broker(settings, timeout=wait), [dataclasses.replace(SPECS[topics.WEATHER], name=name)]
    )


@contextlib.contextmanager
def _until_signal(stop: threading.Event) -> Iterator[None]:
    previous = {sig: signal.signal(sig, lambda *_a: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@click.command("cta-weather", cls=CtaCommand)
@click.option(
    "--follow-sim/--no-follow-sim",
    default=True,
    show_default=True,
    envvar="CTA_FOLLOW_SIM",
    show_envvar=True,
    help="Follow a running simulator's clock (its status topic): pause and speed apply.",
)
@click.option(
    "--speed",
    default="1",
    show_default=True,
    callback=speed_cb,
    help="Own clock (no simulator running): simulated seconds per wall second.",
)
@click.option(
    "--start",
    default=None,
    callback=start_cb,
    help="Own clock: simulated start, ISO datetime (naive = Chicago time) or HH:MM.  "
    "[default: today 05:00 Chicago]",
)
@click.option("--seed", type=int, default=None, help="Random seed of the readings.  [default: random]")
@click.option(
    "--status-topic",
    default=topics.SIM_STATUS,
    show_default=True,
    envvar="CTA_STATUS_TOPIC",
    show_envvar=True,
    help="The simulator's status topic.",
)
@topic_suffix_option
@broker_wait_option
@count_option("readings")
@deprecated_alias("--max-readings", "--count", type=click.IntRange(min=1))
@connection_options(KAFKA, REST_PROXY)
@click.pass_context
def main(ctx: click.Context, **kwargs: Any) -> None:
    """Publish hourly weather readings to the weather topic through the REST Proxy
    (the weather topic is created when missing)."""
    kwargs["count"] = aliased(ctx, "count", kwargs["count"])
    settings = settings_from_options(kwargs)
    if kwargs["speed"] is None and not kwargs["follow_sim"]:
        raise click.BadParameter("an own clock needs a finite speed", param_hint="'--speed'")
    check_proxy(settings)
    ensure_weather_topic(settings, topics.WEATHER + kwargs["topic_suffix"], kwargs["broker_wait"])
    summary = run(settings, kwargs)
    click.echo(summary, err=True)


def run(settings: Settings, kwargs: dict[str, Any]) -> str:
    from producers_sim.engine import new_seed
    from producers_sim.publishers.weather_publisher import WeatherPublisher

    seed = kwargs["seed"] if kwargs["seed"] is not None else new_seed()
    publisher = WeatherPublisher(
        settings.rest_proxy_url,
        topic=topics.WEATHER + kwargs["topic_suffix"],
        http=settings.rest_proxy_http(),
    )
    follower = StatusFollower(settings, kwargs["status_topic"]).start() if kwargs["follow_sim"] else None
    job = WeatherJob(
        publisher,
        Weather(random.Random(f"{seed}:weather")),
        SimClock(kwargs["start"].timestamp(), kwargs["speed"]),
        follower,
    )
    stop = threading.Event()
    limit = kwargs["count"]
    try:
        with _until_signal(stop):
            while not stop.is_set() and (limit is None or job.readings < limit):
                job.step()
                stop.wait(STEP_S)
    finally:
        left = publisher.flush(10.0)
        publisher.close()
        if follower is not None:
            follower.stop()
    c = publisher.counters
    return (
        f"cta-weather stopped: {job.readings} readings, delivered {sum(c.delivered.values())}, "
        f"failed {sum(c.failed.values())}" + (f", {left} undelivered" if left else "")
    )


if __name__ == "__main__":
    main()
