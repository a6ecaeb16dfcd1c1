"""The pipeline screen: the jobs (start, stop, restart, log), the lag of every consumer
group, and the services' health with Connect's trace and per-topic freshness.

Jobs are the stack's apps (:mod:`cta_stack.jobs`), so they keep running when the
dashboard quits. A thread worker reads a :class:`PipelineSnapshot` every few seconds
while this screen is open (Kafka admin calls, Connect, PostgreSQL: never on the event
loop); start/stop run in workers too. Read-only sessions see everything and are told
why the keys that change something do nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Label, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from cta_stack.api import Outcome
from cta_tui.common.footer import CtaFooter
from cta_tui.common.screen import CtaScreen
from cta_tui.common.status_bar import StatusBar
from cta_tui.common.synced import set_content
from cta_tui.feeds.pipeline_probe import PipelineBackend
from cta_tui.pipeline.jobs_table import GroupLagTable, JobsTable, short_topic
from cta_tui.pipeline.kept_backend import kept_backend
from cta_tui.pipeline.pipeline_table import ServicesTable, TopicsTable
from cta_tui.state.model import DashboardState
from cta_tui.state.pipeline_jobs import PipelineSnapshot

#: Seconds between two snapshots of jobs and lag while the screen is open.
PROBE_INTERVAL = 2.0

#: start, stop and restart share one footer entry ("sxr Job"), so ? and q stay visible at 80 columns
JOB = Binding.Group("Job", compact=True)

READ_ONLY_REFUSAL = "read-only session: jobs can be watched here, not started or stopped"


class PipelineScreen(CtaScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("s", "job('start')", "Start", group=JOB),
        Binding("x", "job('stop')", "Stop", group=JOB),
        Binding("r", "job('restart')", "Restart", group=JOB),
        Binding("l", "log", "Log"),
        Binding("t", "tail", "Tail"),
        Binding("j", "tab('jobs')", "Jobs", show=False),
        Binding("g", "tab('lag')", "Lag", show=False),
        Binding("v", "tab('services')", "Services", show=False),
        # the app's keys that matter less here leave the footer to this screen's (80 columns)
        Binding("p", "app.pop_screen", "Back", show=False),
        Binding("space", "app.do('toggle_pause')", "Pause", show=False),
    ]

    @dataclass
    class Probed(Message):
        snapshot: PipelineSnapshot

    @dataclass
    class JobDone(Message):
        outcome: Outcome

    def __init__(
        self,
        bootstrap: str,
        *,
        read_only: bool = False,
        backend: Callable[[], PipelineBackend] | None = None,
        interval: float = PROBE_INTERVAL,
    ) -> None:
        super().__init__()
        self.bootstrap = bootstrap
        self.read_only = read_only
        self.backend_factory = backend
        self.interval = interval
        self.snapshot: PipelineSnapshot | None = None
        self._backend: PipelineBackend | None = None
        self._wake = threading.Event()

    def compose(self) -> ComposeResult:
        yield StatusBar(read_only=self.read_only, id="status")
        with TabbedContent(id="pipeline-tabs"):
            with TabPane("Jobs", id="jobs"):
                yield JobsTable(id="jobs-table")
                yield Static("", id="job-detail")
            with TabPane("Lag", id="lag"):
                yield GroupLagTable(id="groups")
                yield Label("this dashboard's consumer")
                yield TopicsTable(id="topics")
            with TabPane("Services", id="services-tab"):
                yield ServicesTable(id="services")
                yield Static("", id="trace")
        yield CtaFooter()

    def on_mount(self) -> None:
        if self.backend_factory is None:
            self.query_one("#job-detail", Static).update(
                "job control is not available in this dashboard (no stack directory)"
            )
            return
        self._backend = kept_backend(self.app, self.backend_factory)
        self.query_one(JobsTable).focus()
        self.probe()

    def on_unmount(self) -> None:
        self._wake.set()  # the probe stops; the backend stays for the next visit

    # ------------------------------------------------------------------ workers

    def _get_backend(self) -> PipelineBackend:
        assert self._backend is not None, "made in on_mount"
        return self._backend

    @work(thread=True, exclusive=True, exit_on_error=False, group="pipeline-probe")
    def probe(self) -> None:
        worker = get_current_worker()
        backend = self._get_backend()
        while not worker.is_cancelled:
            self.post_message(self.Probed(backend.snapshot()))
            self._wake.wait(self.interval)
            self._wake.clear()

    @work(thread=True, exit_on_error=False, group="job-control")
    def control(self, action: str, name: str, sender: str) -> None:
        outcome = self._get_backend().control(action, name, sender)
        self.post_message(self.JobDone(outcome))
        self._wake.set()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        event.stop()  # handled here: the app's handler restarts the feeds only
        error = event.worker.error
        self.notify(f"{event.worker.group} failed: {error}", severity="error", timeout=8)
        if event.worker.group == "pipeline-probe":
            self.set_timer(5.0, self.probe)

    # ------------------------------------------------------------------ messages

    def on_pipeline_screen_probed(self, message: Probed) -> None:
        self.snapshot = message.snapshot
        self.query_one(JobsTable).show(message.snapshot)
        self.query_one(GroupLagTable).show(message.snapshot)
        self._show_detail()

    def on_pipeline_screen_job_done(self, message: JobDone) -> None:
        self.notify(message.outcome.message, timeout=4)
        self._set_note(message.outcome.message)

    @on(JobsTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._show_detail()

    def _set_note(self, note: str) -> None:
        self._note = note
        self._show_detail()

    def _show_detail(self) -> None:
        """The highlighted job's lag per topic and log file, and the last note."""
        name = self.query_one(JobsTable).selected
        lines = []
        if self.snapshot is not None and name is not None:
            job = next((j for j in self.snapshot.jobs if j.name == name), None)
            if job is not None:
                lines.append(f"{name}: {job.label} · {job.detail}")
            if job is not None and job.lag:
                lags = ", ".join(f"{short_topic(t)} {n:,}" for t, n in sorted(job.lag.items()))
                lines.append(f"{name} lag: {lags}")
            if self.snapshot.errors:
                lines.append("; ".join(self.snapshot.errors))
        note = getattr(self, "_note", "")
        if note:
            lines.append(note)
        set_content(self.query_one("#job-detail", Static), "\n".join(lines))

    # ------------------------------------------------------------------ actions

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab if tab != "services" else "services-tab"

    def action_job(self, action: str) -> None:
        name = self.query_one(JobsTable).selected
        if name is None or self.backend_factory is None:
            self.notify("no job selected", severity="warning", timeout=3)
            return
        if self.read_only:
            self.notify(READ_ONLY_REFUSAL, severity="warning", timeout=4)
            self._set_note(f"✖ {action} {name}: {READ_ONLY_REFUSAL}")
            return
        self._set_note(f"… {action} {name}")
        self.control(action, name, str(getattr(self.app, "sender", "cta-tui")))

    def action_tail(self) -> None:
        """Tail a topic: on the lag tab, the highlighted group's topic; on the jobs tab,
        the highlighted job's main output (else the tail asks which topic)."""
        topic = None
        tab = self.query_one(TabbedContent).active
        if tab == "lag":
            topic = self.query_one(GroupLagTable).selected_topic
        elif tab == "jobs" and self.snapshot is not None:
            name = self.query_one(JobsTable).selected
            job = next((j for j in self.snapshot.jobs if j.name == name), None)
            topic = job.produces[0] if job is not None and job.produces else None
        do = getattr(self.app, "action_do", None)
        if do is not None:
            do("tail", topic)

    def action_log(self) -> None:
        from cta_tui.pipeline.job_log import JobLogScreen

        name = self.query_one(JobsTable).selected
        if name is None or self.backend_factory is None:
            self.notify("no job selected", severity="warning", timeout=3)
            return
        self.app.push_screen(JobLogScreen(name, self._get_backend().log_path(name)))

    # ------------------------------------------------------------------ app redraws

    def show_state(self, state: DashboardState, now: float, note: str = "") -> None:
        self.query_one(StatusBar).show(state, note)
        self.query_one(ServicesTable).show(state, self.bootstrap)
        self.query_one(TopicsTable).show(state, now)
        traces = [f"{s.name} trace:\n{s.trace}" for s in state.services.values() if s.trace]
        trace = self.query_one("#trace", Static)
        set_content(trace, "\n".join(traces)[:2000])
        trace.display = bool(traces)
