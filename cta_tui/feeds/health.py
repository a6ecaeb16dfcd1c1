"""HTTP health checks of the pipeline's services for the pipeline screen (blocking; run
in a worker thread)."""

from __future__ import annotations

import ssl
from typing import Protocol

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
        auth = None
        if settings.registry_auth and ":" in settings.registry_auth:
            user, _, password = settings.registry_auth.partition(":")
            auth = httpx.BasicAuth(user, password)
        # a secured stack's services answer over HTTPS with a certificate of its own CA
        verify = (
            ssl.create_default_context(cafile=settings.ssl_ca_location) if settings.ssl_ca_location else True
        )
        self._client = httpx.Client(timeout=timeout, auth=auth, verify=verify)

    def _get(self, name: str, url: str) -> tuple[ServiceHealth, httpx.Response | None]:
        try:
            response = self._client.get(url)
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
        proxy, resp = self._get("REST Proxy", f"{s.rest_proxy_url}/topics")
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
            with psycopg.connect(dsn, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            return ServiceHealth("PostgreSQL", where, False, f"down: {short_error(exc)}")
        return ServiceHealth("PostgreSQL", where, True, "ok")

    def close(self) -> None:
        self._client.close()
