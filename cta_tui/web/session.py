"""One browser session's dashboard process (textual-serve's AppService), started before
its websocket may be there: what it draws is held until :meth:`DashboardService.attach`
gives it the websocket, then sent in order, then everything goes straight through."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService

log = logging.getLogger(__name__)

#: What textual-serve sets for its child (the web driver, its frame rate, the size) and
#: the only variables of its making a dashboard gets.
TEXTUAL_VARIABLES = (
    "TEXTUAL_DRIVER",
    "TEXTUAL_FPS",
    "TEXTUAL_COLOR_SYSTEM",
    "TERM_PROGRAM",
    "COLUMNS",
    "ROWS",
)

#: Output at least this long is a frame (what comes before is a few escape sequences).
FRAME_BYTES = 512


class DashboardService(AppService):
    """A dashboard process in the environment it was given, its output held until attached."""

    def __init__(self, command: str, env: Mapping[str, str], **kwargs: Any) -> None:
        self._held: list[tuple[str, Any]] = []
        #: Set at the first frame: the dashboard has drawn at its first size, and takes a
        #: resize from then on (Textual's web driver can lose one that comes earlier, while
        #: it applies its first size).
        self.drawing = asyncio.Event()
        super().__init__(
            command, write_bytes=self._hold_bytes, write_str=self._hold_str, close=self._hold_close, **kwargs
        )
        self._env = dict(env)

    async def _hold_bytes(self, data: bytes) -> None:
        self._held.append(("bytes", data))

    async def _hold_str(self, data: str) -> None:
        self._held.append(("str", data))

    async def _hold_close(self) -> None:
        self._held.append(("close", None))

    async def on_data(self, payload: bytes) -> None:
        if len(payload) >= FRAME_BYTES:
            self.drawing.set()
        await super().on_data(payload)

    async def resize_when_drawing(self, width: int, height: int, timeout: float = 15.0) -> None:
        """Resize once the dashboard draws (at once when it already does)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drawing.wait(), timeout)
        await self.set_terminal_size(width, height)

    async def attach(self, websocket: web.WebSocketResponse) -> None:
        """Send what was held, in order (what comes meanwhile is held too), then send
        straight to ``websocket``."""
        while self._held:
            kind, data = self._held.pop(0)
            if kind == "bytes":
                await websocket.send_bytes(data)
            elif kind == "str":
                await websocket.send_str(data)
            else:
                await websocket.close()
        self.remote_write_bytes = websocket.send_bytes
        self.remote_write_str = websocket.send_str
        self.remote_close = websocket.close  # type: ignore[assignment]

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        theirs = super()._build_environment(width, height)
        env = dict(self._env)
        env.update({k: theirs[k] for k in TEXTUAL_VARIABLES if k in theirs})
        env["TERM_PROGRAM_VERSION"] = theirs.get("TERM_PROGRAM_VERSION", "")
        return env

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def stop_within(self, grace: float) -> None:
        """Ask the dashboard to quit; kill it when it has not after ``grace`` seconds."""
        try:
            await asyncio.wait_for(self.stop(), grace)
        except TimeoutError:
            log.warning("dashboard pid %s did not quit within %.0f s: killed", self.pid, grace)
        process = self._process
        if process is None or process.returncode is not None:
            return
        try:
            await asyncio.wait_for(process.wait(), 1.0)  # its output closed: it is exiting
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
