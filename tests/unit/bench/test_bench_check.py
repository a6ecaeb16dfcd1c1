"""`python -m bench --check`: figures against the targets of bench/targets.py, a missed
target (here: one moved above the figure by its environment variable) exits 1.

The section's run() is replaced by one returning a fixed figure: the benchmark itself
needs the stack and minutes; `python -m bench --check jobs` runs it for real."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

import bench.__main__ as bench_main
from bench.targets import TARGETS, Section, check


def _fake_jobs(monkeypatch: pytest.MonkeyPatch, figure: float) -> None:
    module = types.SimpleNamespace(run=lambda: Section("## Jobs\n", [check("jobs", "faust_eps", figure)]))
    monkeypatch.setattr(bench_main.importlib, "import_module", lambda _name: module)


def test_check_passes_when_the_figure_meets_the_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENCH_TARGET_JOBS_FAUST_EPS", raising=False)
    _fake_jobs(monkeypatch, TARGETS[("jobs", "faust_eps")].value + 1)
    assert bench_main.main(["--check", "jobs"]) == 0


def test_check_fails_when_a_target_is_raised_above_the_figure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BENCH_TARGET_JOBS_FAUST_EPS", "1000000")
    _fake_jobs(monkeypatch, 17_000)
    assert bench_main.main(["--check", "jobs"]) == 1
    err = capsys.readouterr().err
    assert "MISSED jobs.faust_eps" in err and "17,000 >= 1,000,000 events/s" in err


def test_check_does_not_write_the_docs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    monkeypatch.setattr(bench_main, "OUT", out)
    _fake_jobs(monkeypatch, 1.0)
    bench_main.main(["--check", "jobs"])
    assert not out.exists()


def test_upper_limits_and_unknown_areas() -> None:
    assert check("tui", "p99_ms", 100).met and not check("tui", "p99_ms", 300).met
    with pytest.raises(SystemExit) as exc:
        bench_main.main(["--check", "no_such_area"])
    assert exc.value.code == 2


def test_every_section_module_checks_only_known_targets() -> None:
    sections = {section for section, _ in TARGETS}
    modules = {p.stem.removeprefix("bench_") for p in Path(bench_main.__file__).parent.glob("bench_*.py")}
    assert sections <= modules
