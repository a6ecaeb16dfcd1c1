"""The base of the clients of a service's REST API (Kafka Connect, ksqlDB): one httpx
client on the service's URL, closed by ``close()`` or a ``with`` block, and a service
that does not answer reported as :class:`ServiceUnavailable` naming its URL and what
to start."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import httpx

from cta_core.errors import Refused, ServiceUnavailable
from cta_core.refusals import http_message

#: what a request raises when the service is down or does not answer in time
UNREACHABLE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.RemoteProtocolError)


class HttpClient:
    """A client of one HTTP service; subclasses name it and say how to start it."""

    #: the service's name in error messages ("Kafka Connect")
    service: ClassVar[str]
    #: what to start when it does not answer
    hint: ClassVar[str]

    def __init__(
        self,
        url: str,
        timeout: float = 10.0,
        *,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout, headers=headers, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """The response to ``method path``; ServiceUnavailable when the service does not answer."""
        try:
            return self._http.request(method, path, **kw)
        except UNREACHABLE as exc:
            raise ServiceUnavailable(
                self.service, self.url, hint=self.hint, cause=type(exc).__name__
            ) from None


def require_service(
    service: str, url: str, path: str = "/", timeout: float = 5.0, *, http: Mapping[str, Any] | None = None
) -> None:
    """Raise :class:`ServiceUnavailable` naming ``url`` unless the service answers at
    ``url + path``, or :class:`Refused` when it answers 401/403 to these credentials
    (``http``: httpx's ``auth`` and ``verify``, as :meth:`Settings.registry_http` gives):
    a command checks what it needs before it starts."""
    options = dict(http or {})
    try:
        response = httpx.get(f"{url.rstrip('/')}{path}", timeout=timeout, **options)
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(service, url, cause=type(exc).__name__) from None
    raise_if_http_refused(service, url, response.status_code, options.get("auth"))


def raise_if_http_refused(service: str, url: str, status: int, auth: Any) -> None:
    """:class:`Refused` in one line for a 401 or 403 answer (``auth``: the (user, password) sent)."""
    if status in (401, 403):
        user = auth[0] if isinstance(auth, tuple) else None
        raise Refused(http_message(service, url, user, status))
