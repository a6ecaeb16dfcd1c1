"""The local stack: `cta-stack up` from stopped to healthy, and its resident memory.

Runs a private stack (temporary CTA_STACK_DIR, shifted ports) so the shared one
is never touched. Measured side by side in one run:

* first start of a fresh stack directory (initdb, Kafka storage format), jars cached;
* restart from stopped (data kept), jars cached, with the stack's JVM options
  (C1 only, ``-XX:TieredStopAtLevel=1``) and with the JVM's default tiered JIT;
* once, a cold start: empty jar cache and empty Maven repository (download from
  Maven Central), when ``CTA_BENCH_COLD=1`` or by default (set it to 0 to skip).

* time to first train: a fresh clone with nothing cached (pip, uv, jar and Maven caches
  all empty), ``make install`` then ``cta-tui up`` on a scratch stack until
  ``cta-tui --once --json`` shows trains (:mod:`bench.first_train`), unless
  ``CTA_BENCH_FIRST_TRAIN=0``.

Targets: bench/targets.py (stack): up (median), RSS (sum over the stack's processes and
children) and the time to first train.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import first_train
from bench.targets import Check, Section, check, cores
from cta_core.settings import Settings
from cta_stack.net import free_ports
from cta_stack.stack import Stack

RUNS = 3
GB = 1024**3


def _env(stack_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    kafka, controller, connect, pg, sr, rp = free_ports(6)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTA_")}
    env.update(
        CTA_STACK_DIR=str(stack_dir),
        CTA_KAFKA_PORT=str(kafka),
        CTA_KAFKA_CONTROLLER_PORT=str(controller),
        CTA_CONNECT_PORT=str(connect),
        CTA_POSTGRES_PORT=str(pg),
        CTA_SCHEMA_REGISTRY_PORT=str(sr),
        CTA_REST_PROXY_PORT=str(rp),
    )
    env.update(extra or {})
    return env


def _cli(env: dict[str, str], *args: str, timeout: float = 900) -> float:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "cta_stack", *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"cta-stack {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def _rss(env: dict[str, str]) -> tuple[int, dict[str, int]]:
    rows = Stack(Settings.from_env(env), env=env).status()
    per = {r.name: r.rss_bytes or 0 for r in rows if r.state == "running"}
    return sum(per.values()), per


def _restarts(env: dict[str, str], runs: int) -> tuple[list[float], list[int], dict[str, int]]:
    times, rss = [], []
    per: dict[str, int] = {}
    for _ in range(runs):
        _cli(env, "down")
        times.append(_cli(env, "up"))
        total, per = _rss(env)
        rss.append(total)
    return times, rss, per


def run() -> Section:
    lines = ["## Local stack (`cta-stack up`)", ""]
    with tempfile.TemporaryDirectory(prefix="cta-bench-stack-") as tmp:
        env = _env(Path(tmp) / "stack")
        try:
            first = _cli(env, "up")
            c1_times, c1_rss, per = _restarts(env, RUNS)
            tiered_env = {**env, "CTA_JVM_OPTS": "-XX:TieredStopAtLevel=4"}
            tiered_times, tiered_rss, _ = _restarts(tiered_env, RUNS)
        finally:
            subprocess.run(
                [sys.executable, "-m", "cta_stack", "down", "--purge"], env=env, capture_output=True
            )
    med = statistics.median(c1_times)
    med_rss = statistics.median(c1_rss)
    up, rss = check("stack", "up_s", med), check("stack", "rss_gb", med_rss / GB)
    lines += [
        "Private stack (temporary directory, shifted ports), every service the project provides, jars cached.",
        "",
        "| run | up: stopped → healthy | resident memory after start |",
        "|---|---|---|",
        f"| first start, fresh directory (initdb, storage format) | {first:.1f} s | |",
        f"| restart, stack JVM options (C1 only), median of {RUNS} | **{med:.1f} s** "
        f"({', '.join(f'{t:.1f}' for t in c1_times)}) | **{med_rss / GB:.2f} GB** |",
        f"| restart, default tiered JIT, median of {RUNS} | {statistics.median(tiered_times):.1f} s "
        f"({', '.join(f'{t:.1f}' for t in tiered_times)}) | {statistics.median(tiered_rss) / GB:.2f} GB |",
        "",
        "Memory per service (last C1 run): "
        + ", ".join(f"{name} {b / 1024**2:.0f} MB" for name, b in per.items()),
        "",
        f"Targets: up {up.describe()} ({up.verdict}), RSS {rss.describe()} ({rss.verdict}).",
    ]
    if os.environ.get("CTA_BENCH_COLD", "1") != "0":
        lines += ["", _cold()]
    checks = [up, rss]
    if os.environ.get("CTA_BENCH_FIRST_TRAIN", "1") != "0":
        text, first_checks = first_train_section()
        lines += ["", text]
        checks += first_checks
    return Section("\n".join(lines) + "\n", checks)


def first_train_section() -> tuple[str, list[Check]]:
    """### Time to first train: one cold run from a fresh clone (bench/first_train.py)."""
    load = os.getloadavg()[0]
    try:
        figures = first_train.measure()
    except (RuntimeError, subprocess.TimeoutExpired, subprocess.CalledProcessError) as exc:
        return f"### Time to first train\n\nFailed: {str(exc)[:400]}\n", []
    result = check("stack", "first_train_s", figures.trains_s)
    install = "\n".join(line for line in figures.steps[0].splitlines() if line.strip())
    text = "\n".join(
        [
            "### Time to first train (`make demo` on a fresh clone, nothing cached)",
            "",
            "`git clone`, then `make install` (the venv from the lock by uv, the jars listed in",
            "`cta_stack/jars.lock` downloaded meanwhile, eight at a time) and `cta-tui up` (the stack and every",
            "job) on a scratch stack, until `cta-tui --once --json` shows trains. pip, uv, jar",
            "and Maven caches all empty; the machine's 1-minute load average at the start was",
            f"{load:.1f} on {cores()} cores (other work shares them).",
            "",
            "| step | seconds from the start |",
            "|---|---|",
            f"| `make install` done | {figures.install_s:.1f} |",
            f"| `cta-tui up` done | {figures.up_s:.1f} |",
            f"| trains in `cta-tui --once --json` | **{figures.trains_s:.1f}** |",
            "",
            "`make install`'s display at its end:",
            "",
            "```",
            install,
            "```",
            "",
            f"Target: {result.describe()} ({result.verdict}).",
        ]
    )
    return text + "\n", [result]


def _cold() -> str:
    """First run on a fresh machine: jars downloaded into an empty cache and Maven repository."""
    with tempfile.TemporaryDirectory(prefix="cta-bench-cold-") as tmp:
        root = Path(tmp)
        env = _env(
            root / "stack",
            {
                "CTA_JAR_CACHE": str(root / "jars"),
                "MAVEN_OPTS": f"-Dmaven.repo.local={root / 'm2'}",
            },
        )
        try:
            seconds = _cli(env, "up")
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            return f"Cold first run (empty jar cache and Maven repository): failed ({str(exc)[:300]})."
        finally:
            subprocess.run(
                [sys.executable, "-m", "cta_stack", "down", "--purge"], env=env, capture_output=True
            )
        size = sum(p.stat().st_size for p in (root / "jars").rglob("*.jar"))
    return (
        f"Cold first run (empty jar cache and Maven repository, download from Maven Central, "
        f"{size / 1024**2:.0f} MB of jars, fresh stack directory): **{seconds:.1f} s**."
    )
