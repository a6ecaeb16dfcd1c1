"""A job on a secured stack runs with its principal's client config, and a refusal in
its output becomes its row's detail, while it runs and after it failed (real processes
stand in for the pipeline's commands; no Kafka needed)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from cta_stack import jobs
from cta_stack.paths import StackLayout
from cta_stack.secure_files import SecureFiles

SAYS_REFUSED = """
import os, sys, time
print("starting as", os.environ.get("CTA_CLIENT_CONFIG", "nobody"), flush=True)
print("delivery failed: KafkaError{code=TOPIC_AUTHORIZATION_FAILED,val=29}", flush=True)
time.sleep(float(sys.argv[1]))
sys.exit(1)
"""


def _status_when(layout: StackLayout, job: jobs.Job, wanted: str) -> jobs.JobStatus:
    deadline = time.monotonic() + 15
    while True:
        status = jobs.status(layout, job)
        if status.state == wanted and (wanted != jobs.RUNNING or status.detail):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def test_a_refused_job_shows_it_running_and_failed(tmp_path: Path) -> None:
    layout = StackLayout.at(tmp_path / "stack")
    files = SecureFiles.ensure(layout.root)
    job = jobs.Job("sim", (sys.executable, "-c", SAYS_REFUSED, "1.5"), "refused", principal="sim")
    assert jobs.start(layout, job, "test").changed
    running = _status_when(layout, job, jobs.RUNNING)
    expected = (
        "principal sim: refused on a topic, missing READ/WRITE/CREATE on it: "
        "delivery failed: KafkaError{code=TOPIC_AUTHORIZATION_FAILED,val=29}"
    )
    assert running.detail == expected
    failed = _status_when(layout, job, jobs.FAILED)
    assert failed.detail == expected and failed.exit_code == 1
    assert f"starting as {files.client_config('sim')}" in layout.log_file("sim").read_text()


def test_a_plaintext_stack_runs_jobs_in_the_environment_as_it_is(tmp_path: Path) -> None:
    layout = StackLayout.at(tmp_path / "stack")
    job = jobs.Job("sim", (sys.executable, "-c", "print('ok')"), "fine", principal="sim")
    assert jobs.job_env(layout, job) is None
    SecureFiles.ensure(layout.root)
    env = jobs.job_env(layout, job)
    assert env is not None and env["CTA_CLIENT_CONFIG"].endswith("/secure/clients/sim.properties")
    assert jobs.job_env(layout, jobs.Job("stations", ("true",), "no Kafka")) is None
