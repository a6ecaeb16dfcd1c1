"""``cta-tui serve --ssh`` end to end: a real asyncssh server on 127.0.0.1 (random
port, temporary host key and authorized_keys), a real asyncssh client with a
pseudo-terminal, and the client's output fed to pyte, a terminal emulator.

Two kinds of session programs run behind the server:

- a small stand-in program (written below) that reports its terminal size, TERM,
  process group and the keys it receives: it proves the SSH and pty plumbing
  (sizes, resizes, raw bytes, environment allowlist, exit status, clean-up)
  without depending on what the dashboard draws;
- the real dashboard (``python -m cta_tui``) against the shared local stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh
import pyte
import pytest

from cta_tui.ssh.keys import CONTROL_OPTION, KeyRing
from cta_tui.ssh.server import ServeOptions, SSHDashboardServer
from cta_tui.ssh.session import NO_TERMINAL_MESSAGE, SessionInfo
from tests.support.control import ControlTopicWatcher

pytestmark = pytest.mark.integration

DEADLINE = 30.0

STANDIN = r"""
import os, signal, subprocess, sys
mode = sys.argv[1]
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
helper = subprocess.Popen(["sleep", "300"])  # a grandchild, same process group

def show(*_):
    cols, rows = os.get_terminal_size(0)
    sys.stdout.write(
        f"\x1b[2J\x1b[HSIZE {cols}x{rows} TERM={os.environ.get('TERM')} MODE={mode}\r\n"
        f"PIDS {os.getpid()} {helper.pid} FG={int(os.tcgetpgrp(0) == os.getpgid(0))}\r\n"
        f"ENV LC_ALL={os.environ.get('LC_ALL')} LD_PRELOAD={os.environ.get('LD_PRELOAD')} "
        f"AGENT={os.environ.get('SSH_AUTH_SOCK')}\r\n"
    )
    sys.stdout.flush()

signal.signal(signal.SIGWINCH, show)
show()
while True:
    data = os.read(0, 100)
    if not data or b"q" in data:
        helper.kill()
        sys.exit(3)
    if b"k" in data:  # a dashboard dying hard: its terminal modes on, then SIGKILL
        sys.stdout.write("\x1b[?1049h\x1b[?1000h\x1b[?1006h\x1b[?25l\x1b[1;31m")
        sys.stdout.flush()
        helper.kill()
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdout.write(f"KEY {data.hex()}\r\n")
    sys.stdout.flush()
"""


@dataclass
class Keys:
    viewer: asyncssh.SSHKey
    operator: asyncssh.SSHKey
    stranger: asyncssh.SSHKey
    authorized: Path


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    viewer, operator, stranger = (asyncssh.generate_private_key("ssh-ed25519") for _ in range(3))
    authorized = tmp_path / "authorized_keys"
    authorized.write_text(
        viewer.export_public_key().decode() + f"{CONTROL_OPTION} " + operator.export_public_key().decode()
    )
    return Keys(viewer, operator, stranger, authorized)


ServerFactory = Callable[..., Awaitable[SSHDashboardServer]]


@pytest.fixture
async def make_server(tmp_path: Path, keys: Keys) -> AsyncIterator[ServerFactory]:
    servers: list[SSHDashboardServer] = []

    async def start(**overrides: Any) -> SSHDashboardServer:
        settings: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": 0,
            "host_key": tmp_path / "config" / "ssh_host_ed25519_key",
            "keyring": KeyRing(keys.authorized),
            "grace": 1.0,
            "login_timeout": 10.0,
        }
        options = ServeOptions(**{**settings, **overrides})
        server = SSHDashboardServer(options)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
def standin(tmp_path: Path) -> Callable[[SessionInfo], list[str]]:
    script = tmp_path / "standin.py"
    script.write_text(STANDIN)
    mode = {"value": ""}

    def argv_for(info: SessionInfo) -> list[str]:
        return [sys.executable, str(script), mode["value"] or ("control" if info.control else "read-only")]

    argv_for.mode = mode  # type: ignore[attr-defined]
    return argv_for


class Terminal:
    """An SSH session with a pty whose output is rendered by pyte."""

    def __init__(self, process: asyncssh.SSHClientProcess, columns: int, rows: int):  # type: ignore[type-arg]
        self.process = process
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self._pump = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            data = await self.process.stdout.read(65536)
            if not data:
                return
            self.raw += data
            self.stream.feed(data)

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, predicate: Callable[[str], bool], what: str, timeout: float = DEADLINE) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.text):
                return self.text
            if self._pump.done() and not predicate(self.text):
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"screen never showed {what}; it shows:\n{self.text}")

    async def wait_text(self, needle: str, timeout: float = DEADLINE) -> str:
        return await self.wait_for(lambda t: needle in t, repr(needle), timeout)

    def resize(self, columns: int, rows: int) -> None:
        self.screen.resize(rows, columns)
        self.process.change_terminal_size(columns, rows)

    def send(self, data: bytes) -> None:
        self.process.stdin.write(data)

    async def ended(self, timeout: float = DEADLINE) -> int | None:
        await asyncio.wait_for(self.process.wait_closed(), timeout)
        await asyncio.wait_for(self._pump, timeout)
        return self.process.exit_status


async def connect(
    server: SSHDashboardServer, key: asyncssh.SSHKey, **kw: Any
) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        "127.0.0.1",
        server.port,
        known_hosts=None,
        username="viewer",
        client_keys=[key],
        **{"agent_path": None, **kw},
    )


async def open_terminal(
    conn: asyncssh.SSHClientConnection, columns: int = 100, rows: int = 30, **kw: Any
) -> Terminal:
    process = await conn.create_process(
        term_type="xterm-256color", term_size=(columns, rows), encoding=None, **kw
    )
    return Terminal(process, columns, rows)


def pid_gone(pid: int) -> bool:
    """True when no process runs with this pid (an exited, not yet reaped one counts as gone:
    a grandchild is reaped by init, which the server does not control)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


async def wait_gone(pids: list[int], timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(pid_gone(p) for p in pids):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"processes left behind: {[p for p in pids if not pid_gone(p)]}")


def standin_pids(text: str) -> list[int]:
    line = next(line for line in text.splitlines() if line.startswith("PIDS "))
    return [int(p) for p in line.split()[1:3]]


# -- the SSH and pty plumbing, with the stand-in program ---------------------------------


async def test_pty_size_resize_keys_env_and_exit_status(
    make_server: ServerFactory, keys: Keys, standin
) -> None:
    server = await make_server(argv_for=standin)
    async with await connect(server, keys.viewer) as conn:
        term = await open_terminal(conn, 100, 30, env={"LC_ALL": "C.UTF-8", "LD_PRELOAD": "/nope.so"})
        text = await term.wait_text("SIZE 100x30")
        assert "TERM=xterm-256color MODE=read-only" in text
        assert "FG=1" in text, "the pty must be the child's controlling terminal"
        assert "LC_ALL=C.UTF-8 LD_PRELOAD=None" in text
        term.resize(132, 40)
        await term.wait_text("SIZE 132x40")
        # Raw bytes both ways: an escape sequence and Ctrl+C arrive unchanged.
        term.send(b"\x1b[A\x03")
        await term.wait_text("KEY 1b5b4103")
        term.send(b"q")
        assert await term.ended() == 3


async def test_control_key_gets_a_control_session(make_server: ServerFactory, keys: Keys, standin) -> None:
    server = await make_server(argv_for=standin)
    async with await connect(server, keys.operator) as conn:
        term = await open_terminal(conn)
        await term.wait_text("MODE=control")


async def test_session_without_terminal_gets_message_and_status_1(
    make_server: ServerFactory, keys: Keys, standin
) -> None:
    server = await make_server(argv_for=standin)
    async with await connect(server, keys.viewer) as conn:
        shell = await conn.run(encoding=None)  # like `ssh -T host`
        assert shell.exit_status == 1
        assert shell.stdout == NO_TERMINAL_MESSAGE
        command = await conn.run("ls /", encoding=None)  # like `ssh host ls /`
        assert command.exit_status == 1
        assert command.stdout == NO_TERMINAL_MESSAGE
        assert not server.sessions


async def test_unknown_key_and_passwords_are_refused(make_server: ServerFactory, keys: Keys, standin) -> None:
    server = await make_server(argv_for=standin)
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(server, keys.stranger)
    with pytest.raises(asyncssh.PermissionDenied):
        await asyncssh.connect(
            "127.0.0.1",
            server.port,
            known_hosts=None,
            username="viewer",
            password="chicago",
            client_keys=None,
            agent_path=None,
            preferred_auth="password,keyboard-interactive",
        )


async def test_disconnect_leaves_no_process_behind(make_server: ServerFactory, keys: Keys, standin) -> None:
    server = await make_server(argv_for=standin)
    conn = await connect(server, keys.viewer)
    term = await open_terminal(conn)
    pids = standin_pids(await term.wait_text("PIDS "))
    assert not any(pid_gone(p) for p in pids)
    conn.close()
    await wait_gone(pids)
    await asyncio.wait_for(_until(lambda: not server.sessions), DEADLINE)


async def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period(
    make_server: ServerFactory, keys: Keys, standin
) -> None:
    standin.mode["value"] = "stubborn"
    server = await make_server(argv_for=standin)
    conn = await connect(server, keys.viewer)
    term = await open_terminal(conn)
    pids = standin_pids(await term.wait_text("MODE=stubborn"))
    conn.close()
    await wait_gone(pids, timeout=DEADLINE)


async def test_session_beyond_max_is_refused(make_server: ServerFactory, keys: Keys, standin) -> None:
    server = await make_server(argv_for=standin, max_sessions=2)
    async with await connect(server, keys.viewer) as conn:
        first = await open_terminal(conn)
        second = await open_terminal(conn)
        await first.wait_text("SIZE")
        await second.wait_text("SIZE")
        async with await connect(server, keys.operator) as other:
            third = await open_terminal(other)
            await third.wait_text("too many sessions (2 of 2 in use)")
            assert await third.ended() == 1
            first.send(b"q")
            assert await first.ended() == 3
            fourth = await open_terminal(other)
            await fourth.wait_text("MODE=control")


async def test_login_timeout_closes_silent_connections(make_server: ServerFactory, standin) -> None:
    server = await make_server(argv_for=standin, login_timeout=1.0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"SSH-2.0-silent\r\n")
    start = time.monotonic()
    with contextlib.suppress(ConnectionError):
        while await asyncio.wait_for(reader.read(4096), DEADLINE):
            pass
    assert time.monotonic() - start < DEADLINE
    writer.close()


async def test_host_key_is_kept_between_starts(make_server: ServerFactory, keys: Keys, standin) -> None:
    first = await make_server(argv_for=standin)
    second = await make_server(argv_for=standin)
    assert first.host_key is not None and second.host_key is not None
    assert first.host_key.get_fingerprint() == second.host_key.get_fingerprint()
    async with await connect(second, keys.viewer) as conn:
        server_key = conn.get_server_host_key()
        assert server_key is not None
        assert server_key.get_fingerprint() == first.host_key.get_fingerprint()


async def _until(predicate: Callable[[], bool]) -> None:
    while not predicate():
        await asyncio.sleep(0.05)


# -- the real dashboard, against the shared local stack ----------------------------------


def _footer_row(screen_lines: list[str]) -> int | None:
    """Row of the dashboard's key footer ("... ? Help  q Quit ... ^p palette"), or None."""
    rows = [i for i, line in enumerate(screen_lines) if "q Quit" in line and "^p palette" in line]
    return rows[-1] if rows else None


async def test_dashboard_over_ssh_help_resize_and_quit(make_server: ServerFactory, keys: Keys, stack) -> None:
    server = await make_server(settings=stack)
    async with await connect(server, keys.viewer) as conn:
        term = await open_terminal(conn, 100, 30)
        await term.wait_for(
            lambda t: "CTA" in t and "READ-ONLY" in t and _footer_row(t.splitlines()) == 29,
            "the read-only dashboard with its footer on the last of 30 rows",
        )
        [session] = server.sessions
        pid = session.info.pid
        assert pid is not None
        # Shared feed (the default): the server consumes, the session's dashboard does not.
        assert server.hub is not None and len(server.hub.clients) == 1
        assert kafka_connections(pid, stack) == 0

        term.send(b"?")
        await term.wait_text("cta-tui keys")
        term.send(b"\x1b")
        await term.wait_for(lambda t: "cta-tui keys" not in t, "the help closed")

        # The layout follows the terminal: footer on the new last row, drawn to the new width.
        term.resize(140, 40)
        await term.wait_for(
            lambda t: (
                _footer_row(t.splitlines()) == 39
                and t.splitlines()[39].rstrip().endswith("palette")
                and len(t.splitlines()[39].rstrip()) > 100
            ),
            "the footer on row 40 reaching past column 100",
        )
        term.resize(80, 24)
        await term.wait_for(lambda t: _footer_row(t.splitlines()) == 23, "the footer on row 24")

        term.send(b"q")
        assert await term.ended() == 0
    await wait_gone([pid])
    await asyncio.wait_for(_until(lambda: not server.sessions), DEADLINE)


def kafka_connections(pid: int, settings: Any) -> int:
    """TCP connections from a session's process tree to the Kafka broker."""
    import psutil

    root = psutil.Process(pid)
    count = 0
    for proc in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            count += sum(
                1
                for c in proc.net_connections(kind="tcp")
                if c.raddr and c.raddr.port == settings.ports.kafka
            )
    return count


async def test_per_session_feed_gives_each_dashboard_its_own_consumers(
    make_server: ServerFactory, keys: Keys, stack
) -> None:
    server = await make_server(settings=stack, shared_feed=False)
    assert server.hub is None
    async with await connect(server, keys.viewer) as conn:
        term = await open_terminal(conn)
        await term.wait_for(lambda t: "Kafka ok" in t and "READ-ONLY" in t, "the dashboard on its own feed")
        [session] = server.sessions
        assert session.info.pid is not None
        assert kafka_connections(session.info.pid, stack) > 0
        term.send(b"q")
        assert await term.ended() == 0


async def test_read_only_pause_publishes_nothing_control_key_does(
    make_server: ServerFactory, keys: Keys, stack
) -> None:
    """The pause key of a read-only session sends nothing to SIM_CONTROL; the same key in a
    control session sends one command, whose ``sender`` names the session's user, peer and
    key. Commands are told apart by that sender, so other publishers on the topic (another
    dashboard, a test running beside this one) cannot confuse the check."""
    viewer_fp = keys.viewer.get_fingerprint("sha256")
    operator_fp = keys.operator.get_fingerprint("sha256")

    def sent_by(fp: str) -> list[dict[str, Any]]:
        return [c for c in watcher.seen if fp in str(c.get("sender", ""))]

    watcher = await asyncio.to_thread(ControlTopicWatcher, stack)
    try:
        server = await make_server(settings=stack)
        async with await connect(server, keys.viewer) as viewer_conn:
            viewer = await open_terminal(viewer_conn)
            await viewer.wait_for(lambda t: "READ-ONLY" in t and "Kafka ok" in t, "the read-only dashboard")
            viewer.send(b" ")
            await viewer.wait_text("control keys are disabled")

            async with await connect(server, keys.operator) as operator_conn:
                operator = await open_terminal(operator_conn)
                await operator.wait_for(lambda t: "Kafka ok" in t and "? Help" in t, "the control dashboard")
                assert "READ-ONLY" not in operator.text
                operator.send(b" ")
                await operator.wait_for(
                    lambda t: "pause sent" in t or "resume sent" in t or "paused" in t, "the command sent"
                )
                deadline = time.monotonic() + DEADLINE
                while not sent_by(operator_fp) and time.monotonic() < deadline:
                    await asyncio.to_thread(watcher.poll_for, 1.0)
                (command,) = sent_by(operator_fp)
                assert command["command"] in ("pause", "resume") and command["command_id"]
                assert command["sender"].startswith("ssh ") and f"key {operator_fp}" in command["sender"]
                assert sent_by(viewer_fp) == []  # (read after the operator's: the viewer's came first)
                # Leave the simulator as it was.
                operator.send(b" ")
    finally:
        watcher.close()


# -- the command line ------------------------------------------------------------------------


async def test_serve_command_logs_fingerprint_and_stops_on_sigterm(tmp_path: Path, keys: Keys) -> None:
    import re
    import signal

    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cta_tui",
        "serve",
        "--ssh",
        "127.0.0.1:0",
        "--authorized-keys",
        str(keys.authorized),
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    log = ""
    try:
        while "serving the dashboard on" not in log:
            line = await asyncio.wait_for(proc.stderr.readline(), DEADLINE)
            assert line, f"serve exited early:\n{log}"
            log += line.decode()
        host_key = tmp_path / "xdg" / "cta-live" / "ssh_host_ed25519_key"
        assert host_key.stat().st_mode & 0o777 == 0o600
        logged = re.search(r"host key fingerprint (SHA256:\S+)", log)
        assert logged, log
        port = int(re.search(r"serving the dashboard on 127\.0\.0\.1:(\d+)", log)[1])  # type: ignore[index]
        async with asyncssh.connect(
            "127.0.0.1", port, known_hosts=None, username="u", client_keys=[keys.viewer], agent_path=None
        ) as conn:
            assert conn.get_server_host_key().get_fingerprint() == logged[1]  # type: ignore[union-attr]
            result = await conn.run(encoding=None)
            assert result.exit_status == 1
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), DEADLINE) == 0
        rest = (await proc.stderr.read()).decode()
        assert re.search(r"login u@127\.0\.0\.1:\d+ with key SHA256:\S+ \(read-only\)", log + rest)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_serve_without_keys_is_a_one_line_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cta_tui.cli import main

    result = CliRunner().invoke(
        main,
        [
            "serve",
            "--ssh",
            "127.0.0.1:0",
            "--authorized-keys",
            str(tmp_path / "none"),
            "--host-key",
            str(tmp_path / "k"),
        ],
    )
    assert result.exit_code == 1
    assert "nobody could log in" in result.output and str(tmp_path / "none") in result.output
    assert not (tmp_path / "k").exists()


@pytest.mark.skipif(shutil.which("ssh") is None, reason="needs the OpenSSH client")
async def test_openssh_client_sees_publickey_only_and_the_no_terminal_message(
    make_server: ServerFactory, keys: Keys, tmp_path: Path, standin
) -> None:
    """Interoperability with the OpenSSH client operators actually use."""
    server = await make_server(argv_for=standin)
    identity = tmp_path / "id_viewer"
    identity.write_bytes(keys.viewer.export_private_key())
    identity.chmod(0o600)
    common = [
        "ssh",
        "-p",
        str(server.port),
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-F",
        "/dev/null",
    ]

    async def run(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            *common, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(proc.communicate(), DEADLINE)
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    code, out, _ = await run("-T", "-i", str(identity), "127.0.0.1")
    assert code == 1 and out.encode() == NO_TERMINAL_MESSAGE
    code, out, _ = await run("-i", str(identity), "127.0.0.1", "uptime")
    assert code == 1 and out.encode() == NO_TERMINAL_MESSAGE
    code, _, err = await run("-o", "PreferredAuthentications=password,keyboard-interactive", "127.0.0.1")
    assert code == 255 and "Permission denied (publickey)" in err


# -- terminals put back: server shutdown and a dashboard that dies ---------------------------

#: pyte keeps private modes shifted left by 5 (DECTCEM 25, alternate screen 1049 ...).
ALT_SCREEN = 1049 << 5
MOUSE_MODES = {1000 << 5, 1002 << 5, 1003 << 5, 1006 << 5}


def assert_restored(term: Terminal) -> None:
    modes = term.screen.mode
    assert ALT_SCREEN not in modes, "still in the alternate screen"
    assert not MOUSE_MODES & modes, f"mouse tracking left on: {sorted(m >> 5 for m in MOUSE_MODES & modes)}"
    assert not term.screen.cursor.hidden, "cursor left hidden"
    assert term.screen.cursor.attrs.fg == "default" and not term.screen.cursor.attrs.bold


async def test_a_dashboard_killed_hard_leaves_the_terminal_restored(
    make_server: ServerFactory, keys: Keys, standin
) -> None:
    from cta_tui.terminal import CRASH_NOTICE

    server = await make_server(argv_for=standin)
    async with await connect(server, keys.viewer) as conn:
        term = await open_terminal(conn)
        await term.wait_text("SIZE")
        term.send(b"k")
        assert await term.ended() == 128 + 9
        assert CRASH_NOTICE.format(status=137) in term.text
        assert_restored(term)


async def test_serve_stopped_with_two_sessions_restores_both_terminals(tmp_path: Path, keys: Keys) -> None:
    """The real dashboard in two sessions (per-session feed, Kafka pointed at a closed
    port: the dashboards draw "Kafka down" and need no stack), then SIGTERM to the server."""
    import re
    import signal
    import socket

    from cta_tui.terminal import SHUTDOWN_NOTICE, SHUTDOWN_STATUS

    def closed_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    nowhere = f"127.0.0.1:{closed_port()}"
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "CTA_BOOTSTRAP_SERVERS": nowhere,
        "CTA_SCHEMA_REGISTRY_URL": f"http://{nowhere}",
        "CTA_REST_PROXY_URL": f"http://{nowhere}",
        "CTA_CONNECT_URL": f"http://{nowhere}",
        "CTA_KSQL_URL": f"http://{nowhere}",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cta_tui",
        "serve",
        "--ssh",
        "127.0.0.1:0",
        "--feed",
        "per-session",
        "--authorized-keys",
        str(keys.authorized),
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    log = ""
    try:
        while "serving the dashboard on" not in log:
            line = await asyncio.wait_for(proc.stderr.readline(), DEADLINE)
            assert line, f"serve exited early:\n{log}"
            log += line.decode()
        port = int(re.search(r"serving the dashboard on 127\.0\.0\.1:(\d+)", log)[1])  # type: ignore[index]
        conns = [
            await asyncssh.connect(
                "127.0.0.1",
                port,
                known_hosts=None,
                username=f"u{i}",
                client_keys=[keys.viewer],
                agent_path=None,
            )
            for i in range(2)
        ]
        terms = [await open_terminal(conn, 100, 30) for conn in conns]
        for term in terms:
            await term.wait_for(lambda t: "CTA" in t and "Kafka" in t, "the dashboard's status bar", 60)
            assert ALT_SCREEN in term.screen.mode and MOUSE_MODES & term.screen.mode
            assert term.screen.cursor.hidden
        proc.send_signal(signal.SIGTERM)
        for term in terms:
            assert await term.ended() == SHUTDOWN_STATUS
            assert SHUTDOWN_NOTICE in term.text
            assert_restored(term)
        assert await asyncio.wait_for(proc.wait(), DEADLINE) == 0
        log += (await proc.stderr.read()).decode()
        assert "server shutting down (SIGTERM): ending 2 session(s)" in log
        assert len(re.findall(r"ended: the server is shutting down", log)) == 2
        for conn in conns:
            conn.close()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_port_agent_and_x11_forwarding_are_refused_and_the_session_still_works(
    make_server: ServerFactory, keys: Keys, standin, tmp_path: Path
) -> None:
    server = await make_server(argv_for=standin)
    # ssh -A: asked for, not granted (the session sees no SSH_AUTH_SOCK)
    async with await connect(
        server, keys.viewer, agent_forwarding=True, agent_path=str(tmp_path / "agent.sock")
    ) as conn:
        # ssh -L: the server opens no connection on the client's behalf
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.open_connection("127.0.0.1", server.port)
        # ssh -R: the server listens on nothing for the client
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 1)
        # ssh -X: no X11 channel
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.create_process(
                term_type="xterm",
                term_size=(80, 24),
                encoding=None,
                x11_forwarding=True,
                x11_display="127.0.0.1:0",
            )
        term = await open_terminal(conn)
        text = await term.wait_text("SIZE 100x30")
        assert "AGENT=None" in text
