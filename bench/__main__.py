"""Run every benchmark module (or those named) and write docs/benchmarks.md.

Usage: python -m bench [AREA ...]   e.g. python -m bench stack registry
Each bench/bench_<area>.py exposes ``run() -> str`` returning a markdown section.
Benchmarks run against the local stack (`cta-stack up`); the machine is shared and
noisy, so each compares alternatives side by side in one run and reports medians.
"""

from __future__ import annotations

import importlib
import pkgutil
import platform
import sys
import time
from pathlib import Path

import bench

OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def main(argv: list[str]) -> int:
    areas = sorted(
        m.name[len("bench_") :] for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    chosen = argv or areas
    unknown = [a for a in chosen if a not in areas]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(areas)}", file=sys.stderr)
        return 2
    sections = []
    for area in chosen:
        print(f"== bench {area}", flush=True)
        started = time.monotonic()
        module = importlib.import_module(f"bench.bench_{area}")
        section = module.run()
        print(section, flush=True)
        sections.append(section.rstrip() + f"\n\n_(bench {area} took {time.monotonic() - started:.0f} s)_\n")
    header = (
        "# Benchmarks\n\n"
        f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.machine()}, Python {platform.python_version()}, "
        f"{__import__('os').cpu_count()} cores. Medians of repeated runs; ratios measured side by side in one run.\n\n"
    )
    if argv and OUT.exists():
        # Partial run: replace only the named sections, keep the others.
        print(f"(partial run: appending to {OUT})")
        OUT.write_text(OUT.read_text() + "\n" + "\n".join(sections))
    else:
        OUT.write_text(header + "\n".join(sections))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
