"""`cta-sim --report`: turnstile entries counted per station as handed to the sink."""

from __future__ import annotations

import io
import json
from pathlib import Path

from cta_core import topics
from cta_core.records.arrival import Arrival
from producers_sim.control import TopicCounters
from producers_sim.encoding import ArrivalEncoder, TurnstileEncoder
from producers_sim.events import TurnstileEvent
from producers_sim.publishers.stdout_publisher import StdoutPublisher
from producers_sim.records import SinkRecord
from producers_sim.run_report import StationTally, write_report
from producers_sim.runner import RunSummary


def test_tally_counts_turnstile_keys_per_station_and_passes_everything_on(tmp_path: Path) -> None:
    turnstiles, arrivals = TurnstileEncoder(1, 2), ArrivalEncoder(3, 4)
    records: list[SinkRecord] = []
    for i, sid in enumerate([40900, 40900, 41400, 40900, 40380]):
        e = TurnstileEvent(1_795_950_000.0 + i, sid, f"S{sid}", "red")
        records.append((e.t, topics.TURNSTILES, turnstiles.value(e), turnstiles.key(e)))
    a = Arrival.at(1_795_950_001.0, 41400, "red-1", "a", "red", "in_service", None, None, None, 0, 1)
    records.append((a.t, topics.ARRIVALS, arrivals.value(a), arrivals.key(a)))
    out = io.StringIO()
    tally = StationTally(StdoutPublisher(out))
    tally.publish_many(records[:3])
    tally.publish_many(records[3:])
    assert out.getvalue().count("\n") == len(records)
    assert tally.by_station() == {40380: 1, 40900: 3, 41400: 1}

    summary = RunSummary(6, TopicCounters(), "stopped", 0.0, 1.0, 1.0, 0, tally.by_station())
    write_report(tmp_path / "r.json", summary)
    assert json.loads((tmp_path / "r.json").read_text())["turnstile_entries_by_station"] == {
        "40380": 1,
        "40900": 3,
        "41400": 1,
    }
