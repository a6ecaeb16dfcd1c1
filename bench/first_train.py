"""Time to first train: a fresh clone, nothing cached, ``make demo`` until trains show.

What a new user waits for after ``git clone``: ``make install`` (the virtual environment
from the lock, with the jars fetched meanwhile) and ``cta-tui up`` (the stack and every
job), then the first trains in ``cta-tui --once --json``. ``make demo`` is exactly these
two steps with the dashboard drawn last; here ``cta-tui up --no-dashboard`` stands in for
the drawing, and ``--once --json`` reads what the dashboard would show.

Nothing cached: empty pip and uv caches (``PIP_CACHE_DIR``, ``UV_CACHE_DIR``), an empty jar cache
(``CTA_JAR_CACHE``) and an empty Maven repository (``-Dmaven.repo.local``), all in a
temporary directory; the stack runs there on its own free ports (a scratch stack), so
neither the shared caches nor a running stack are touched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cta_stack.scratch import free_port_base, scratch_env

ROOT = Path(__file__).resolve().parent.parent
TRAINS_TIMEOUT = 300.0


@dataclass
class FirstTrain:
    """The figures of one cold run (seconds from the clone being ready)."""

    install_s: float = 0.0
    up_s: float = 0.0
    trains_s: float = 0.0
    steps: list[str] = field(default_factory=list)


def _trains(clone: Path, env: dict[str, str]) -> int:
    proc = subprocess.run(
        [str(clone / ".venv/bin/cta-tui"), "--once", "--json", "--once-timeout", "5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    try:
        return int(json.loads(proc.stdout).get("trains", 0))
    except ValueError:
        return 0


def _wait_for_trains(clone: Path, env: dict[str, str], since: float) -> float:
    deadline = time.monotonic() + TRAINS_TIMEOUT
    while time.monotonic() < deadline:
        if _trains(clone, env) > 0:
            return time.monotonic() - since
        time.sleep(1.0)
    raise RuntimeError(f"no trains within {TRAINS_TIMEOUT:.0f} s of `cta-tui up`")


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run one step; its output (stdout, then stderr)."""
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
    return proc.stdout + proc.stderr


def _keep_logs(clone: Path) -> Path | None:
    """The scratch stack's logs, copied where they outlive the run (for a failed one)."""
    logs = clone / ".cta-stack" / "logs"
    if not logs.is_dir():
        return None
    kept = Path(tempfile.mkdtemp(prefix="cta-first-train-logs-"))
    shutil.copytree(logs, kept, dirs_exist_ok=True)
    return kept


def cold_env(tmp: Path) -> dict[str, str]:
    """A scratch stack's environment with every cache pointed at an empty directory."""
    env = scratch_env(free_port_base(), tmp / "clone" / ".cta-stack")
    env.update(
        PIP_CACHE_DIR=str(tmp / "pip-cache"),
        UV_CACHE_DIR=str(tmp / "uv-cache"),
        CTA_JAR_CACHE=str(tmp / "jars"),
        MAVEN_OPTS=f"-Dmaven.repo.local={tmp / 'm2'}",
    )
    env.pop("VIRTUAL_ENV", None)
    return env


def measure(
    source: Path = ROOT, ref: str | None = None, log: Callable[[str], None] = lambda _: None
) -> FirstTrain:
    """One cold run from a clone of ``source``'s committed state (``ref`` checked out when
    given); the stack is purged after."""
    with tempfile.TemporaryDirectory(prefix="cta-first-train-") as name:
        tmp = Path(name)
        tmp.chmod(0o755)  # the embedded PostgreSQL runs as another user
        clone = tmp / "clone"
        subprocess.run(["git", "clone", "-q", str(source), str(clone)], check=True, timeout=120)
        if ref:
            subprocess.run(["git", "-C", str(clone), "checkout", "-q", ref], check=True, timeout=60)
        env = cold_env(tmp)
        result = FirstTrain()
        started = time.monotonic()
        try:
            result.steps.append(_run(["make", "install"], clone, env))
            result.install_s = time.monotonic() - started
            log(f"make install: {result.install_s:.1f} s\n{result.steps[-1]}")
            result.steps.append(_run([str(clone / ".venv/bin/cta-tui"), "up", "--no-dashboard"], clone, env))
            result.up_s = time.monotonic() - started
            log(f"cta-tui up: {result.up_s:.1f} s\n{result.steps[-1]}")
            result.trains_s = _wait_for_trains(clone, env, started)
            log(f"trains: {result.trains_s:.1f} s")
        except (RuntimeError, subprocess.TimeoutExpired):
            log(f"failed; the stack's logs: {_keep_logs(clone)}")
            raise
        finally:
            if (clone / ".venv/bin/cta-stack").exists():
                subprocess.run(
                    [str(clone / ".venv/bin/cta-stack"), "down", "--purge"], env=env, capture_output=True
                )
            shutil.rmtree(tmp / "m2", ignore_errors=True)
        return result


if __name__ == "__main__":  # pragma: no cover
    import sys

    figures = measure(ref=sys.argv[1] if len(sys.argv) > 1 else None, log=print)
    print(f"install {figures.install_s:.1f} s, up {figures.up_s:.1f} s, trains {figures.trains_s:.1f} s")
