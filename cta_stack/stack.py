"""The stack as a whole: bring services up in dependency order, stop them, report status.

IO lives here and in the modules it calls; the CLI only renders.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import psutil

from cta_core.ports import LOCALHOST
from cta_core.settings import BROKERS_FILE, Settings, default_postgres_dsn, recorded_brokers
from cta_stack.errors import PortInUse, ServiceFailed, StackError
from cta_stack.health import Health
from cta_stack.jars import Jars, JarSet, fetch_all, needs_maven
from cta_stack.java import check_java, check_maven
from cta_stack.kafka import is_formatted
from cta_stack.launch import Launcher
from cta_stack.net import port_free, port_holder, port_open
from cta_stack.paths import StackLayout, jar_cache_dir
from cta_stack.principals import ADMIN, SASL_MECHANISM
from cta_stack.secure_files import Endpoints, SecureFiles, secure_dir
from cta_stack.services import ServiceSpec, select, services_for
from cta_stack.supervisor import ProcessRecord, resident_memory, running, stop, uptime

POLL_INTERVAL = 0.25
LOG_TAIL_LINES = 30
#: how long a failed JVM's last words may take to reach its .out file (through the copier)
OUT_SETTLE_S = 2.0


class Reporter(Protocol):
    """Where progress goes (the CLI renders it with rich; tests and benches ignore it)."""

    def service(self, name: str, state: str, detail: str = "") -> None: ...

    def fetch_line(self, jar_set: str, line: str) -> None: ...


class NullReporter:
    def service(self, name: str, state: str, detail: str = "") -> None:
        pass

    def fetch_line(self, jar_set: str, line: str) -> None:
        pass


@dataclass
class StatusRow:
    name: str
    title: str
    state: str  # running | stopped | external | not provided
    port: int
    pid: int | None = None
    healthy: bool | None = None
    uptime_s: float | None = None
    rss_bytes: int | None = None
    data_bytes: int | None = None
    detail: str = ""


@dataclass
class UpResult:
    started: list[str] = field(default_factory=list)
    already_running: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 256 * 1024))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(deque(data.splitlines(), maxlen=lines))


def dir_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (
                    os.lstat(os.path.join(root, name)).st_blocks * 512
                )  # blocks in use (Kafka index files are sparse)
    return total


def local_view(settings: Settings, secure: SecureFiles | None = None) -> Settings:
    """The settings the stack itself uses: its own services on 127.0.0.1 at the configured
    ports, plain connections (on a secured stack: SASL_SSL and HTTPS as ``admin``).
    ``CTA_BOOTSTRAP_SERVERS`` & co. may point clients at another cluster; the stack still
    starts, checks and wires up its local services."""
    ports = settings.ports
    plain = replace(
        settings,
        bootstrap_servers=ports.bootstrap_servers(),
        schema_registry_url=f"http://{LOCALHOST}:{ports.schema_registry}",
        rest_proxy_url=f"http://{LOCALHOST}:{ports.rest_proxy}",
        connect_url=f"http://{LOCALHOST}:{ports.connect}",
        security_protocol=None,
        sasl_mechanism=None,
        sasl_username=None,
        sasl_password=None,
        ssl_ca_location=None,
        registry_auth=None,
        kafka_config={},
        client_config=None,
        registry_ca=None,
        rest_proxy_auth=None,
        rest_proxy_ca=None,
        file_kafka={},
        postgres_dsn=settings.postgres_dsn
        if settings.external_postgres
        else default_postgres_dsn(ports.postgres),
    )
    return plain if secure is None else as_principal(plain, secure, ADMIN)


def as_principal(settings: Settings, secure: SecureFiles, principal: str) -> Settings:
    """``settings`` (the stack's own, plain) as ``principal`` of the secured stack ``secure``:
    SASL_SSL with its password, the registry and REST Proxy over HTTPS with its user."""
    ports = settings.ports
    return replace(
        settings,
        schema_registry_url=f"https://{LOCALHOST}:{ports.schema_registry}",
        rest_proxy_url=f"https://{LOCALHOST}:{ports.rest_proxy}",
        security_protocol="SASL_SSL",
        sasl_mechanism=SASL_MECHANISM,
        sasl_username=principal,
        sasl_password=secure.passwords[principal],
        ssl_ca_location=str(secure.certs.ca),
        registry_auth=secure.user_info(principal),
    )


class Stack:
    def __init__(
        self,
        settings: Settings,
        *,
        layout: StackLayout | None = None,
        jar_cache: Path | None = None,
        env: Mapping[str, str] | None = None,
        secure: SecureFiles | None = None,
    ):
        self.layout = layout or StackLayout.at(settings.stack_dir)
        #: the stack's secrets when it is secured (``up --secure``, recorded in its directory)
        self.secure = secure or SecureFiles.load(self.layout.root)
        self.settings = local_view(settings, self.secure)
        self._given = settings
        self.env = dict(os.environ if env is None else env)
        self._jar_cache = jar_cache or jar_cache_dir(self.env)
        self.jars = Jars.in_cache(self._jar_cache)
        self.launcher = Launcher(self.settings, self.layout, self.jars, self.env, self.secure)
        self._java: str | None = None
        #: This stack's services: one entry per Kafka broker (kafka, kafka-2, ...).
        self.services = services_for(self.settings.ports.kafka_brokers)

    @property
    def brokers(self) -> int:
        return self.settings.ports.kafka_brokers

    def with_brokers(self, brokers: int) -> Stack:
        """This stack with ``brokers`` Kafka brokers (``cta-stack up --brokers N``).

        A cluster's size is fixed when its storage is formatted (the controller quorum is
        every broker): a stack directory with data of another size is refused."""
        recorded = recorded_brokers(self.layout.root)
        has_data = is_formatted(self.layout.data_dir("kafka"))
        existing = recorded or (1 if has_data else None)
        if has_data and existing is not None and existing != brokers:
            raise StackError(
                f"the stack in {self.layout.root} has {existing} Kafka broker(s), not {brokers}: "
                "its controller quorum is fixed; `cta-stack down --purge` deletes it, or use "
                "another CTA_STACK_DIR"
            )
        ports = replace(self._given.ports, kafka_brokers=brokers)
        return Stack(
            replace(self._given, ports=ports),
            layout=self.layout,
            jar_cache=self._jar_cache,
            env=self.env,
            secure=self.secure,
        )

    def secured(self) -> Stack:
        """This stack with SASL_SSL, ACLs and HTTPS (``cta-stack up --secure``): the CA,
        certificates and passwords are made on first use. A stack whose data was made
        plaintext is refused (its SCRAM users are set when the storage is formatted)."""
        if self.secure is not None:
            return self
        if is_formatted(self.layout.data_dir("kafka")):
            raise StackError(
                f"the stack in {self.layout.root} was made without --secure: its Kafka data has no "
                "users; `cta-stack down --purge` deletes it, or use another CTA_STACK_DIR"
            )
        self.layout.create()
        return Stack(
            self._given,
            layout=self.layout,
            jar_cache=self._jar_cache,
            env=self.env,
            secure=SecureFiles.ensure(self.layout.root),
        )

    # ---- queries -------------------------------------------------------------------------

    def is_external(self, spec: ServiceSpec) -> bool:
        return spec.name == "postgres" and self.settings.external_postgres

    def running(self, spec: ServiceSpec) -> tuple[ProcessRecord, psutil.Process] | None:
        return running(self.layout.pidfile(spec.name))

    def check(self, spec: ServiceSpec, timeout: float = 2.0) -> Health:
        """The service's real health check, after a cheap TCP probe for local ports."""
        if not self.is_external(spec) and not port_open(spec.port(self.settings.ports)):
            return Health(False, f"nothing listens on port {spec.port(self.settings.ports)}")
        return spec.check(self.settings, timeout)

    def unhealthy(self, only: Iterable[str] | None = None) -> dict[str, str]:
        """Selected, provided services that fail their health check: name -> why. Cheap when all is well."""
        out = {}
        for spec in select(only, lambda s: s.provided(), self.services):
            result = self.check(spec)
            if not result.ok:
                out[spec.name] = result.detail
        return out

    def status(self, services: Iterable[ServiceSpec] | None = None) -> list[StatusRow]:
        rows = []
        for spec in self.services if services is None else services:
            port = spec.port(self.settings.ports)
            row = StatusRow(spec.name, spec.title, "stopped", port)
            if not spec.provided():
                row.state = "not provided"
                rows.append(row)
                continue
            if self.is_external(spec):
                row.state = "external"
            else:
                found = self.running(spec)
                if found is not None:
                    record, proc = found
                    row.state = "running"
                    row.pid = record.pid
                    row.uptime_s = uptime(record)
                    row.rss_bytes = resident_memory(proc)
                elif not port_free(port):
                    holder = port_holder(port)
                    row.detail = f"port {port} held by another process" + (f" ({holder})" if holder else "")
            if spec.has_data and not self.is_external(spec):
                data = self.layout.data_dir(spec.name)
                row.data_bytes = dir_size(data) if data.exists() else 0
            if row.state in ("running", "external") or row.detail:
                result = self.check(spec)
                row.healthy = result.ok
                if not row.detail:
                    row.detail = result.detail
            rows.append(row)
        return rows

    # ---- up ------------------------------------------------------------------------------

    def up(
        self,
        only: Iterable[str] | None = None,
        reporter: Reporter | None = None,
    ) -> UpResult:
        """Start what is not running, wait until everything selected is healthy.

        Raises :class:`StackError` (port taken, Java missing, Maven failed) before
        starting anything, or :class:`ServiceFailed` with the service's log tail.
        """
        rep = reporter or NullReporter()
        t0 = time.monotonic()
        chosen = select(only, lambda s: s.provided(), self.services)
        self.layout.create()
        (self.layout.root / BROKERS_FILE).write_text(f"{self.brokers}\n")
        with self._exclusive(rep):
            result = self._up(chosen, rep)
        result.seconds = time.monotonic() - t0
        return result

    @contextlib.contextmanager
    def _exclusive(self, rep: Reporter) -> Iterator[None]:
        """One ``up``/``down`` at a time per stack directory (e.g. two test sessions that
        both find the stack stopped): the second waits, then finds the services running."""
        with (self.layout.run_dir / "lock").open("a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                rep.service("lock", "waiting", "another cta-stack up/down runs on this stack directory")
                fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _up(self, chosen: list[ServiceSpec], rep: Reporter) -> UpResult:
        result = UpResult()
        result.skipped = [s.name for s in self.services if not s.provided()]
        to_start: list[ServiceSpec] = []
        waiting: list[ServiceSpec] = []  # started earlier (ours) or external: only wait for health
        for spec in chosen:
            if self.is_external(spec):
                result.external.append(spec.name)
                waiting.append(spec)
            elif self.running(spec) is not None:
                result.already_running.append(spec.name)
                waiting.append(spec)
            else:
                to_start.append(spec)

        self._preflight(to_start, rep)
        if self.secure is not None:
            self.secure.write_clients(self._endpoints())

        healthy: set[str] = set()
        brokers = [s.name for s in chosen if s.broker]
        # users and ACLs once the brokers answer (not at all when no broker is chosen)
        provisioned = self.secure is None or not brokers
        launched: dict[str, float] = {}  # name -> monotonic launch time (or wait start)
        for spec in waiting:
            launched[spec.name] = time.monotonic()
            rep.service(spec.name, "checking", "external" if self.is_external(spec) else "already running")
        pending = list(to_start)
        for spec in pending:
            rep.service(spec.name, "waiting", ", ".join(spec.needs))

        while len(healthy) < len(chosen):
            for spec in list(pending):
                if all(d in healthy for d in spec.needs):
                    pending.remove(spec)
                    rep.service(spec.name, "starting")
                    try:
                        self.launcher.launch(spec, self._java)
                    except StackError as exc:
                        rep.service(spec.name, "failed", str(exc))
                        raise ServiceFailed(spec.title, str(exc), self._tail(spec), self._log(spec)) from exc
                    launched[spec.name] = time.monotonic()
                    result.started.append(spec.name)
            for spec in chosen:
                if spec.name in healthy or spec.name not in launched:
                    continue
                self._poll(spec, launched[spec.name], healthy, rep)
            if not provisioned and all(name in healthy for name in brokers):
                self._provision(rep)
                provisioned = True
            if len(healthy) < len(chosen):
                time.sleep(POLL_INTERVAL)
        return result

    def _endpoints(self) -> Endpoints:
        return Endpoints(
            self.settings.bootstrap_servers, self.settings.schema_registry_url, self.settings.rest_proxy_url
        )

    def _provision(self, rep: Reporter) -> None:
        """A secured stack's principals (SCRAM credentials) and ACLs, once its brokers answer."""
        from cta_stack import acl_apply, acl_plan

        assert self.secure is not None
        rep.service("acls", "starting", "principals and ACLs")
        try:
            count = acl_apply.provision(
                self.settings.librdkafka(), dict(self.secure.passwords), acl_plan.plan()
            )
        except StackError as exc:
            rep.service("acls", "failed", str(exc))
            raise
        rep.service("acls", "healthy", f"{len(self.secure.passwords) - 1} principals, {count} ACLs")

    def _tail(self, spec: ServiceSpec) -> str:
        """The end of a service's log, and of a JVM's own output (what it printed before
        log4j2 took over, e.g. a bad JVM option) when there is any."""
        text = tail(self.layout.log_file(spec.name))
        out = self.layout.out_file(spec.name)
        if spec.java and out.exists():
            # the copier may still be writing what the JVM printed as it died
            deadline = time.monotonic() + OUT_SETTLE_S
            while len(tail(out, 10).splitlines()) <= 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            text = "\n".join(t for t in (text, tail(out, 10)) if t)
        return text

    def _log(self, spec: ServiceSpec) -> str:
        return str(self.layout.log_file(spec.name))

    def _poll(self, spec: ServiceSpec, since: float, healthy: set[str], rep: Reporter) -> None:
        external = self.is_external(spec)
        if not external and self.running(spec) is None:
            reason = "the process exited"
            rep.service(spec.name, "failed", reason)
            raise ServiceFailed(spec.title, reason, self._tail(spec), self._log(spec))
        check = self.check(spec, timeout=1.5)
        elapsed = time.monotonic() - since
        if check.ok:
            healthy.add(spec.name)
            rep.service(spec.name, "healthy", f"{check.detail} ({elapsed:.1f}s)")
            return
        if external:
            rep.service(spec.name, "failed", check.detail)
            raise StackError(
                f"{spec.title} at {self.settings.postgres_dsn.split('@')[-1]} (CTA_POSTGRES_DSN) "
                f"does not answer: {check.detail}"
            )
        if elapsed > spec.start_timeout:
            reason = f"not healthy after {spec.start_timeout:.0f}s ({check.detail})"
            rep.service(spec.name, "failed", reason)
            stop(self.layout.pidfile(spec.name), sig=spec.stop_signal, timeout=spec.stop_timeout)
            raise ServiceFailed(spec.title, reason, self._tail(spec), self._log(spec))
        rep.service(spec.name, "starting", check.detail)

    def _preflight(self, to_start: list[ServiceSpec], rep: Reporter) -> None:
        """Everything that can fail before a process starts: ports, Java, jars."""
        for spec in to_start:
            for port in spec.all_ports(self.settings.ports):
                if not port_free(port):
                    raise PortInUse(spec.title, port, port_holder(port))
        if any(s.java for s in to_start):
            self._java = check_java(self.env)
            missing = self.jars.missing()
            if missing:
                self._fetch_jars(missing, check_maven(self.env) if needs_maven(missing) else None, rep)

    def _fetch_jars(self, missing: list[JarSet], mvn: str | None, rep: Reporter) -> None:
        """Every missing jar set at once (from jars.lock, else one Maven each), on one "jars" progress line."""
        names = " and ".join(s.name for s in missing)
        rep.service("jars", "fetching", f"{names} jars from Maven Central")
        errors = fetch_all(missing, on_line=rep.fetch_line, mvn=mvn)
        if errors:
            rep.service("jars", "failed", str(errors[0]).splitlines()[0])
            raise errors[0]
        rep.service("jars", "fetched", f"{names} jars in {self._jar_cache}")

    # ---- down ----------------------------------------------------------------------------

    def down(
        self, purge: bool = False, reporter: Reporter | None = None, only: Iterable[str] | None = None
    ) -> list[str]:
        """Stop the processes this stack started (reverse start order); ``purge`` deletes data.

        ``only`` stops just those services (not what depends on them), e.g. to restart one.
        """
        rep = reporter or NullReporter()
        names = set(only or [s.name for s in self.services])
        if purge and names != {s.name for s in self.services}:
            raise ValueError("--purge deletes the whole stack's data; it cannot be combined with --only")
        if not self.layout.root.is_dir():
            return []
        self.layout.run_dir.mkdir(exist_ok=True)
        with self._exclusive(rep):
            return self._down(names, purge, rep)

    def _down(self, names: set[str], purge: bool, rep: Reporter) -> list[str]:
        stopped = []
        for spec in reversed([s for s in self.services if s.name in names]):
            pidfile = self.layout.pidfile(spec.name)
            if not pidfile.exists():
                continue
            rep.service(spec.name, "stopping")
            if stop(pidfile, sig=spec.stop_signal, timeout=spec.stop_timeout):
                stopped.append(spec.name)
                rep.service(spec.name, "stopped")
        if purge:
            for path in (
                self.layout.data_root,
                self.layout.root / "kafka-cluster-id",
                self.layout.root / BROKERS_FILE,
                self.layout.config_dir,
                secure_dir(self.layout.root),
            ):
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
        return stopped
