"""The one session-scoped local stack every integration test uses.

``stack`` returns the :class:`~cta_core.settings.Settings` of the shared stack
(default ports, state in ``<repo>/.cta-stack`` unless CTA_STACK_DIR says
otherwise). When every service already answers its health check this costs a
few milliseconds; otherwise it runs ``cta-stack up`` (idempotent) once.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cta_core.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def shared_settings() -> Settings:
    settings = Settings.from_env()
    if not os.environ.get("CTA_STACK_DIR"):
        settings = settings.with_overrides(stack_dir=REPO / ".cta-stack")
    return settings


@pytest.fixture(scope="session")
def stack() -> Settings:
    from cta_core.errors import CtaError
    from cta_stack.errors import ServiceFailed
    from cta_stack.stack import Stack

    settings = shared_settings()
    local = Stack(settings)
    if not local.unhealthy():
        return settings
    try:
        local.up()
    except CtaError as exc:
        extra = f"\n--- {exc.log_file} ---\n{exc.log_tail}" if isinstance(exc, ServiceFailed) else ""
        pytest.fail(f"the local stack did not start: {exc}{extra}", pytrace=False)
    return settings
