"""Run the registry or REST proxy as a child process and wait for its health check.

Used by the integration tests and benchmarks, which start their own instances on
spare ports so that stopping one never disturbs the shared stack.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

from cta_core.ports import LOCALHOST


def free_port(host: str = LOCALHOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """``python -m <module> --port P ...`` with its stderr in ``log_path``."""

    def __init__(
        self, module: str, args: list[str], health_path: str, log_path: Path, port: int | None = None
    ):
        self.module = module
        self.args = args
        self.health_path = health_path
        self.log_path = log_path
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    def start(self, timeout: float = 60.0) -> ServiceProcess:
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module, "--host", LOCALHOST, "--port", str(self.port), *self.args],
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.module} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if httpx.get(self.url + self.health_path, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.module} not healthy within {timeout:.0f} s; see {self.log_path}")

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, then wait; returns the exit code (SIGKILL after ``timeout``)."""
        code = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait(5)
        elif self.proc is not None:
            code = self.proc.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def registry_process(bootstrap: str, topic: str, log_path: Path, port: int | None = None) -> ServiceProcess:
    return ServiceProcess(
        "cta_servers.schema_registry",
        ["--bootstrap-servers", bootstrap, "--topic", topic],
        "/subjects",
        log_path,
        port,
    )


def rest_proxy_process(
    bootstrap: str, registry_url: str, log_path: Path, port: int | None = None
) -> ServiceProcess:
    return ServiceProcess(
        "cta_servers.rest_proxy",
        ["--bootstrap-servers", bootstrap, "--schema-registry-url", registry_url],
        "/topics",
        log_path,
        port,
    )
