"""The job catalogue and job control with real processes (small programs stand in
for the pipeline's commands; no Kafka needed)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from cta_stack import jobs
from cta_stack.paths import StackLayout
from cta_stack.supervisor import running


def _job(name: str, code: str, *, oneshot: bool = False) -> jobs.Job:
    return jobs.Job(name, (sys.executable, "-c", code), name, oneshot=oneshot)


def _wait(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def layout(tmp_path: Path) -> StackLayout:
    return StackLayout.at(tmp_path / "stack")


def test_catalogue_names_every_job_once_and_the_suffix_isolates_the_trial_topics() -> None:
    names = [j.name for j in jobs.catalogue()]
    assert names == ["stations", "connector", "ksql", "faust", "predict", "weather", "sim"]
    trial = jobs.by_name(jobs.catalogue(topic_suffix=".t1", faust_app_id="trial-faust"))
    assert trial["faust"].group_id == "trial-faust"
    assert "--topic-suffix" in trial["faust"].argv and ".t1" in trial["faust"].argv
    assert trial["sim"].argv[-2:] == ("--topic-suffix", ".t1")
    assert all(j.argv[0].startswith(str(jobs.bin_dir())) for j in trial.values())


def test_a_job_started_twice_runs_once_and_stop_records_who_asked(layout: StackLayout) -> None:
    job = _job("sleeper", "import time; time.sleep(60)")
    first = jobs.start(layout, job, "alice")
    second = jobs.start(layout, job, "bob")
    try:
        assert first.changed and not second.changed
        assert second.pid == first.pid
        st = jobs.status(layout, job)
        assert st.state == jobs.RUNNING and st.pid == first.pid and st.restarts == 0
    finally:
        out = jobs.stop(layout, job, "carol")
    assert out.changed
    st = jobs.status(layout, job)
    assert st.state == jobs.STOPPED and "carol" in st.detail
    requests = layout.log_file(jobs.REQUESTS_LOG).read_text()
    assert "start sleeper by alice: sleeper: started" in requests
    assert "start sleeper by bob: sleeper: already running" in requests
    assert "stop sleeper by carol: sleeper: stopped" in requests
    # the restart counter counts starts after the first
    jobs.start(layout, job, "alice")
    try:
        assert jobs.status(layout, job).restarts == 1
    finally:
        jobs.stop(layout, job, "alice")


def test_exit_codes_are_recorded(layout: StackLayout) -> None:
    ok = _job("ok", "print('hello')", oneshot=True)
    bad = _job("bad", "import sys; sys.exit(3)")
    jobs.start(layout, ok, "t")
    jobs.start(layout, bad, "t")
    _wait(
        lambda: (
            jobs.status(layout, ok).state != jobs.RUNNING and jobs.status(layout, bad).state != jobs.RUNNING
        )
    )
    assert jobs.status(layout, ok).label == "exited 0"
    assert jobs.status(layout, bad).label == "failed exit 3"
    assert "exited with code 3" in layout.log_file("bad").read_text()


def test_a_missing_program_is_not_installed(layout: StackLayout) -> None:
    job = jobs.Job("ghost", ("/nonexistent/cta-ghost",), "ghost")
    assert jobs.status(layout, job).state == jobs.MISSING
    assert not jobs.start(layout, job, "t").changed
    assert not running(layout.run_dir / "app-ghost.json")


def test_bring_up_waits_for_one_shot_jobs_and_starts_nothing_twice(layout: StackLayout) -> None:
    setup = _job("setup", "print('setup done')", oneshot=True)
    worker = _job("worker", "import time; time.sleep(60)")
    ksql = jobs.Job("ksql", (sys.executable, "-c", "pass"), "ksql", oneshot=True, needs_ksql=True)
    seen: list[tuple[str, str]] = []
    try:
        first = jobs.bring_up(
            layout,
            [setup, ksql, worker],
            "t",
            ksql_available=False,
            progress=lambda j, s, _d: seen.append((j, s)),
        )
        assert first.started == ["setup", "worker"] and first.skipped == ["ksql"]
        assert ("setup", "done") in seen
        pid = jobs.status(layout, worker).pid
        again = jobs.bring_up(layout, [setup, ksql, worker], "t", ksql_available=False)
        assert again.started == [] and again.already == ["setup", "worker"]
        assert jobs.status(layout, worker).pid == pid
        assert layout.log_file("setup").read_text().count("\nsetup done\n") == 1
        # a restart from the dashboard counts; a pipeline brought up again starts from zero
        jobs.restart(layout, worker, "t")
        assert jobs.status(layout, worker).restarts == 1
        jobs.stop(layout, worker, "t")
        jobs.bring_up(layout, [setup, ksql, worker], "t", ksql_available=False)
        assert jobs.status(layout, worker).restarts == 0
    finally:
        jobs.stop(layout, worker, "t")


def test_a_job_stopped_from_outside_shows_stopped(layout: StackLayout) -> None:
    """`cta-stack down` (or a kill) sends SIGTERM: the runner passes it on and the job
    shows stopped, not failed."""
    from cta_stack import apps

    job = _job("worker", "import time; time.sleep(60)")
    jobs.start(layout, job, "t")
    _wait(lambda: "=== running pid" in layout.log_file("worker").read_text())
    assert apps.stop_app(layout, "worker")
    _wait(lambda: jobs.exit_file(layout, "worker").exists())
    st = jobs.status(layout, job)
    assert st.state == jobs.STOPPED and st.exit_code == 143
