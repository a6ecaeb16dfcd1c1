"""Writer schemas by id from the Schema Registry (``GET /schemas/ids/{id}``).

A plain httpx call rather than confluent-kafka's SchemaRegistryClient: the dashboard
only ever looks schemas up by id, and importing the full client (authlib,
cryptography ...) costs about 20 MB of resident memory.
"""

from __future__ import annotations

import httpx

from cta_core.settings import Settings


class RegistryLookup:
    """Callable ``lookup(schema_id) -> schema text``; raises on failure (not cached)."""

    def __init__(self, settings: Settings, timeout: float = 5.0) -> None:
        auth = None
        if settings.registry_auth and ":" in settings.registry_auth:
            user, _, password = settings.registry_auth.partition(":")
            auth = httpx.BasicAuth(user, password)
        verify: str | bool = settings.ssl_ca_location or True
        self.url = settings.schema_registry_url.rstrip("/")
        self._client = httpx.Client(timeout=timeout, auth=auth, verify=verify)

    def __call__(self, schema_id: int) -> str:
        response = self._client.get(f"{self.url}/schemas/ids/{schema_id}")
        response.raise_for_status()
        return str(response.json()["schema"])

    def close(self) -> None:
        self._client.close()
