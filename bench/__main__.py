"""Run every benchmark module (or those named) and write docs/benchmarks.md.

Usage: python -m bench [--check] [AREA ...]   e.g. python -m bench stack registry
Each bench/bench_<area>.py exposes ``run() -> Section``: a markdown section and the
checks of its figures against the targets of bench/targets.py.
Benchmarks run against the local stack (`cta-stack up`); the machine is shared and
noisy, so each compares alternatives side by side in one run and reports medians.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import platform
import re
import sys
import time
from pathlib import Path

import bench
from bench.targets import Check, Section, cores, table

OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


_MARK = "<!-- bench:{} -->"
_MARK_RE = re.compile(r"^<!-- bench:([a-z_]+) -->$", re.M)


def _existing_sections() -> dict[str, str]:
    """Sections of the current docs/benchmarks.md, by area, so a partial run keeps them."""
    if not OUT.exists():
        return {}
    text = OUT.read_text()
    marks = list(_MARK_RE.finditer(text))
    return {
        m.group(1): text[m.end() + 1 : marks[i + 1].start() if i + 1 < len(marks) else len(text)].rstrip()
        + "\n"
        for i, m in enumerate(marks)
    }


def _parse(argv: list[str], areas: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run the benchmarks (all, or the AREAs named) and write docs/benchmarks.md.",
        epilog="Targets: bench/targets.py; BENCH_TARGET_<SECTION>_<NAME>=N moves one for a run.",
    )
    parser.add_argument("areas", nargs="*", metavar="AREA", help=f"one of: {', '.join(areas)}")
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare every figure with its target and exit 1 when one is missed "
        "(docs/benchmarks.md is not written)",
    )
    args = parser.parse_args(argv)
    unknown = [a for a in args.areas if a not in areas]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(areas)}")
    return args


def main(argv: list[str]) -> int:
    areas = sorted(
        m.name[len("bench_") :] for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    args = _parse(argv, areas)
    chosen = args.areas or areas
    sections = _existing_sections() if args.areas else {}
    checks: list[Check] = []
    for area in chosen:
        print(f"== bench {area}", flush=True)
        started = time.monotonic()
        module = importlib.import_module(f"bench.bench_{area}")
        section: Section = module.run()
        checks += section.checks
        text = section.markdown.rstrip() + "\n\n" + "\n".join(table(section.checks))
        print(text, flush=True)
        took = time.monotonic() - started
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        sections[area] = text + f"\n\n_(bench {area}: {when}, took {took:.0f} s)_\n"
    missed = [c for c in checks if not c.met]
    for c in missed:
        print(f"MISSED {c.target.section}.{c.target.name}: {c.target.what}: {c.describe()}", file=sys.stderr)
    if args.check:
        print(f"{len(checks) - len(missed)} of {len(checks)} targets met")
        return 1 if missed else 0
    header = (
        "# Benchmarks\n\n"
        "Written by `make bench` (`python -m bench [AREA ...]` reruns some sections and keeps the others), "
        f"{platform.machine()}, Python {platform.python_version()}, {cores()} cores, a shared and "
        "noisy machine: alternatives are measured side by side in one run and medians reported. "
        "Targets are defined in `bench/targets.py`; `python -m bench --check [AREA ...]` fails when "
        "one is missed.\n"
    )
    body = "\n".join(f"{_MARK.format(area)}\n{text}" for area, text in sorted(sections.items()))
    OUT.write_text(header + "\n" + body)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
