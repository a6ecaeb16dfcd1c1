"""``python3 -m cta_stack.install -- COMMAND ...``: a checkout's first ``make`` step.

Runs COMMAND (the virtual environment's install from the lock) and, at the same time,
fetches the Kafka and Debezium jars the local stack needs (one Maven per jar set, into
the jar cache ``cta-stack up`` reads), all on one progress display, so a machine with
nothing cached waits for the longer of the two rather than for both.

It runs before the virtual environment exists, so it needs only the standard library
(as do :mod:`cta_stack.jars`, :mod:`cta_stack.java` and :mod:`cta_stack.paths`). The
exit code is COMMAND's: jars that could not be fetched are fetched again, with a clear
error, by ``cta-stack up``; without Maven (a Docker-only machine) none are fetched.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TextIO

from cta_stack.errors import StackError
from cta_stack.jars import Jars, JarSet, downloaded_file, fetch_all, needs_maven
from cta_stack.java import check_maven
from cta_stack.paths import jar_cache_dir

REDRAW_SECONDS = 0.25
#: the states a row ends in
FINAL = frozenset({"done", "failed", "cached", "skipped", "fetched"})


@dataclass
class Line:
    """One row of the display: what it is, its state, a detail."""

    name: str
    state: str = "waiting"
    detail: str = ""
    #: seconds from the start to the row's last state (frozen once it is done)
    seconds: float | None = None


@dataclass
class Display:
    """The rows, redrawn in place on a terminal, else printed when a state changes."""

    out: TextIO
    rows: list[Line]
    started: float = field(default_factory=time.monotonic)
    drawn: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, row: Line, state: str, detail: str = "") -> None:
        with self.lock:
            changed = state != row.state
            row.state, row.detail = state, detail or row.detail
            if state in FINAL:
                row.seconds = time.monotonic() - self.started
            if changed and not self.out.isatty():
                self.out.write(self._text(row) + "\n")
                self.out.flush()

    def _text(self, row: Line) -> str:
        elapsed = row.seconds if row.seconds is not None else time.monotonic() - self.started
        return f"  {row.name:<5} {row.state:<10} {elapsed:5.0f}s  {row.detail}"[:100]

    def redraw(self) -> None:
        if not self.out.isatty():
            return
        with self.lock:
            up = f"\x1b[{self.drawn}F" if self.drawn else ""
            self.out.write(up + "".join("\x1b[2K" + self._text(r) + "\n" for r in self.rows))
            self.out.flush()
            self.drawn = len(self.rows)


def run_command(argv: list[str], display: Display, row: Line) -> tuple[int, str]:
    """COMMAND with its output kept; its exit code and its output (shown when it fails)."""
    display.set(row, "installing", " ".join(argv)[:60])
    kept: deque[str] = deque(maxlen=200)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        kept.append(line)
    code = proc.wait()
    display.set(row, "done" if code == 0 else "failed", "" if code == 0 else f"exit {code}")
    return code, "".join(kept)


def fetch_jars(display: Display, row: Line) -> None:
    """The missing jar sets, fetched at once; never raises (``cta-stack up`` retries)."""
    missing: list[JarSet] = Jars.in_cache(jar_cache_dir()).missing()
    if not missing:
        display.set(row, "cached", str(jar_cache_dir()))
        return
    mvn = None
    if needs_maven(missing):
        try:
            mvn = check_maven()
        except StackError:
            display.set(row, "skipped", "no Maven: `cta-stack up` says what it needs")
            return
    counts = {s.name: 0 for s in missing}

    def on_line(name: str, line: str) -> None:
        if downloaded_file(line) is not None:
            counts[name] += 1
            display.set(row, "fetching", ", ".join(f"{s}: {n} files" for s, n in counts.items()))

    display.set(row, "fetching", " and ".join(counts) + " jars from Maven Central")
    errors = fetch_all(missing, on_line=on_line, mvn=mvn)
    if errors:
        display.set(row, "failed", str(errors[0]).splitlines()[0][:70] + " (`cta-stack up` retries)")
    else:
        display.set(row, "fetched", str(jar_cache_dir()))


def main(args: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if args is None else args)
    if len(args) < 2 or args[0] != "--":
        print("usage: python3 -m cta_stack.install -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    venv, jars = Line("venv"), Line("jars")
    display = Display(sys.stdout, [venv, jars])
    ended: list[tuple[int, str]] = []
    threads = [
        threading.Thread(target=lambda: ended.append(run_command(args[1:], display, venv)), name="venv"),
        threading.Thread(target=fetch_jars, args=(display, jars), name="jars"),
    ]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        display.redraw()
        time.sleep(REDRAW_SECONDS)
    display.redraw()
    code, output = ended[0] if ended else (1, "the install command did not run\n")
    if code != 0:
        sys.stderr.write(output)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
