"""`cta-tui runs` and `cta-tui --at TIME [--run RUN_ID] --once --json`: the past, headless."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from cta_core.cli_base import CtaCommand
from cta_core.errors import CtaError
from cta_tui.rewind.timeline import Run, format_sim, parse_sim_time


def _rewinder(obj: dict[str, Any]) -> Any:
    from cta_tui.rewind.engine import Rewinder

    return Rewinder(obj["settings"], obj["topic_names"], replay_minutes=obj["replay_minutes"])


def resolve_moment(run: Run, at: str) -> int:
    """``--at``'s text as the run's simulated instant (exit 2 when it is not a time)."""
    try:
        return parse_sim_time(at, run)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--at'") from None


def once_at(obj: dict[str, Any], at: str, run_id: str | None, as_json: bool) -> None:
    """Print the state at a past moment as `--once` prints the live one."""
    from cta_tui.state.snapshot import snapshot_json

    rewinder = _rewinder(obj)
    try:
        run = rewinder.run(run_id)
        sim_ms = resolve_moment(run, at)
        rewound = rewinder.state_at(run, sim_ms)
        rewound.state.predictions.settle()
    finally:
        rewinder.reader.close()
    state = rewound.state
    if as_json:
        click.echo(snapshot_json(state, rewound.plan.at_ms / 1000.0))
        return
    trains = sum(1 for t in state.trains.values() if t.in_service)
    click.echo(
        f"run {run.run_id} at {format_sim(sim_ms, seconds=True)}: {len(state.lines)} lines, {trains} trains, "
        f"{len(state.turnstile_counts)} stations counted ({rewound.records} records read in {rewound.seconds:.2f} s)"
    )


def run_rows(runs: list[Run], now_ms: int) -> list[dict[str, Any]]:
    """What `cta-tui runs` shows of each run (pure)."""
    rows = []
    for run in runs:
        first, last = run.sim_span
        produced = run.produced()
        rows.append(
            {
                "run_id": run.run_id,
                "sim_from": format_sim(first, seconds=True),
                "sim_to": format_sim(last, seconds=True),
                "sim_from_ms": first,
                "sim_to_ms": last,
                "wall_from_ms": run.first.wall_ms,
                "wall_to_ms": run.end_wall_ms(now_ms) if run.live else run.last.wall_ms,
                "state": "live" if run.live else run.last.status.state,
                "events": sum(produced.values()),
                "produced": produced,
            }
        )
    return rows


@click.command("runs", cls=CtaCommand)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.pass_obj
def runs(obj: dict[str, Any], as_json: bool) -> None:
    """The simulator runs Kafka still holds: run id, simulated span, events produced.
    The last is the current one; `cta-tui --at TIME --run RUN_ID` shows an earlier one."""
    rewinder = _rewinder(obj)
    try:
        found = rewinder.runs()
    finally:
        rewinder.reader.close()
    if not found:
        raise CtaError("no simulator run found on the status topic; start one with `cta-sim`")
    rows = run_rows(found, int(time.time() * 1000))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'run':<12} {'simulated':<19} {'state':<8} {'events':>10}")
    for row in rows:
        span = f"{row['sim_from']}-{row['sim_to']}"
        click.echo(f"{row['run_id']:<12} {span:<19} {row['state']:<8} {row['events']:>10}")
