"""Kafka Connect REST adapter: create-or-update a connector and wait for it to run."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from cta_core.errors import CtaError
from cta_core.http_client import HttpClient
from stream_jobs.connector_config import same_config

CONNECT_HINT = "start the local stack with `cta-stack up` (or `docker compose up -d connect`)"

Outcome = Literal["created", "updated", "unchanged"]


class ConnectorFailed(CtaError):
    def __init__(self, name: str, status: Mapping[str, Any], message: str):
        self.name = name
        self.status = status
        super().__init__(message)


@dataclass
class ConnectorStatus:
    name: str
    state: str
    tasks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return (
            self.state == "RUNNING"
            and bool(self.tasks)
            and all(t.get("state") == "RUNNING" for t in self.tasks)
        )

    @property
    def failed(self) -> bool:
        return self.state == "FAILED" or any(t.get("state") == "FAILED" for t in self.tasks)

    def traces(self) -> list[str]:
        out = []
        if self.state == "FAILED":
            out.append("connector: FAILED")
        for t in self.tasks:
            if t.get("state") == "FAILED":
                out.append(f"task {t.get('id')}: {t.get('trace', '(no trace)')}")
        return out


class ConnectClient(HttpClient):
    service = "Kafka Connect"
    hint = CONNECT_HINT

    def _json(self, resp: httpx.Response) -> Any:
        if resp.status_code >= 400:
            try:
                body = resp.json()
                message = body.get("message", resp.text)
            except ValueError:
                message = resp.text
            raise CtaError(
                f"Kafka Connect {resp.request.method} {resp.request.url.path}: {resp.status_code} {message}"
            )
        return resp.json() if resp.content else None

    def plugins(self) -> list[dict[str, Any]]:
        return list(self._json(self._request("GET", "/connector-plugins")))

    def config(self, name: str) -> dict[str, Any] | None:
        resp = self._request("GET", f"/connectors/{name}/config")
        if resp.status_code == 404:
            return None
        return dict(self._json(resp))

    def ensure(self, name: str, config: Mapping[str, str]) -> Outcome:
        """Create or update; no request is made when the stored config is identical."""
        existing = self.config(name)
        if existing is not None and same_config(existing, config):
            return "unchanged"
        self._json(self._request("PUT", f"/connectors/{name}/config", json=dict(config)))
        return "created" if existing is None else "updated"

    def status(self, name: str) -> ConnectorStatus:
        resp = self._request("GET", f"/connectors/{name}/status")
        if resp.status_code == 404:
            return ConnectorStatus(name, "UNASSIGNED")
        body = self._json(resp)
        return ConnectorStatus(
            name, body.get("connector", {}).get("state", "UNKNOWN"), list(body.get("tasks", []))
        )

    def wait_running(
        self,
        name: str,
        timeout: float = 60.0,
        on_poll: Callable[[ConnectorStatus], None] | None = None,
    ) -> ConnectorStatus:
        """Poll the status until the connector and all its tasks run; raise on FAILED or timeout."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.status(name)
            if on_poll:
                on_poll(st)
            if st.running:
                return st
            if st.failed:
                raise ConnectorFailed(
                    name, st.__dict__, f"connector {name} FAILED:\n" + "\n".join(st.traces())
                )
            if time.monotonic() > deadline:
                raise CtaError(f"connector {name} not RUNNING after {timeout:.0f}s (state {st.state})")
            time.sleep(0.5)
