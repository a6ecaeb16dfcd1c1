"""The pipeline screen's backend: job status and control (the stack's supervisor),
consumer-group lag (Kafka admin), connector tasks (Connect REST) and replication
slot lag (PostgreSQL). Everything here blocks; the screen calls it from thread
workers only.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol

import httpx

from cta_core import topics
from cta_core.settings import Settings
from cta_stack import api as job_control
from cta_stack.api import StackLayout
from cta_tui.feeds.errors import short_error
from cta_tui.state.pipeline_jobs import (
    TP,
    ConnectorView,
    GroupLag,
    JobView,
    OffsetsSample,
    PipelineSnapshot,
    SlotView,
    group_lags,
    job_rates,
    topic_rates,
)

#: Groups looked at besides the jobs' own (a broker shared by many tools can have hundreds).
MAX_GROUPS = 40
#: States of a group nobody consumes in (left over by a tool or a test run that ended):
#: other tools' groups are shown only while they have members
IDLE_GROUP_STATES = frozenset({"Empty", "Dead"})
#: Seconds between two listings of the broker's consumer groups.
GROUP_LIST_PERIOD = 15.0


class PipelineBackend(Protocol):
    """What the pipeline screen needs: a snapshot, and job control."""

    def snapshot(self) -> PipelineSnapshot: ...

    def control(self, action: str, name: str, sender: str) -> job_control.Outcome: ...

    def log_path(self, name: str) -> str: ...

    def close(self) -> None: ...


def pipeline_topics(catalogue: Sequence[job_control.Job]) -> set[str]:
    """Topics whose readers the lag table shows: every topic of the contract and of the jobs."""
    names = set(topics.SPECS) | {topics.STATIONS_RAW, topics.LINE_STATIONS_RAW}
    for job in catalogue:
        names.update(job.consumes)
        names.update(job.produces)
    return names


class StackPipeline:
    """The real backend: jobs of the stack in ``settings.stack_dir``, the services of ``settings``."""

    def __init__(
        self,
        settings: Settings,
        catalogue: Sequence[job_control.Job] | None = None,
        *,
        layout: StackLayout | None = None,
        timeout: float = 3.0,
    ) -> None:
        self.settings = settings
        self.catalogue = list(catalogue if catalogue is not None else job_control.catalogue())
        self.layout = layout or StackLayout.at(settings.stack_dir)
        self.timeout = timeout
        self.topics = pipeline_topics(self.catalogue)
        self._admin: Any = None
        self._http = httpx.Client(timeout=timeout)
        self._pg: Any = None
        self._prev: OffsetsSample | None = None
        self._groups: list[str] = []
        self._group_state: dict[str, str] = {}
        self._groups_at = 0.0
        self._ksql: bool | None = None

    # ------------------------------------------------------------------ control

    def job(self, name: str) -> job_control.Job:
        for job in self.catalogue:
            if job.name == name:
                return job
        raise KeyError(name)

    def control(self, action: str, name: str, sender: str) -> job_control.Outcome:
        job = self.job(name)
        if job.needs_ksql and action in ("start", "restart"):
            self._ksql = None  # ask again: a ksqlDB server may have started since
            if not self._ksql_answers():
                return job_control.Outcome(
                    name, action, False, f"{name}: no ksqlDB server at {self.settings.ksql_url}"
                )
        if action == "start":
            return job_control.start(self.layout, job, sender)
        if action == "stop":
            return job_control.stop(self.layout, job, sender)
        if action == "restart":
            return job_control.restart(self.layout, job, sender)
        raise ValueError(f"unknown action {action!r}")

    def log_path(self, name: str) -> str:
        return str(self.layout.log_file(name))

    # ------------------------------------------------------------------ snapshot

    def snapshot(self) -> PipelineSnapshot:
        errors: list[str] = []
        now = time.time()
        sample = OffsetsSample(now)
        try:
            sample = self._offsets(now)
        except Exception as exc:
            errors.append(f"Kafka: {short_error(exc, 100)}")
        lags = group_lags(self._prev, sample) if sample.end else []
        rates = topic_rates(self._prev, sample)
        if sample.end:
            self._prev = sample
        views = []
        for job in self.catalogue:
            st = job_control.status(self.layout, job)
            produced, consumed, lag = job_rates(job.produces, job.group_id, rates, lags)
            detail = st.detail
            if job.needs_ksql and st.state in (job_control.NEVER,) and not self._ksql_answers():
                detail = "no ksqlDB server"
            views.append(
                JobView(
                    job.name,
                    st.state,
                    st.label,
                    st.pid,
                    st.uptime_s,
                    st.restarts,
                    produced if st.state == job_control.RUNNING else None,
                    consumed,
                    lag,
                    detail or job.description,
                    job.oneshot,
                    tuple(job.produces),
                )
            )
        connectors: list[ConnectorView] = []
        try:
            connectors = self._connectors()
        except Exception as exc:
            errors.append(f"Connect: {short_error(exc, 100)}")
        slots: list[SlotView] = []
        try:
            slots = self._slots()
        except Exception as exc:
            errors.append(f"PostgreSQL: {short_error(exc, 100)}")
        return PipelineSnapshot(
            now, tuple(views), tuple(lags), tuple(connectors), tuple(slots), tuple(errors)
        )

    def _ksql_answers(self) -> bool:
        if self._ksql is None:
            try:
                self._ksql = self._http.get(f"{self.settings.ksql_url}/info", timeout=1.0).status_code < 400
            except httpx.HTTPError:
                self._ksql = False
        return self._ksql

    def _admin_client(self) -> Any:
        if self._admin is None:
            from cta_core.kafka_clients import make_admin

            # librdkafka's log lines go to Python logging, never onto the dashboard's terminal
            self._admin = make_admin(self.settings, logger=logging.getLogger("cta_tui.pipeline.kafka"))
        return self._admin

    def _offsets(self, now: float) -> OffsetsSample:
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
        from confluent_kafka.admin import OffsetSpec

        admin = self._admin_client()
        t = self.timeout
        metadata = admin.list_topics(timeout=t)
        present = [name for name in self.topics if name in metadata.topics]
        tps = [TopicPartition(name, p) for name in present for p in metadata.topics[name].partitions]
        end: dict[TP, int] = {}
        if tps:
            futures = admin.list_offsets({tp: OffsetSpec.latest() for tp in tps}, request_timeout=t)
            for tp, fut in futures.items():
                with contextlib.suppress(Exception):
                    end[(tp.topic, tp.partition)] = int(fut.result().offset)
        if now - self._groups_at >= GROUP_LIST_PERIOD or not self._groups:
            listed = admin.list_consumer_groups(request_timeout=t).result()
            wanted = {j.group_id for j in self.catalogue if j.group_id}
            states = {g.group_id: g.state.name.title() if g.state is not None else "" for g in listed.valid}
            mine = [g for g in states if g in wanted]
            others = sorted(g for g, st in states.items() if g not in wanted and st not in IDLE_GROUP_STATES)
            others = others[:MAX_GROUPS]
            self._groups = mine + others
            self._group_state = states
            self._groups_at = now
        committed: dict[str, dict[TP, int]] = {}
        futures = {
            g: admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g)], request_timeout=t)
            for g in self._groups
        }
        for group, by_group in futures.items():
            for fut in by_group.values():
                try:
                    result = fut.result()
                except Exception:
                    continue
                offsets = {
                    (tp.topic, tp.partition): int(tp.offset)
                    for tp in result.topic_partitions or []
                    if tp.topic in self.topics and tp.offset >= 0
                }
                if offsets:
                    committed[group] = offsets
        return OffsetsSample(now, end, committed, self._group_state)

    def _connectors(self) -> list[ConnectorView]:
        url = self.settings.connect_url
        response = self._http.get(f"{url}/connectors", params={"expand": "status"})
        response.raise_for_status()
        out = []
        for name, info in sorted(response.json().items()):
            status = info.get("status", {})
            connector = status.get("connector", {})
            tasks = status.get("tasks", [])
            failed = [t for t in tasks if t.get("state") == "FAILED"]
            trace = connector.get("trace") or (failed[0].get("trace") if failed else None)
            out.append(
                ConnectorView(
                    name,
                    str(connector.get("state", "?")),
                    tuple(f"{t.get('id')}:{t.get('state')}" for t in tasks),
                    trace,
                )
            )
        return out

    def _slots(self) -> list[SlotView]:
        import psycopg

        if self._pg is None or self._pg.closed:
            self._pg = psycopg.connect(
                self.settings.postgres_dsn, connect_timeout=int(self.timeout), autocommit=True
            )
        try:
            rows = self._pg.execute(
                "SELECT slot_name, active, "
                "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint "
                "FROM pg_replication_slots ORDER BY slot_name"
            ).fetchall()
        except Exception:
            with contextlib.suppress(Exception):
                self._pg.close()
            self._pg = None
            raise
        return [SlotView(str(n), bool(a), None if lag is None else int(lag)) for n, a, lag in rows]

    def close(self) -> None:
        self._http.close()
        if self._pg is not None:
            with contextlib.suppress(Exception):
                self._pg.close()
        self._admin = None


class MemoryPipeline:
    """A backend for UI tests: fixed snapshots, control calls recorded."""

    def __init__(self, snapshot: PipelineSnapshot, logs: dict[str, str] | None = None) -> None:
        self._snapshot = snapshot
        self.calls: list[tuple[str, str, str]] = []
        self.logs = logs or {}

    def snapshot(self) -> PipelineSnapshot:
        return self._snapshot

    def control(self, action: str, name: str, sender: str) -> job_control.Outcome:
        self.calls.append((action, name, sender))
        return job_control.Outcome(name, action, True, f"{name}: {action} done")

    def log_path(self, name: str) -> str:
        return self.logs.get(name, f"/nonexistent/{name}.log")

    def close(self) -> None:
        pass


__all__ = ["GroupLag", "MemoryPipeline", "PipelineBackend", "StackPipeline", "pipeline_topics"]
