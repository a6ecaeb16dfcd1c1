"""One SSH session: a dashboard process on its own pseudo-terminal.

The child runs as the session leader of a new session with the pty as its
controlling terminal, so resizes (TIOCSWINSZ on the master) reach it as SIGWINCH
like in any terminal. Its environment is built from an allowlist (nothing the
client sends can set PATH, PYTHONPATH, LD_PRELOAD ...). When the connection
closes the whole process group gets SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import signal
import struct
import sys
import termios
import tty
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncssh

from cta_core.settings import Settings
from cta_tui.control import SENDER_ENV
from cta_tui.terminal import CRASH_NOTICE, SHUTDOWN_NOTICE, SHUTDOWN_STATUS, restore_with_notice

log = logging.getLogger(__name__)

#: Variables a client may set (``ssh -o SendEnv``): locale and colour preferences only.
CLIENT_ENV_ALLOWED = frozenset({"LANG", "LANGUAGE", "COLORTERM", "NO_COLOR", "TZ"})
CLIENT_ENV_PREFIXES = ("LC_",)
#: Variables kept from the server's own environment (besides CTA_*).
SERVER_ENV_KEPT = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "TMPDIR",
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",  # where the dashboard's log file is (cta_tui.logs)
    "VIRTUAL_ENV",
)

NO_TERMINAL_MESSAGE = (
    b"cta-live: this server only shows the dashboard; connect with a terminal (ssh -t), "
    b"without a command.\r\n"
)

#: Runs in the child before the dashboard: take the pty (fd 0) as controlling
#: terminal, then exec. (subprocess already made the child a session leader;
#: doing this in a preexec_fn would not be safe in a threaded server.)
_CTTY_LAUNCHER = (
    "import fcntl, os, sys, termios\n"
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "os.execvp(sys.argv[1], sys.argv[1:])\n"
)


def settings_env(settings: Settings) -> dict[str, str]:
    """The ``CTA_*`` variables that give a child process these settings."""
    names = {
        "bootstrap_servers": "CTA_BOOTSTRAP_SERVERS",
        "schema_registry_url": "CTA_SCHEMA_REGISTRY_URL",
        "rest_proxy_url": "CTA_REST_PROXY_URL",
        "connect_url": "CTA_CONNECT_URL",
        "ksql_url": "CTA_KSQL_URL",
        "security_protocol": "CTA_SECURITY_PROTOCOL",
        "sasl_mechanism": "CTA_SASL_MECHANISM",
        "sasl_username": "CTA_SASL_USERNAME",
        "sasl_password": "CTA_SASL_PASSWORD",
        "ssl_ca_location": "CTA_SSL_CA_LOCATION",
        "registry_auth": "CTA_SCHEMA_REGISTRY_AUTH",
    }
    env = {var: str(getattr(settings, name)) for name, var in names.items() if getattr(settings, name)}
    if settings.external_postgres:
        env["CTA_POSTGRES_DSN"] = settings.postgres_dsn
    if settings.kafka_config:
        env["CTA_KAFKA_CONFIG"] = ",".join(f"{k}={v}" for k, v in settings.kafka_config.items())
    if settings.client_config is not None:
        # the file itself: what it says beyond the variables above (the REST Proxy's
        # credentials, CAs, other librdkafka keys) reaches the session too
        env["CTA_CLIENT_CONFIG"] = str(settings.client_config.resolve())
    return env


def child_environment(
    term_type: str,
    client_env: Mapping[str, str],
    server_env: Mapping[str, str],
    settings: Settings | None,
) -> dict[str, str]:
    """The whole environment of a session's dashboard (pure).

    Server variables from an allowlist and every ``CTA_*`` one, then the
    settings the server was started with, then the client's locale and colour
    preferences, then the terminal type the client asked for.
    """
    env = {k: v for k, v in server_env.items() if k in SERVER_ENV_KEPT or k.startswith("CTA_")}
    if settings is not None:
        env.update(settings_env(settings))
    for key, value in client_env.items():
        if key in CLIENT_ENV_ALLOWED or key.startswith(CLIENT_ENV_PREFIXES):
            env[key] = value
    env["TERM"] = term_type or "xterm-256color"
    return env


def pack_winsize(columns: int, rows: int, pixwidth: int = 0, pixheight: int = 0) -> bytes:
    # struct winsize: rows, columns, xpixel, ypixel; a zero size is not a terminal.
    return struct.pack("HHHH", max(rows, 1), max(columns, 1), pixwidth, pixheight)


class PtyProcess:
    """A child process on a new pseudo-terminal, in its own session."""

    def __init__(self, proc: asyncio.subprocess.Process, master_fd: int):
        self.proc = proc
        self.master_fd = master_fd
        self.pid = proc.pid

    @classmethod
    async def spawn(cls, argv: Sequence[str], env: Mapping[str, str], columns: int, rows: int) -> PtyProcess:
        master, slave = os.openpty()
        try:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, pack_winsize(columns, rows))
            # Raw from the first byte: no echo or line editing even before the
            # dashboard sets up the terminal itself.
            tty.setraw(slave)
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                _CTTY_LAUNCHER,
                *argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=dict(env),
                start_new_session=True,
                close_fds=True,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        return cls(proc, master)

    def resize(self, columns: int, rows: int, pixwidth: int = 0, pixheight: int = 0) -> None:
        with contextlib.suppress(OSError):
            fcntl.ioctl(self.master_fd, termios.TIOCSWINSZ, pack_winsize(columns, rows, pixwidth, pixheight))

    def group_alive(self) -> bool:
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    async def terminate(self, grace: float) -> int | None:
        """SIGTERM the process group, SIGKILL whatever is left after ``grace`` seconds."""
        self._signal_group(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), grace)
        except TimeoutError:
            log.warning("session process %d did not exit within %.1fs; killing it", self.pid, grace)
        # Grandchildren may outlive the leader: the whole group goes.
        if self.group_alive():
            self._signal_group(signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.proc.wait(), grace)
        return self.proc.returncode

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.master_fd)


@dataclass
class SessionInfo:
    """What the server knows about one session (for logs, limits and tests)."""

    username: str
    fingerprint: str
    control: bool
    peer: str
    pid: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sender(self) -> str:
        """The ``sender`` of the session's control commands (docs/control-protocol.md)."""
        return f"ssh {self.username}@{self.peer} key {self.fingerprint}"


class DashboardSession(asyncssh.SSHServerSession):  # type: ignore[type-arg]
    """The SSH side of one session: pty request, shell, data both ways, resizes."""

    def __init__(
        self,
        info: SessionInfo,
        argv_for: Callable[[SessionInfo], list[str]],
        server_env: Mapping[str, str],
        settings: Settings | None,
        acquire: Callable[[DashboardSession], str | None],
        release: Callable[[DashboardSession], None],
        grace: float,
    ):
        self.info = info
        self._argv_for = argv_for
        self._server_env = server_env
        self._settings = settings
        self._acquire = acquire
        self._release = release
        self._grace = grace
        self._chan: asyncssh.SSHServerChannel | None = None  # type: ignore[type-arg]
        self._term_type: str | None = None
        self._size = (80, 24)
        self._child: PtyProcess | None = None
        self._pending_input = bytearray()
        self._reading = False
        self._writing_paused = False
        self._closed = False
        self._holds_slot = False
        self._finish_task: asyncio.Task[None] | None = None
        self.ended = asyncio.Event()

    # -- asyncssh callbacks -------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:  # type: ignore[type-arg,override]
        self._chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Any) -> bool:
        self._term_type = term_type
        if term_size[0] and term_size[1]:
            self._size = (term_size[0], term_size[1])
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        # Accepted only to answer with the one-line message and status 1.
        self._term_type = None
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        return False

    def session_started(self) -> None:
        assert self._chan is not None
        if self._term_type is None:
            log.info("session of %s refused: no terminal", self.info.peer)
            self._chan.write(NO_TERMINAL_MESSAGE)
            self._chan.exit(1)
            return
        refusal = self._acquire(self)
        if refusal is not None:
            log.warning("session of %s refused: %s", self.info.peer, refusal)
            self._chan.write(f"cta-live: {refusal}\r\n".encode())
            self._chan.exit(1)
            return
        self._holds_slot = True
        asyncio.get_running_loop().create_task(self._start_child())

    def data_received(self, data: bytes, datatype: Any) -> None:  # type: ignore[override]
        if self._child is None:
            return
        self._pending_input += data
        self._flush_input()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self._size = (width, height)
        if self._child is not None:
            self._child.resize(width, height, pixwidth, pixheight)

    def pause_writing(self) -> None:
        # The client reads slower than the dashboard draws: stop reading the pty
        # (the dashboard then blocks on its writes) until the channel drains.
        self._writing_paused = True
        self._stop_reading()

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._start_reading()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._stop_reading()
        if self._child is not None and self._finish_task is None:
            self._finish_task = asyncio.get_running_loop().create_task(self._shutdown_child())
        elif self._child is None:
            self._free_slot()

    # -- child process ------------------------------------------------------

    async def _start_child(self) -> None:
        assert self._chan is not None
        env = child_environment(
            self._term_type or "", self._chan.get_environment(), self._server_env, self._settings
        )
        env[SENDER_ENV] = self.info.sender  # set last: the server's word, not the client's
        argv = self._argv_for(self.info)
        try:
            self._child = await PtyProcess.spawn(argv, env, *self._size)
        except OSError as exc:
            log.error("cannot start the dashboard for %s: %s", self.info.peer, exc)
            self._free_slot()
            if not self._closed:
                self._chan.write(b"cta-live: the dashboard could not be started\r\n")
                self._chan.exit(1)
            return
        self.info.pid = self._child.pid
        log.info("session of %s started: pid %d, %dx%d", self.info.peer, self._child.pid, *self._size)
        if self._closed:
            self._finish_task = asyncio.get_running_loop().create_task(self._shutdown_child())
            return
        self._start_reading()
        self._flush_input()

    def _start_reading(self) -> None:
        if self._child is None or self._reading or self._closed or self._writing_paused:
            return
        asyncio.get_running_loop().add_reader(self._child.master_fd, self._on_readable)
        self._reading = True

    def _stop_reading(self) -> None:
        if self._child is not None and self._reading:
            asyncio.get_running_loop().remove_reader(self._child.master_fd)
        self._reading = False

    def _on_readable(self) -> None:
        assert self._child is not None and self._chan is not None
        try:
            data = os.read(self._child.master_fd, 65536)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EIO:  # EIO: every slave fd closed, the child is gone
                log.warning("pty read failed: %s", exc)
            data = b""
        if data:
            self._chan.write(data)
            return
        self._stop_reading()
        if self._finish_task is None:
            self._finish_task = asyncio.get_running_loop().create_task(self._child_exited())

    def _flush_input(self) -> None:
        child = self._child
        if child is None or not self._pending_input:
            return
        loop = asyncio.get_running_loop()
        try:
            written = os.write(child.master_fd, self._pending_input)
        except BlockingIOError:
            written = 0
        except OSError:
            self._pending_input.clear()
            return
        del self._pending_input[:written]
        if self._pending_input:
            loop.add_writer(child.master_fd, self._drain_input)

    def _drain_input(self) -> None:
        if self._child is not None:
            asyncio.get_running_loop().remove_writer(self._child.master_fd)
        self._flush_input()

    async def _child_exited(self) -> None:
        """The dashboard ended (``q``): end the SSH session with its status."""
        assert self._child is not None and self._chan is not None
        try:
            status = await asyncio.wait_for(self._child.proc.wait(), self._grace)
        except TimeoutError:
            status = await self._child.terminate(self._grace) or 1
        if self._child.group_alive():
            await self._child.terminate(self._grace)
        self._child.close()
        self._free_slot()
        log.info("session of %s ended: dashboard exited with %s", self.info.peer, status)
        if not self._closed:
            code = status if status >= 0 else 128 - status
            if code != 0:
                # A crash or a kill leaves the client's terminal as the dashboard set it up
                # (alternate screen, mouse tracking, hidden cursor): put it back.
                self._chan.write(restore_with_notice(CRASH_NOTICE.format(status=code)))
            self._chan.exit(code)
        self.ended.set()

    async def _shutdown_child(self, why: str = "closed by the client") -> None:
        """The client went away (or the server shuts down): end the dashboard and
        everything it started."""
        assert self._child is not None
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_writer(self._child.master_fd)
        status = await self._child.terminate(self._grace)
        self._child.close()
        self._free_slot()
        log.info("session of %s %s (dashboard status %s)", self.info.peer, why, status)
        self.ended.set()

    async def close(self) -> None:
        """Server shutdown: end the dashboard, then restore the client's terminal, tell
        the user why in one line and close the channel with :data:`SHUTDOWN_STATUS`."""
        self._stop_reading()  # nothing more of the dashboard's (maybe half-drawn) output
        if self._child is not None:
            if self._finish_task is None:
                self._finish_task = asyncio.get_running_loop().create_task(
                    self._shutdown_child("ended: the server is shutting down")
                )
            await self.ended.wait()
        if self._chan is not None and not self._closed:
            with contextlib.suppress(OSError):
                self._chan.write(restore_with_notice(SHUTDOWN_NOTICE))
                self._chan.exit(SHUTDOWN_STATUS)

    def _free_slot(self) -> None:
        if self._holds_slot:
            self._holds_slot = False
            self._release(self)
        if self._child is None:
            self.ended.set()
