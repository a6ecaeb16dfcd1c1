"""Run every benchmark module (or those named) and write docs/benchmarks.md.

Usage: python -m bench [AREA ...]   e.g. python -m bench stack registry
Each bench/bench_<area>.py exposes ``run() -> str`` returning a markdown section.
Benchmarks run against the local stack (`cta-stack up`); the machine is shared and
noisy, so each compares alternatives side by side in one run and reports medians.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import re
import sys
import time
from pathlib import Path

import bench

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


def main(argv: list[str]) -> int:
    areas = sorted(
        m.name[len("bench_") :] for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    chosen = argv or areas
    unknown = [a for a in chosen if a not in areas]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(areas)}", file=sys.stderr)
        return 2
    sections = _existing_sections() if argv else {}
    for area in chosen:
        print(f"== bench {area}", flush=True)
        started = time.monotonic()
        module = importlib.import_module(f"bench.bench_{area}")
        section = module.run()
        print(section, flush=True)
        took = time.monotonic() - started
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        sections[area] = section.rstrip() + f"\n\n_(bench {area}: {when}, took {took:.0f} s)_\n"
    header = (
        "# Benchmarks\n\n"
        "Written by `make bench` (`python -m bench [AREA ...]` reruns some sections and keeps the others), "
        f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores, a shared and "
        "noisy machine: alternatives are measured side by side in one run and medians reported.\n"
    )
    body = "\n".join(f"{_MARK.format(area)}\n{text}" for area, text in sorted(sections.items()))
    OUT.write_text(header + "\n" + body)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
