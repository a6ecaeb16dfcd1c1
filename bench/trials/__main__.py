"""``python -m bench.trials TRIAL [options]``: run one fault trial and print its figures
(one JSON line per result; broker-kill also a row of docs/reliability.md's table)."""

from __future__ import annotations

import argparse
import json
import sys

import bench.trials
from cta_stack.scratch import ScratchStack


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.trials", description=(bench.trials.__doc__ or "").split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="trial", required=True)
    kill = sub.add_parser("broker-kill", help="kill -9 one broker during cta-sim --speed max")
    kill.add_argument("--brokers", type=int, default=3)
    kill.add_argument("--events", type=int, default=1_500_000)
    kill.add_argument(
        "--down", type=float, default=0.0, help="seconds before `cta-stack up` (0: after the run)"
    )
    kill.add_argument("--port-base", type=int, default=None, help="[default: a free range]")
    restart = sub.add_parser("restarts", help="stop and start services while cta-sim runs")
    restart.add_argument("--service", action="append", default=None, help="[default: all four]")
    restart.add_argument("--down", type=float, default=8.0)
    sub.add_parser("inputs", help="malformed records on every dashboard topic, bad HTTP input")
    fk = sub.add_parser("faust-kill", help="kill -9 a Faust worker while turnstile entries stream in")
    fk.add_argument("--workers", type=int, choices=(1, 2), default=1)
    fk.add_argument(
        "--workload",
        choices=("sim", "steady"),
        default="sim",
        help="sim: cta-sim --speed max on a stack of its own; steady: --rate entries/s on the "
        "stack of CTA_STACK_DIR",
    )
    fk.add_argument("--events", type=int, default=None, help="[default: 600000 (sim), 60000 (steady)]")
    fk.add_argument("--rate", type=float, default=2000.0, help="entries per second (steady)")
    co = sub.add_parser("faust-coalesce", help="summary records per 100,000 turnstile entries")
    co.add_argument("--events", type=int, default=100_000)
    co.add_argument("--cwd", default=None, help="run the worker from this checkout")
    co.add_argument(
        "--rate", type=float, default=None, help="entries per second [default: as fast as possible]"
    )
    pipe = sub.add_parser("cluster-pipeline", help="broker kill with Faust and the dashboard running")
    pipe.add_argument("--events", type=int, default=600_000)
    return parser


def _faust_kill(args: argparse.Namespace) -> None:
    from bench.trials.faust_kill import SimWorkload, SteadyWorkload, faust_kill
    from cta_core.settings import Settings

    if args.workload == "steady":
        steady = SteadyWorkload(Settings.from_env(), args.events or 60_000, args.rate)
        print(faust_kill(steady, args.workers, steady.dir).json(), flush=True)
        return
    with ScratchStack.running(1) as trial:
        sim = SimWorkload(trial, args.events or 600_000)
        print(faust_kill(sim, args.workers, trial.root, wait=240).json(), flush=True)


def _run(args: argparse.Namespace) -> None:
    if args.trial == "faust-kill":
        _faust_kill(args)
    elif args.trial == "faust-coalesce":
        from bench.trials.faust_coalesce import coalesce
        from cta_core.settings import Settings

        print(coalesce(Settings.from_env(), args.events, args.cwd, args.rate), flush=True)
    elif args.trial == "cluster-pipeline":
        from bench.trials.cluster_pipeline import cluster_pipeline

        with ScratchStack.running(3) as trial:
            print(cluster_pipeline(trial, args.events).json(), flush=True)
    elif args.trial == "inputs":
        from bench.trials.inputs import bad_http, malformed_records

        with ScratchStack.running(1) as trial:
            print(json.dumps({"malformed": malformed_records(trial)}), flush=True)
            for row in bad_http(trial):
                print(json.dumps(row), flush=True)
    elif args.trial == "restarts":
        from bench.trials.restarts import SERVICES, restarts

        restarts(args.service or list(SERVICES), args.down)
    else:
        from bench.trials.broker_kill import broker_kill

        with ScratchStack.running(args.brokers, args.port_base) as trial:
            result = broker_kill(trial, args.events, down=args.down)
        print(result.row())
        print(result.json())


def main(argv: list[str]) -> int:
    _run(_parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
