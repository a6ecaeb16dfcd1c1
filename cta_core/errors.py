"""Errors every command reports the same way: one line, ``<what>; <what to do>``
(``cta-X: error:`` in front), naming the URL and what to start."""

from __future__ import annotations


class CtaError(Exception):
    """An error with a message fit for the user; CLIs print it and exit 1."""


class ServiceUnavailable(CtaError):
    """A service did not answer."""

    def __init__(
        self,
        service: str,
        url: str,
        hint: str = "start the local stack with `cta-stack up`",
        cause: str | None = None,
    ):
        self.service = service
        self.url = url
        self.hint = hint
        self.cause = cause
        detail = f" ({cause})" if cause else ""
        super().__init__(f"{service} at {url} is not reachable{detail}; {hint}")


class Refused(CtaError):
    """A service refused this client: no or wrong credentials, or an operation its ACLs
    do not allow. The message names the principal, the resource and what is missing
    (:mod:`cta_core.refusals` words it); retrying does not help."""
