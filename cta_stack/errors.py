"""Errors of the local stack; each message is fit for the user (CLIs print it, exit 1)."""

from __future__ import annotations

from cta_core.errors import CtaError


class StackError(CtaError):
    """Something the user must fix before the stack can start."""


class PortInUse(StackError):
    def __init__(self, service: str, port: int, holder: str | None = None):
        self.service = service
        self.port = port
        who = f" by {holder}" if holder else ""
        super().__init__(
            f"port {port} ({service}) is already in use{who}; stop that process or move "
            f"{service} to another port with its CTA_*_PORT variable"
        )


class ServiceFailed(StackError):
    """A service did not become healthy; carries the tail of its log."""

    def __init__(self, service: str, reason: str, log_tail: str = "", log_file: str | None = None):
        self.service = service
        self.reason = reason
        self.log_tail = log_tail
        self.log_file = log_file
        super().__init__(f"{service} failed to start: {reason}")
