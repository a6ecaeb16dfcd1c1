"""One secured scratch stack per test module (``cta-stack up --secure``: SASL_SSL with
SCRAM-SHA-512, the standard authorizer and ACLs, the registry and REST Proxy over HTTPS
with basic auth), on its own directory and ports, purged after. The shared stack is
never touched.

Clients are built from the stack's per-principal client config files (Kafka's
properties format) by :func:`librdkafka_conf`, a small reader of the librdkafka keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cta_stack.scratch import ScratchStack

#: the librdkafka keys of a client config file (the registry's and REST Proxy's are not)
LIBRDKAFKA_KEYS = (
    "bootstrap.servers",
    "security.protocol",
    "sasl.mechanism",
    "sasl.username",
    "sasl.password",
    "ssl.ca.location",
)


def read_properties(path: Path) -> dict[str, str]:
    """``key=value`` lines of a properties file (comments skipped)."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def librdkafka_conf(stack: ScratchStack, principal: str, **extra: Any) -> dict[str, Any]:
    """A confluent-kafka configuration for ``principal``, from its client config file."""
    props = read_properties(stack.client_config(principal))
    return {**{k: props[k] for k in LIBRDKAFKA_KEYS}, "log_level": 0, **extra}


@pytest.fixture(scope="module")
def secure_stack() -> Iterator[ScratchStack]:
    """Every service of the stack, secured (about 20 s to start). Its free ports are
    picked before the services bind them, so another process may take one in between
    ("Address already in use"): one more try, on other ports."""
    for attempt in (1, 2):
        try:
            with ScratchStack.running(only=(), secure=True) as stack:
                yield stack
            return
        except RuntimeError as exc:
            if attempt == 2 or "Address already in use" not in str(exc):
                raise
