"""Cost of `cta-tui serve --web` per browser session, in the machine's Chromium.

What a user runs: `cta-tui serve --web` (its own process, shared feed, read-only) on a
scratch stack while `cta-sim --speed 60` publishes, and pages opened in Chromium
(Playwright, headless). Per page: time to first frame (from the request for the page to
the terminal's first drawn output) and to the whole network screen (its eight panels);
per session, once 1 then 4 pages are open: resident memory and CPU of its dashboard
process. The server (shared Kafka consumers and the websockets) and Chromium's own cost
are shown beside them. Targets: first frame <= 3 s, <= 150 MB and <= 10% of a core per
session.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from bench.bench_ssh import _cpu_seconds, _memory, _tree
from bench.targets import Section, check
from cta_stack.scratch import ScratchStack
from tests.support.browser import TIMING_SCRIPT, ScreenTap, launch_args
from tests.support.stations_table import ensure_stations_table

WARMUP_S = 10.0
WINDOW_S = 15.0
SAMPLE_EVERY_S = 1.0
VIEWPORT = {"width": 1280, "height": 900}
COUNTS = (1, 4)


def _exe(name: str) -> str:
    return shutil.which(name) or str(Path(sys.executable).with_name(name))


@contextmanager
def _process(argv: list[str], env: dict[str, str], **kwargs: Any) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, text=True, start_new_session=True, **kwargs
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _url(serve: subprocess.Popen[str]) -> str:
    assert serve.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(serve.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=60):
            raise RuntimeError("`cta-tui serve --web` printed no URL in 60 s")
    match = re.search(r"open (http://\S+)", serve.stdout.readline())
    if match is None:
        raise RuntimeError("`cta-tui serve --web` did not print the URL to open")
    return match.group(1)


def _open(browser: Any, url: str) -> tuple[Any, dict[str, float]]:
    """A new page on ``url`` and its timings in seconds: websocket open and first frame (as
    the page measured them, from its navigation's start), and the whole network screen."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(TIMING_SCRIPT)
    page = context.new_page()
    tap = ScreenTap(page)
    started = time.monotonic()
    page.goto(url)
    page.wait_for_selector("body.-first-byte", timeout=60_000)
    tap.wait_for(
        lambda t: t.count(" trains · ") == 8 and "waiting for" not in t, "the network screen", timeout=60
    )
    whole = time.monotonic() - started
    tap.close()  # the frames of open pages are not read during the measurements
    socket_open, first = page.evaluate("[window.__ctaSocketOpen, window.__ctaFirstFrame]")
    return page, {"socket": socket_open / 1000, "first": first / 1000, "whole": whole}


def _dashboards(serve: subprocess.Popen[str]) -> list[psutil.Process]:
    return [p for p in psutil.Process(serve.pid).children() if "cta_tui" in " ".join(p.cmdline())]


def _chromium() -> list[psutil.Process]:
    """Chromium's processes (the browser and its renderers), children of Playwright's driver."""
    me = psutil.Process()
    return [p for p in me.children(recursive=True) if "chrom" in p.name().lower()]


def _measure(serve: subprocess.Popen[str], pages: list[Any]) -> dict[str, Any]:
    """Per-session RSS and CPU over the window, with the server's and Chromium's."""
    pages[-1].wait_for_timeout(WARMUP_S * 1000)
    dashboards = _dashboards(serve)
    server = psutil.Process(serve.pid)
    chromium = _chromium()
    cpu0 = {d.pid: _cpu_seconds([d]) for d in dashboards}
    server0, chromium0 = _cpu_seconds([server]), _cpu_seconds(chromium)
    rss: dict[int, list[float]] = {d.pid: [] for d in dashboards}
    started = time.monotonic()
    while time.monotonic() - started < WINDOW_S:
        for d in dashboards:
            rss[d.pid].append(_memory(_tree(d.pid))[0])
        pages[-1].wait_for_timeout(SAMPLE_EVERY_S * 1000)
    elapsed = time.monotonic() - started
    cpu = [100 * (_cpu_seconds([d]) - cpu0[d.pid]) / elapsed for d in dashboards]
    return {
        "sessions": len(dashboards),
        "rss": statistics.median(statistics.median(v) for v in rss.values()),
        "rss_max": max(max(v) for v in rss.values()),
        "cpu": statistics.median(cpu),
        "cpu_max": max(cpu),
        "server_cpu": 100 * (_cpu_seconds([server]) - server0) / elapsed,
        "server_rss": server.memory_info().rss / 2**20,
        "chromium_cpu": 100 * (_cpu_seconds(chromium) - chromium0) / elapsed / len(pages),
    }


def _bench(env: dict[str, str]) -> tuple[list[dict[str, Any]], list[dict[str, float]]]:
    from playwright.sync_api import sync_playwright

    serve_argv = [_exe("cta-tui"), "serve", "--web", "127.0.0.1:0", "--max-sessions", str(max(COUNTS))]
    results, timings = [], []
    with (
        _process(
            [_exe("cta-sim"), "--speed", "60", "--start", "07:30", "--seed", "7"],
            env,
            stdout=subprocess.DEVNULL,
        ),
        _process(serve_argv, env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as serve,
        sync_playwright() as playwright,
    ):
        url = _url(serve)
        browser = playwright.chromium.launch(**launch_args())
        pages: list[Any] = []
        for count in COUNTS:
            while len(pages) < count:
                page, timing = _open(browser, url)
                pages.append(page)
                timings.append(timing)
            results.append(_measure(serve, pages))
        browser.close()
    return results, timings


def run() -> Section:
    with ScratchStack.running() as stack:
        ensure_stations_table(stack.settings)  # what `cta-jobs faust` would write: the panels' stations
        results, timings = _bench(stack.env)
    one, four = results
    first = check("web", "first_frame_s", statistics.median(t["first"] for t in timings))

    def each(name: str) -> str:
        return ", ".join(f"{t[name]:.2f}" for t in timings)

    rss = check("web", "rss_mb", four["rss_max"])
    cpu = check("web", "cpu_pct", four["cpu"])
    rows = "\n".join(
        f"| {r['sessions']} | {r['rss']:.0f} | {r['rss_max']:.0f} | {r['cpu']:.1f} | {r['cpu_max']:.1f} | "
        f"{r['server_cpu']:.1f} | {r['server_rss']:.0f} | {r['chromium_cpu']:.1f} |"
        for r in results
    )
    text = f"""## Web dashboard: cost per browser session (`cta-tui serve --web`)

`cta-tui serve --web` (shared feed, read-only) on a scratch stack, `cta-sim --speed 60 --start 07:30`
publishing (the stations table written as `cta-jobs faust` would), pages opened one after
another in headless Chromium ({VIEWPORT["width"]}x{VIEWPORT["height"]} pixels, about 140x45 cells). Time to first frame:
from the start of the page's navigation to the terminal's first drawn output, as the page
measures it; to the whole screen: until all eight line panels are drawn with their stations.
Then {WARMUP_S:.0f} s warm-up and {WINDOW_S:.0f} s sampled every {SAMPLE_EVERY_S:.0f} s with 1, then
{max(COUNTS)} pages open; medians over sessions. Memory and CPU are the session's dashboard process
(`python -m cta_tui --read-only`, one per page); the server's figures exclude its dashboards;
Chromium's CPU is per page (the browser and its renderers, divided by the pages open).

- Each page, in the order opened: websocket open {each("socket")} s; first frame {each("first")} s;
  the whole network screen {each("whole")} s.

| pages open | RSS per session, MB | RSS max, MB | CPU per session, % of a core | CPU max, % | server CPU, % | server RSS, MB | Chromium CPU per page, % |
|---|---|---|---|---|---|---|---|
{rows}

- Targets: time to first frame {first.describe()} (median): {first.verdict}; resident memory per
  session with {max(COUNTS)} pages {rss.describe()} (the worst): {rss.verdict}; CPU per session with
  {max(COUNTS)} pages {cpu.describe()} (median): {cpu.verdict}.
- {max(COUNTS)} pages vs 1: RSS per session x{four["rss"] / one["rss"]:.2f}, CPU per session
  x{four["cpu"] / max(one["cpu"], 0.01):.2f}, server CPU x{four["server_cpu"] / max(one["server_cpu"], 0.01):.2f}.
"""
    return Section(text, [first, rss, cpu])


if __name__ == "__main__":
    print(run().markdown)
