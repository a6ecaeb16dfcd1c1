"""Service restarts: stop one service of a full stack (Schema Registry, REST Proxy, Kafka
Connect, PostgreSQL) while the simulator runs, ``cta-stack up`` after a few seconds, and
count the events and weather read back; for Connect and PostgreSQL, how long a stations
row written during the outage takes to reach Kafka."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field

from bench.trials.checks import compare, count_records, expected_events, read_back, wait_for_bytes
from bench.trials.harness import BIN, TrialResult, start_sim, suffix, topic_lines
from cta_core import topics
from cta_core.settings import Settings
from cta_stack.scratch import ScratchStack

SERVICES = ("schema-registry", "rest-proxy", "connect", "postgres")


@dataclass
class RestartResult(TrialResult):
    service: str
    down_s: float
    events: int = 0
    read_back: int = 0
    lost: int = 0
    duplicated: int = 0
    weather: tuple[int, int, int] = (0, 0, 0)
    weather_read: int = 0
    sim_exit: int | None = None
    up_s: float = 0.0
    row_s: float | None = None
    seen_while_down: list[str] = field(default_factory=list)


def insert_station(settings: Settings, stop_id: int) -> None:
    """A stations row in PostgreSQL that Connect is to carry to Kafka."""
    import psycopg

    with psycopg.connect(settings.postgres_dsn, connect_timeout=5) as conn:
        conn.execute(
            "INSERT INTO stations (stop_id, direction_id, stop_name, station_name, "
            "station_descriptive_name, station_id, red, blue, green, brown, purple, yellow, pink, "
            "orange) VALUES (%s, 'N', 'fault trial', 'fault trial', 'fault trial', %s, true, false, "
            "false, false, false, false, false, false)",
            (stop_id, stop_id),
        )


def _outage(trial: ScratchStack, result: RestartResult, down: float, stop_id: int) -> None:
    """``cta-stack down --only`` the service, what the dashboard's probe sees halfway,
    ``cta-stack up``, and for Connect and PostgreSQL when the new row reached Kafka."""
    from cta_tui.feeds.health import HttpHealthProbe

    settings, service = trial.settings, result.service
    trial.cli("down", "--only", service)
    if service == "connect":
        insert_station(settings, stop_id)
    time.sleep(down / 2)
    probe = HttpHealthProbe(settings)
    result.seen_while_down = [f"{h.name}: {h.detail}" for h in probe.check() if not h.ok]
    probe.close()
    time.sleep(down / 2)
    result.up_s = trial.up()
    if service == "postgres":
        insert_station(settings, stop_id)
    if service in ("connect", "postgres"):
        found = wait_for_bytes(settings, topics.STATIONS_RAW, str(stop_id).encode(), 120)
        result.row_s = None if found is None else result.up_s + found


def service_restart(
    trial: ScratchStack, service: str, *, down: float = 8.0, events: int = 400_000, speed: int = 1500
) -> RestartResult:
    """Stop ``service`` for ``down`` seconds while the simulator runs at ``speed``, then
    ``cta-stack up``; count the events and weather read back, and for Connect and
    PostgreSQL how long a stations row written during the outage takes to reach Kafka."""
    settings = trial.settings
    topic_suffix = suffix("restart")
    expected = expected_events(trial.env, events)
    result = RestartResult(service, down)
    sim = start_sim(trial.env, events, speed=str(speed), topic_suffix=topic_suffix)
    try:
        time.sleep(4)
        _outage(trial, result, down, 90000 + time.time_ns() % 9000)
        out, _ = sim.communicate(timeout=600)
        result.sim_exit = sim.returncode
    finally:
        if sim.poll() is None:
            sim.kill()
    result.weather = topic_lines(out).get(topics.WEATHER, (0, 0, 0))
    time.sleep(3)  # the weather thread's last batch
    result.weather_read = count_records(settings, topics.WEATHER + topic_suffix)
    got = read_back(settings, topic_suffix)
    result.events = sum(expected.values())
    result.read_back = sum(got.values())
    result.lost, result.duplicated = compare(expected, got)
    return result


def restarts(services: list[str], down: float) -> list[RestartResult]:
    """Every restart trial on one full stack (stations loaded, connector running)."""
    results = []
    with ScratchStack.running(1, only=()) as trial:
        subprocess.run([str(BIN / "cta-jobs"), "setup"], env=trial.env, check=True, capture_output=True)
        for service in services:
            result = service_restart(trial, service, down=down)
            print(result.json(), flush=True)
            results.append(result)
    return results
