"""Every benchmark target, in one place, and the checks of figures against them.

A section's ``run()`` returns a :class:`Section`: its markdown for docs/benchmarks.md and
a :class:`Check` per target, made with :func:`check`. ``python -m bench --check`` exits
non-zero when one is missed.

A target can be moved for one run with an environment variable named
``BENCH_TARGET_<SECTION>_<NAME>`` (e.g. ``BENCH_TARGET_JOBS_FAUST_EPS=1000000``): to see a
check fail, or to hold a faster machine to more.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Target:
    section: str
    name: str
    what: str
    op: Literal[">=", "<="]
    value: float
    unit: str

    @property
    def env_var(self) -> str:
        return f"BENCH_TARGET_{self.section}_{self.name}".upper()

    def limit(self) -> float:
        """The target in force: the environment's override, else :attr:`value`."""
        raw = os.environ.get(self.env_var)
        if raw is None or raw == "":
            return self.value
        try:
            return float(raw)
        except ValueError:
            raise SystemExit(f"{self.env_var}={raw!r} is not a number") from None


#: the dashboard's screens as the tui benchmark names them, and their target names
TUI_SCREENS = {
    "network": "network",
    "line": "line",
    "map": "map",
    "zoomed map": "map_zoomed",
    "board (Howard)": "board",
    "pipeline: jobs": "pipeline_jobs",
    "pipeline: lag": "pipeline_lag",
    "pipeline: services": "pipeline_services",
    "tail (arrivals)": "tail",
    "help": "help",
}
TUI_CPU_TARGETS = (
    *(
        Target(
            "tui",
            f"cpu_{name}_pct",
            f"dashboard CPU, {screen}, whole pipeline, --speed 60",
            "<=",
            10,
            "% of a core",
        )
        for screen, name in TUI_SCREENS.items()
    ),
    *(
        Target(
            "tui",
            f"cpu_{name}_600_pct",
            f"dashboard CPU, {screen}, whole pipeline, --speed 600",
            "<=",
            25,
            "% of a core",
        )
        for screen, name in TUI_SCREENS.items()
    ),
    Target("tui", "cpu_paused_pct", "dashboard CPU, network, simulator paused", "<=", 2, "% of a core"),
    Target(
        "tui",
        "cpu_ssh_network_pct",
        "CPU of one SSH session's dashboard, network, --speed 60",
        "<=",
        10,
        "% of a core",
    ),
    Target(
        "tui",
        "cpu_ssh_board_pct",
        "CPU of one SSH session's dashboard, board, --speed 60",
        "<=",
        10,
        "% of a core",
    ),
)

TARGETS: dict[tuple[str, str], Target] = {
    (t.section, t.name): t
    for t in (
        Target("jobs", "faust_eps", "Faust turnstile summary, one worker", ">=", 10_000, "events/s"),
        Target(
            "jobs", "faust_vs_bare", "Faust summary / bare consumer, same run (medians)", ">=", 0.3, "ratio"
        ),
        Target(
            "jobs", "keepup_lag_s", "summary lag, cta-sim --speed 1200 07:00-10:00", "<=", 10, "s of events"
        ),
        Target(
            "jobs",
            "catchup_vs_bare",
            "1,000,000-event backlog (new app id, restart) / bare",
            ">=",
            0.3,
            "ratio",
        ),
        Target("jobs", "catchup_rereads", "re-reads while catching up a backlog", "<=", 5, "re-reads"),
        Target(
            "predictions",
            "p90_5min_s",
            "prediction p90 error up to 5 min ahead, no disruptions",
            "<=",
            60,
            "s",
        ),
        Target(
            "predictions",
            "mae_gain_vs_cta",
            "MAE below the CTA last-five method, --disruptions",
            ">=",
            0.2,
            "ratio",
        ),
        Target(
            "predictions",
            "p90_5min_two_workers_s",
            "published p90 error up to 5 min ahead, one and two workers, no disruptions",
            "<=",
            60,
            "s",
        ),
        Target(
            "predictions",
            "mae_two_vs_one_worker",
            "published MAE of two workers / of one, same arrivals, --disruptions",
            "<=",
            1.05,
            "ratio",
        ),
        Target(
            "predictions",
            "takeover_s",
            "one of two workers killed: the other covers every line (median)",
            "<=",
            30,
            "s",
        ),
        Target(
            "predictions",
            "x_speed600",
            "prediction job throughput / arrival rate of --speed 600",
            ">=",
            10,
            "ratio",
        ),
        Target("registry", "lookup_rps", "registry lookups of a registered schema", ">=", 5_000, "lookups/s"),
        Target(
            "rest_proxy", "avro_rps", "REST Proxy, one Avro record per request", ">=", 2_000, "requests/s"
        ),
        Target(
            "secure", "sim_ratio", "cta-sim --speed max, secured / plaintext (same run)", ">=", 0.5, "ratio"
        ),
        Target(
            "secure",
            "faust_ratio",
            "Faust turnstile summary, secured / plaintext (same run)",
            ">=",
            0.5,
            "ratio",
        ),
        Target("sim", "eps", "cta-sim --speed max", ">=", 100_000, "events/s"),
        Target("sim", "vs_bare", "cta-sim / bare pre-serialized producer", ">=", 0.5, "ratio"),
        Target("sim", "vs_serializing", "cta-sim / SerializingProducer + AvroSerializer", ">=", 2.0, "ratio"),
        Target("sim", "rss_mb", "cta-sim peak resident memory (both processes)", "<=", 200, "MB"),
        Target("ssh", "rss_mb", "SSH dashboard, resident memory per session (4 sessions)", "<=", 150, "MB"),
        Target("web", "first_frame_s", "web dashboard, time to first frame in Chromium", "<=", 3, "s"),
        Target(
            "web", "rss_mb", "web dashboard, resident memory per browser session (4 pages)", "<=", 150, "MB"
        ),
        Target(
            "web",
            "cpu_pct",
            "web dashboard, CPU per browser session, cta-sim --speed 60",
            "<=",
            10,
            "% of a core",
        ),
        Target("rewind", "moment_s", "rewind: a moment of a simulated day shown (median)", "<=", 2, "s"),
        Target("rewind", "moment_max_s", "rewind: a moment of a simulated day shown (max)", "<=", 2, "s"),
        Target("stack", "up_s", "cta-stack up, stopped to healthy (median)", "<=", 30, "s"),
        Target("stack", "rss_gb", "the local stack's resident memory", "<=", 1.5, "GB"),
        Target(
            "stack",
            "first_train_s",
            "fresh clone, nothing cached: make install + cta-tui up until trains show",
            "<=",
            75,
            "s",
        ),
        Target("tui", "eps", "dashboard feed + state path", ">=", 50_000, "events/s"),
        Target(
            "tui", "rss_mb", "dashboard resident memory after a simulated day (--speed 60)", "<=", 150, "MB"
        ),
        Target("tui", "p99_ms", "event-to-screen latency, p99, every job running", "<=", 250, "ms"),
        *TUI_CPU_TARGETS,
        Target(
            "tui",
            "rss_growth_mb",
            "dashboard RSS growth over the second half of a simulated day",
            "<=",
            10,
            "MB",
        ),
    )
}


@dataclass(frozen=True)
class Check:
    target: Target
    figure: float
    limit: float

    @property
    def met(self) -> bool:
        return self.figure >= self.limit if self.target.op == ">=" else self.figure <= self.limit

    @property
    def verdict(self) -> str:
        return "meets" if self.met else "**MISSES**"

    def describe(self) -> str:
        """``figure op limit unit``, e.g. ``17,151 >= 10,000 events/s``."""
        return f"{_fmt(self.figure)} {self.target.op} {_fmt(self.limit)} {self.target.unit}"

    def row(self) -> str:
        t = self.target
        moved = f" (moved by {t.env_var}; default {_fmt(t.value)})" if self.limit != t.value else ""
        return f"| {t.section} | {t.what} | {_fmt(self.figure)} | {t.op} {_fmt(self.limit)}{moved} | {t.unit} | {'yes' if self.met else '**NO**'} |"


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}".rstrip("0").rstrip(".")


def check(section: str, name: str, figure: float) -> Check:
    target = TARGETS[(section, name)]
    return Check(target, float(figure), target.limit())


@dataclass
class Section:
    """A benchmark section: markdown for docs/benchmarks.md and its target checks."""

    markdown: str
    checks: list[Check] = field(default_factory=list)


def table(checks: list[Check]) -> list[str]:
    """The markdown table of checks (docs/benchmarks.md's summary, --check's report)."""
    return [
        "| section | target | figure | target | unit | met |",
        "|---|---|---:|---|---|---|",
        *(c.row() for c in checks),
    ]


def cores() -> int:
    """The cores this process may run on (the machine's, less any affinity limit)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
