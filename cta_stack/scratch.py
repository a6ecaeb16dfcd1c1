"""A local stack beside the usual one: its own directory and free ports, started and
purged through ``cta-stack`` itself. The fault trials, the benchmarks that kill or restart
services, and the tests that do the same run on one, never on the shared stack.

Ports come from one free range (:func:`free_port_base`), laid out as ``base + n`` in the
order of :data:`PORT_LAYOUT`, with broker *i* of a cluster ``BROKER_PORT_STEP * (i - 1)``
above the first; :func:`scratch_env` is the environment every command of that stack gets.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cta_core.ports import BROKER_PORT_STEP, Ports
from cta_core.settings import Settings
from cta_stack.net import port_free

#: the offset of each service's port from a scratch stack's base port
PORT_LAYOUT = ("kafka", "kafka_controller", "schema_registry", "rest_proxy", "connect", "postgres", "ksql")
#: client settings that would point a scratch stack's commands at another stack
_INHERITED = (
    "CTA_BOOTSTRAP_SERVERS",
    "CTA_SCHEMA_REGISTRY_URL",
    "CTA_REST_PROXY_URL",
    "CTA_CONNECT_URL",
    "CTA_KSQL_URL",
    "CTA_POSTGRES_DSN",
)
#: the console script, beside this interpreter
CTA_STACK = str(Path(sys.executable).parent / "cta-stack")


def free_port_base(brokers: int = 1, tries: int = 200) -> int:
    """A base port whose whole layout (every service, every broker) is free on 127.0.0.1."""
    for _ in range(tries):
        base = random.randrange(20000, 60000, 100)
        wanted = [base + i for i in range(len(PORT_LAYOUT))] + [
            base + BROKER_PORT_STEP * i + j for i in range(1, brokers) for j in (0, 1)
        ]
        if all(port_free(p) for p in wanted):
            return base
    raise RuntimeError("no free port range found on 127.0.0.1")


def scratch_env(base: int, stack_dir: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) for a stack in ``stack_dir`` on ports from
    ``base`` up: its own directory and ports, and no client setting inherited that names
    another stack (clients read the broker count the stack records)."""
    ports = Ports(**{name: base + i for i, name in enumerate(PORT_LAYOUT)})
    out = {k: v for k, v in (os.environ if env is None else env).items() if k not in _INHERITED}
    out.update(ports.to_env())
    out["CTA_KAFKA_BROKERS"] = ""
    out["CTA_STACK_DIR"] = str(stack_dir)
    return out


@dataclass
class ScratchStack:
    """A stack of its own for one trial or test (see the module's docstring)."""

    env: dict[str, str]
    brokers: int = 1
    #: the services ``up`` starts (with what they need); empty: every service
    only: tuple[str, ...] = ()
    #: made with ``cta-stack up --secure`` (SASL_SSL, ACLs, HTTPS)
    secure: bool = False

    @classmethod
    @contextlib.contextmanager
    def running(
        cls,
        brokers: int = 1,
        base: int | None = None,
        only: tuple[str, ...] = ("rest-proxy",),
        start: bool = True,
        secure: bool = False,
    ) -> Iterator[ScratchStack]:
        """A new stack (ports from ``base``, default a free range), started unless
        ``start`` is False, secured with ``secure``; ``cta-stack down --purge`` and its
        directory deleted after."""
        # not a 0700 directory: the embedded PostgreSQL server runs as another user
        root = Path(tempfile.mkdtemp(prefix="cta-scratch-"))
        root.chmod(0o755)
        port_base = free_port_base(brokers) if base is None else base
        stack = cls(scratch_env(port_base, root / "stack"), brokers, only, secure)
        try:
            if start:
                stack.cli(
                    "up", "--brokers", str(brokers), *stack.only_args(), *(["--secure"] if secure else [])
                )
            yield stack
        finally:
            with contextlib.suppress(Exception):
                stack.cli("down", "--purge")
            shutil.rmtree(root, ignore_errors=True)

    def only_args(self) -> list[str]:
        return [a for name in self.only for a in ("--only", name)]

    def up(self) -> float:
        """``cta-stack up`` of this stack's services (starts what is down, e.g. a killed
        broker); the seconds it took."""
        started = time.monotonic()
        self.cli("up", *self.only_args())
        return time.monotonic() - started

    @property
    def root(self) -> Path:
        return Path(self.env["CTA_STACK_DIR"])

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.env)

    def client_config(self, principal: str) -> Path:
        """A secured stack's client config of ``principal`` (what ``CTA_CLIENT_CONFIG`` names)."""
        return self.root / "secure" / "clients" / f"{principal}.properties"

    def cli(self, *args: str, timeout: float = 300) -> str:
        """Run ``cta-stack ARGS`` on this stack; its stderr, or RuntimeError with its end."""
        proc = subprocess.run(
            [CTA_STACK, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"cta-stack {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
            )
        return proc.stderr

    def broker_pid(self, node: int) -> int:
        """The pid of broker ``node`` (1-based), from the stack's run file."""
        name = "kafka" if node == 1 else f"kafka-{node}"
        record = json.loads((self.root / "run" / f"{name}.json").read_text())
        return int(record["pid"])
