"""`cta-tui up`'s launcher, its pure parts: which names are services or jobs, and the
two summary lines."""

from __future__ import annotations

from pathlib import Path

from cta_stack import api
from cta_stack.jobs import UpReport
from cta_stack.stack import UpResult


def test_service_and_job_names_come_from_the_stack_and_the_catalogue() -> None:
    assert api.service_names() == ["postgres", "kafka", "schema-registry", "connect", "rest-proxy"]
    assert api.unknown_services(["kafka", "zookeeper", "connect", "nope"]) == ["zookeeper", "nope"]
    assert api.job_names() == [j.name for j in api.catalogue()]
    assert {"stations", "faust", "sim"} <= set(api.job_names())


def test_summary_lines_say_what_started_and_what_failed() -> None:
    launched = api.Launched(
        UpResult(started=["postgres", "kafka"], already_running=["connect"]),
        UpReport(started=["faust"], already=["stations"], skipped=["ksql"], failed=["sim"]),
        Path("/stack/logs"),
    )
    assert launched.failed
    assert api.summary_lines(launched) == [
        "stack: started postgres, kafka; already running: connect",
        "jobs: started faust; already done or running: stations; skipped: ksql; "
        "[red]failed: sim[/] (logs in /stack/logs)",
    ]


def test_a_second_run_starts_nothing() -> None:
    launched = api.Launched(UpResult(), UpReport(already=["stations", "sim"]), Path("/l"))
    assert not launched.failed
    assert api.summary_lines(launched) == [
        "stack: started nothing",
        "jobs: started nothing; already done or running: stations, sim",
    ]


def test_listed_names_only_the_groups_that_have_names() -> None:
    from cta_stack.summary import listed

    assert listed(("started ", ["kafka", "connect"]), ("skipped: ", []), ("failed: ", ["sim"])) == [
        "started kafka, connect",
        "failed: sim",
    ]
    assert listed() == []
