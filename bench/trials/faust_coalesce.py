"""Faust coalescing: N turnstile entries (3 partitions) counted by one worker (run from
``--cwd``, e.g. an older checkout) against the stack of ``CTA_STACK_DIR``; the
TURNSTILE_SUMMARY records written per 100,000 entries and whether the counts end exact."""

from __future__ import annotations

import random
import time

from bench.trials.checks import read_summary, wait_for_summary
from bench.trials.faust import STATIONS, OwnTopics, per_station, produce_turnstiles, wait_ready
from bench.trials.harness import stop
from cta_core.settings import Settings


def coalesce(settings: Settings, events: int, cwd: str | None, rate: float | None) -> str:
    """The trial's figures as one line."""
    own = OwnTopics(settings, "co")
    rng = random.Random(1)
    sids = [rng.choice(STATIONS) for _ in range(events)]
    expected = per_station(sids)
    log = own.dir / "worker.log"
    proc = own.worker(log, cwd)
    try:
        wait_ready(log)
        t0 = time.monotonic()
        produce_turnstiles(settings, own.turnstiles, sids, rate)
        wait_for_summary(settings, own.summary, lambda counts: counts == expected, 300)
        wall = time.monotonic() - t0
        latest, n = read_summary(settings, own.summary)
    finally:
        stop(proc)
        own.close()
    return (
        f"events {events}, stations {len(expected)}, summary records {n} "
        f"({n * 100_000 / events:,.0f} per 100,000 events), exact {latest == expected}, {wall:.1f}s"
    )
