"""The REST clients' base: a service that does not answer is one ServiceUnavailable
naming it, its URL and what to start; ``with`` closes the client."""

from __future__ import annotations

import httpx
import pytest

from cta_core.errors import ServiceUnavailable
from cta_core.http_client import HttpClient


class Thing(HttpClient):
    service = "Thing"
    hint = "start the thing"


def _refusing(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


def test_an_unreachable_service_is_named_with_its_url_and_hint() -> None:
    with Thing("http://thing.test/", transport=httpx.MockTransport(_refusing)) as client:
        assert client.url == "http://thing.test"
        with pytest.raises(ServiceUnavailable) as caught:
            client._request("GET", "/x")
    assert (caught.value.service, caught.value.url, caught.value.hint) == (
        "Thing",
        client.url,
        "start the thing",
    )
    assert caught.value.cause == "ConnectError"
    assert client._http.is_closed


def test_answers_pass_through_with_the_clients_headers() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"message": "no"})

    client = Thing("http://thing.test", headers={"Accept": "a/b"}, transport=httpx.MockTransport(answer))
    assert client._request("GET", "/y").status_code == 404
    assert seen[0].url == "http://thing.test/y" and seen[0].headers["Accept"] == "a/b"
    client.close()
    assert client._http.is_closed
