"""``cta-tui serve --ssh``: the dashboard for anyone with an SSH client and a key.

Each session runs its own dashboard process on a pseudo-terminal (see
:mod:`cta_tui.ssh.session`). Only public-key authentication is offered (no
password, no keyboard-interactive); a key may control the simulator only when
marked for it (:mod:`cta_tui.ssh.keys`), otherwise its dashboard runs with
``--read-only``. Logins are logged with the key's fingerprint.

By default the sessions share one set of Kafka consumers: the server reads the
dashboard's topics once and streams the decoded records to every session's
dashboard (:mod:`cta_tui.ssh.hub`). ``shared_feed=False`` (``--feed per-session``)
gives each dashboard its own consumers instead; bench/bench_ssh.py compares both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import asyncssh

from cta_core.settings import Settings
from cta_tui.ssh.hub import FEED_ENV, RecordHub, Snapshot
from cta_tui.ssh.keys import Access, KeyRing, fingerprint, load_or_create_host_key
from cta_tui.ssh.session import DashboardSession, SessionInfo

log = logging.getLogger(__name__)

READ_ONLY_FLAG = "--read-only"


def dashboard_argv(info: SessionInfo) -> list[str]:
    """The dashboard of one session: ``cta-tui`` with this interpreter, read-only
    unless the session's key controls the simulator. Connection settings reach
    it through its environment (``CTA_*``), see :func:`session.child_environment`."""
    argv = [sys.executable, "-m", "cta_tui"]
    if not info.control:
        argv.append(READ_ONLY_FLAG)
    return argv


@dataclass
class ServeOptions:
    host: str
    port: int
    host_key: Path
    keyring: KeyRing
    max_sessions: int = 8
    login_timeout: float = 30.0
    keepalive_interval: float = 30.0
    keepalive_count_max: int = 3
    #: Seconds between SIGTERM and SIGKILL when a session ends.
    grace: float = 3.0
    settings: Settings | None = None
    argv_for: Callable[[SessionInfo], list[str]] = dashboard_argv
    server_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    #: One set of Kafka consumers in the server for every session (needs ``settings``).
    shared_feed: bool = True
    replay_minutes: float = 5.0
    #: KafkaSource's topic arguments (`cta-tui --arrivals-pattern ... serve`): TopicNames.source_kwargs()
    topic_kwargs: dict[str, Any] = field(default_factory=dict)


class SessionLimiter:
    """At most ``max_sessions`` dashboards at once, across all connections."""

    def __init__(self, max_sessions: int):
        self.max_sessions = max_sessions
        self.active: set[DashboardSession] = set()

    def acquire(self, session: DashboardSession) -> str | None:
        if len(self.active) >= self.max_sessions:
            return f"too many sessions ({len(self.active)} of {self.max_sessions} in use); try again later"
        self.active.add(session)
        return None

    def release(self, session: DashboardSession) -> None:
        self.active.discard(session)


class _Connection(asyncssh.SSHServer):
    """One client connection: authentication, then its sessions."""

    def __init__(self, options: ServeOptions, limiter: SessionLimiter):
        self._options = options
        self._limiter = limiter
        self._conn: asyncssh.SSHServerConnection | None = None
        self._peer = "?"
        self._access: Access | None = None
        self._username = ""

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self._peer = f"{peer[0]}:{peer[1]}"

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and self._access is None:
            log.info("connection from %s closed before login: %s", self._peer, exc)

    def begin_auth(self, username: str) -> bool:
        self._username = username
        return True  # authentication is always required

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        host, _, _ = self._peer.rpartition(":")
        try:
            access = self._options.keyring.access(key, host, host)
        except Exception as exc:  # a broken keys file must refuse, not crash the server
            log.error("cannot check the key of %s: %s", self._peer, exc)
            return False
        if access is None:
            log.info("key %s of %s@%s not authorized", fingerprint(key), username, self._peer)
            return False
        self._access = access
        return True

    def auth_completed(self) -> None:
        assert self._access is not None
        log.info(
            "login %s@%s with key %s (%s)",
            self._username,
            self._peer,
            self._access.fingerprint,
            "control" if self._access.control else "read-only",
        )

    def session_requested(self) -> DashboardSession:
        assert self._access is not None
        info = SessionInfo(
            username=self._username,
            fingerprint=self._access.fingerprint,
            control=self._access.control,
            peer=self._peer,
        )
        session = DashboardSession(
            info,
            argv_for=self._options.argv_for,
            server_env=self._options.server_env,
            settings=self._options.settings,
            acquire=self._limiter.acquire,
            release=self._limiter.release,
            grace=self._options.grace,
        )
        return session


class SSHDashboardServer:
    """The listening server; ``start()`` then ``close()`` (or ``serve_forever()``)."""

    def __init__(self, options: ServeOptions):
        self.options = options
        self.limiter = SessionLimiter(options.max_sessions)
        self.host_key: asyncssh.SSHKey | None = None
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self.hub: RecordHub | None = None
        self._feed_dir: str | None = None

    @property
    def port(self) -> int:
        assert self._acceptor is not None
        return int(self._acceptor.get_port())

    @property
    def sessions(self) -> set[DashboardSession]:
        return self.limiter.active

    async def start(self) -> None:
        self.options.keyring.check_files()
        key, created = load_or_create_host_key(self.options.host_key)
        self.host_key = key
        if created:
            log.info("generated host key %s", self.options.host_key)
        log.info("host key fingerprint %s (%s)", fingerprint(key), self.options.host_key)
        options = self.options
        if options.shared_feed and options.settings is not None and FEED_ENV not in options.server_env:
            options = replace(options, server_env={**options.server_env, FEED_ENV: await self._start_hub()})
        self._acceptor = await asyncssh.create_server(
            lambda: _Connection(options, self.limiter),
            self.options.host,
            self.options.port,
            server_host_keys=[key],
            login_timeout=self.options.login_timeout,
            keepalive_interval=self.options.keepalive_interval,
            keepalive_count_max=self.options.keepalive_count_max,
            encoding=None,
            line_editor=False,
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
        )
        log.info(
            "serving the dashboard on %s:%d (at most %d sessions)",
            self.options.host,
            self.port,
            self.options.max_sessions,
        )

    async def _start_hub(self) -> str:
        """Start the shared feed; return its socket's path (in a new 0700 directory)."""
        self.hub, self._feed_dir, path = await start_shared_feed(self.options)
        return path

    async def close(self) -> None:
        """Stop listening and end every session and its processes."""
        acceptor, self._acceptor = self._acceptor, None
        if acceptor is not None:
            acceptor.close()  # no new connections; open ones are ended below
        sessions = list(self.limiter.active)
        if sessions:
            await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
        if acceptor is not None:
            await acceptor.wait_closed()
        if self.hub is not None:
            await self.hub.close()
            self.hub = None
        if self._feed_dir is not None:
            shutil.rmtree(self._feed_dir, ignore_errors=True)
            self._feed_dir = None

    async def serve_forever(self) -> None:
        """Run until SIGINT or SIGTERM, then close."""
        await self.start()
        received = ""
        try:
            received = await wait_for_stop_signal()
        finally:
            log.info(
                "server shutting down (%s): ending %d session(s); each gets a notice and its terminal restored",
                received or "stopped",
                len(self.limiter.active),
            )
            await self.close()


async def start_shared_feed(options: ServeOptions) -> tuple[RecordHub, str, str]:
    """The shared feed (one set of Kafka consumers for every session), started: the hub,
    the new 0700 directory of its socket, and the socket's path (``FEED_ENV``)."""
    from cta_tui.feeds.kafka_source import KafkaSource

    assert options.settings is not None
    feed_dir = tempfile.mkdtemp(prefix="cta-tui-ssh-")
    path = os.path.join(feed_dir, "feed.sock")
    source = KafkaSource(options.settings, replay_minutes=options.replay_minutes, **options.topic_kwargs)
    hub = RecordHub(source, Snapshot(replay_seconds=options.replay_minutes * 60))
    await hub.start(path)
    log.info("shared feed: one set of Kafka consumers for all sessions (%s)", path)
    return hub, feed_dir, path


async def wait_for_stop_signal() -> str:
    """Wait for SIGINT or SIGTERM; return its name."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    received: list[str] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig.name)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
    return received[0] if received else "stopped"
