"""The real dashboard on a pseudo-terminal, rendered by pyte, while its Kafka broker is
stopped and started again: the dashboard says so itself ("Kafka down", then "Kafka ok")
and nothing else ever reaches its terminal: librdkafka's log lines (``%3|...|FAIL|``)
go to the dashboard's log file.

The broker is stopped on a separate one-broker stack (own CTA_STACK_DIR and ports,
cta_stack.scratch.ScratchStack), never the shared one.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyte
import pytest

from cta_stack.scratch import ScratchStack
from cta_tui.ssh.session import PtyProcess

pytestmark = pytest.mark.integration

DEADLINE = 60.0
#: librdkafka's own log format: %LEVEL|timestamp|FACILITY|client| message
LIBRDKAFKA_LINE = re.compile(rb"%[0-7]\|\d+\.\d+\|[A-Z_]+\|")


@pytest.fixture(scope="module")
def one_broker() -> Iterator[ScratchStack]:
    with ScratchStack.running(1, only=("kafka",)) as trial:
        yield trial


class PtyScreen:
    """A process on a pty whose output is kept raw and rendered by pyte."""

    def __init__(self, child: PtyProcess, columns: int, rows: int):
        self.child = child
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()

    def pump(self) -> None:
        while True:
            try:
                data = os.read(self.child.master_fd, 65536)
            except (BlockingIOError, OSError):
                return
            if not data:
                return
            self.raw += data
            self.stream.feed(data)

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, predicate: Callable[[str], bool], what: str, timeout: float = DEADLINE) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            if predicate(self.text):
                return
            if self.child.proc.returncode is not None:
                break
            await asyncio.sleep(0.1)
        raise AssertionError(f"the screen never showed {what}; it shows:\n{self.text}")

    async def hold(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump()
            await asyncio.sleep(0.1)


async def test_broker_stopped_and_started_shows_on_the_status_bar_and_no_log_line_on_screen(
    one_broker: ScratchStack, tmp_path: Path
) -> None:
    log_file = tmp_path / "cta-tui.log"
    env = {**one_broker.env, "CTA_LOG_FILE": str(log_file), "TERM": "xterm-256color"}
    child = await PtyProcess.spawn(
        [str(Path(sys.executable).parent / "cta-tui"), "--replay-minutes", "0"], env, 100, 30
    )
    term = PtyScreen(child, 100, 30)
    try:
        await term.wait_for(lambda t: "Kafka ok" in t, "Kafka ok")
        await asyncio.to_thread(one_broker.cli, "down", "--only", "kafka")
        await term.wait_for(lambda t: "Kafka down" in t, "Kafka down")
        # long enough for librdkafka to log several failed reconnects
        await term.hold(4.0)
        await asyncio.to_thread(one_broker.cli, "up", "--only", "kafka")
        await term.wait_for(lambda t: "Kafka ok" in t, "Kafka ok again")
        await term.hold(1.0)
        found = LIBRDKAFKA_LINE.search(bytes(term.raw))
        assert found is None, (
            f"librdkafka wrote on the dashboard's terminal: {bytes(term.raw)[found.start() :][:200]!r}"
        )
        for marker in ("%3|", "%4|", "%6|", "%7|", "FAIL|", "Traceback", "WARNING"):
            assert marker not in term.text, f"{marker!r} on screen:\n{term.text}"
        # ... because they went to the log file: proof that there was something to hide
        logged = log_file.read_text()
        assert "cta.librdkafka" in logged and re.search(r"Connect to ipv4#|Connection refused", logged), (
            logged[-2000:]
        )
        os.write(child.master_fd, b"q")
        assert await asyncio.wait_for(child.proc.wait(), DEADLINE) == 0
    finally:
        if child.proc.returncode is None:
            await child.terminate(2.0)
        child.close()


async def test_sigterm_ends_the_dashboard_with_its_terminal_restored(tmp_path: Path) -> None:
    """`kill PID` (or a closed terminal window: SIGHUP) ends the dashboard as `q` does.
    Kafka points at a closed port: the dashboard draws "Kafka down", no stack needed."""
    import signal
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        nowhere = f"127.0.0.1:{sock.getsockname()[1]}"
    env = {
        **os.environ,
        "CTA_BOOTSTRAP_SERVERS": nowhere,
        "CTA_SCHEMA_REGISTRY_URL": f"http://{nowhere}",
        "CTA_REST_PROXY_URL": f"http://{nowhere}",
        "CTA_CONNECT_URL": f"http://{nowhere}",
        "CTA_KSQL_URL": f"http://{nowhere}",
        "CTA_LOG_FILE": str(tmp_path / "cta-tui.log"),
        "TERM": "xterm-256color",
    }
    child = await PtyProcess.spawn([str(Path(sys.executable).parent / "cta-tui")], env, 100, 30)
    term = PtyScreen(child, 100, 30)
    try:
        await term.wait_for(lambda t: "CTA" in t and "Kafka" in t, "the status bar")
        assert (1049 << 5) in term.screen.mode and term.screen.cursor.hidden
        os.kill(child.pid, signal.SIGTERM)
        assert await asyncio.wait_for(child.proc.wait(), DEADLINE) == 128 + signal.SIGTERM
        term.pump()
        assert (1049 << 5) not in term.screen.mode, "still in the alternate screen"
        assert not {1000 << 5, 1003 << 5, 1006 << 5} & term.screen.mode, "mouse tracking left on"
        assert not term.screen.cursor.hidden, "cursor left hidden"
    finally:
        if child.proc.returncode is None:
            await child.terminate(2.0)
        child.close()
