"""The stations table the dashboard's panels need, written as `cta-jobs faust` would, for
the tests and benches that run the dashboard without the Faust worker."""

from __future__ import annotations

import json
from dataclasses import replace

from cta_core import topics
from cta_core.settings import Settings


def ensure_stations_table(settings: Settings, topic: str = topics.STATIONS_TABLE) -> int:
    """The stations table the panels need (what `cta-jobs faust` writes), from the
    shipped coordinates file: idempotent (a compacted topic, the same records)."""
    from cta_core.kafka_clients import ensure_topics, make_admin, make_producer
    from cta_tui.map.geo import geography
    from stream_jobs.transform import record

    geo = geography()
    spec = topics.SPECS[topics.STATIONS_TABLE]
    ensure_topics(make_admin(settings), [replace(spec, name=topic)])
    producer = make_producer(settings)
    n = 0
    for line, branches in geo.paths.items():
        members: dict[int, dict[str, int]] = {}
        for branch, path in branches.items():
            for i, sid in enumerate(path):
                members.setdefault(sid, {})[branch] = i
        for sid, by_branch in members.items():
            key, value = record(line, by_branch, sid, geo.names[sid])
            producer.produce(topic, key=key.encode(), value=json.dumps(value).encode())
            n += 1
    producer.flush(30)
    return n
