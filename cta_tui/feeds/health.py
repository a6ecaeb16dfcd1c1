"""HTTP health checks of the pipeline's services for the pipeline screen (blocking; run
in a worker thread)."""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

import httpx

from cta_core.settings import Settings
from cta_tui.feeds.errors import short_error
from cta_tui.state.model import ServiceHealth

#: The Kafka Connect connector that loads the stations table.
CONNECTOR = "stations"


class HealthProbe(Protocol):
    def check(self) -> list[ServiceHealth]: ...

    def close(self) -> None: ...


class HttpHealthProbe:
    """Schema Registry ``GET /subjects``, REST Proxy ``GET /topics``, Connect
    ``GET /connectors/stations/status``, PostgreSQL (``SELECT 1``) and ksqlDB ``GET /info``."""

    def __init__(self, settings: Settings, timeout: float = 2.0) -> None:
        self.settings = settings
        self._client = httpx.Client(timeout=timeout, **settings.registry_http())
        self._proxy = httpx.Client(timeout=timeout, **settings.rest_proxy_http())
        #: one PostgreSQL connection kept between checks (a new one every few seconds
        #: costs a process on the server and a TCP and auth handshake here)
        self._pg: Any = None

    def _get(
        self, name: str, url: str, client: httpx.Client | None = None
    ) -> tuple[ServiceHealth, httpx.Response | None]:
        try:
            response = (client or self._client).get(url)
        except httpx.HTTPError as exc:
            return ServiceHealth(name, url, False, f"down: {short_error(exc)}"), None
        if response.status_code >= 400:
            return ServiceHealth(name, url, False, f"HTTP {response.status_code}"), response
        return ServiceHealth(name, url, True, "ok"), response

    def check(self) -> list[ServiceHealth]:
        s = self.settings
        out = []
        registry, resp = self._get("Schema Registry", f"{s.schema_registry_url}/subjects")
        if resp is not None and registry.ok:
            registry = ServiceHealth(registry.name, registry.url, True, f"ok, {len(resp.json())} subjects")
        out.append(registry)
        proxy, resp = self._get("REST Proxy", f"{s.rest_proxy_url}/topics", self._proxy)
        out.append(proxy)
        out.append(self._connect())
        out.append(self._postgres())
        ksql, _ = self._get("ksqlDB", f"{s.ksql_url}/info")
        if not ksql.ok:
            ksql = ServiceHealth(
                "ksqlDB",
                ksql.url,
                False,
                "not running; the Faust worker can write the summary",
                optional=True,
            )
        out.append(ksql)
        return out

    def _connect(self) -> ServiceHealth:
        url = f"{self.settings.connect_url}/connectors/{CONNECTOR}/status"
        health, resp = self._get("Kafka Connect", url)
        if resp is None:
            return health
        if resp.status_code == 404:
            return ServiceHealth("Kafka Connect", url, False, f"connector {CONNECTOR!r} not created")
        if not health.ok:
            return health
        try:
            body = resp.json()
            connector = body.get("connector", {})
            tasks = body.get("tasks", [])
        except (ValueError, AttributeError):
            return ServiceHealth("Kafka Connect", url, False, "unexpected answer")
        states = [str(connector.get("state", "?"))] + [str(t.get("state", "?")) for t in tasks]
        failed = [t for t in tasks if t.get("state") == "FAILED"]
        trace = connector.get("trace") or (failed[0].get("trace") if failed else None)
        ok = all(st == "RUNNING" for st in states) and bool(tasks)
        detail = f"connector {states[0]}, tasks {', '.join(states[1:]) or 'none'}"
        return ServiceHealth("Kafka Connect", url, ok, detail, trace)

    def _postgres(self) -> ServiceHealth:
        """The database Kafka Connect streams the stations from (Connect alone can report
        its connector running for a while after PostgreSQL went away)."""
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        dsn = self.settings.postgres_dsn
        try:
            parts = conninfo_to_dict(dsn)
            where = f"postgresql://{parts.get('user', '')}@{parts.get('host', '')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"
        except psycopg.Error:
            where = "postgresql (DSN not readable)"
        try:
            self._select_one(dsn)
        except psycopg.Error as exc:
            self._close_pg()
            return ServiceHealth("PostgreSQL", where, False, f"down: {short_error(exc)}")
        return ServiceHealth("PostgreSQL", where, True, "ok")

    def _select_one(self, dsn: str) -> None:
        """``SELECT 1`` on the kept connection; a broken one (the server restarted) is
        replaced once before the database counts as down."""
        import psycopg

        for attempt in (1, 2):
            if self._pg is None or self._pg.closed:
                self._pg = psycopg.connect(dsn, connect_timeout=2, autocommit=True)
            try:
                self._pg.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                self._close_pg()
                if attempt == 2:
                    raise

    def _close_pg(self) -> None:
        pg, self._pg = self._pg, None
        if pg is not None:
            with contextlib.suppress(Exception):
                pg.close()

    def close(self) -> None:
        self._close_pg()
        self._client.close()
