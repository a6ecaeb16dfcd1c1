"""A real Chromium for the web dashboard's tests and benchmark: the machine's own
(Debian's ``chromium``, which ``make install`` installs as root), never a downloaded one,
and the terminal text a page shows.

The page draws its terminal on a canvas (xterm.js with WebGL), which holds no text. The
text is rebuilt from what the browser itself received: every binary websocket frame the
page got is fed to pyte, a terminal emulator, sized by the resize messages the page sent.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from typing import Any

import pyte

#: Where to look besides PATH (CTA_CHROMIUM names another build).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
MISSING = (
    "no Chromium on this machine (looked for {names} on PATH and $CTA_CHROMIUM): "
    "run `make install` as root (it runs `apt-get install -y chromium`), or install "
    "Debian's chromium package yourself, or set CTA_CHROMIUM to a Chromium binary"
)


def chromium_executable() -> str | None:
    """The Chromium binary to drive, or None."""
    given = os.environ.get("CTA_CHROMIUM")
    if given:
        return given if os.access(given, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def launch_args() -> dict[str, Any]:
    """Playwright's ``chromium.launch`` arguments for the machine's Chromium (AssertionError
    with the way to install it when there is none)."""
    path = chromium_executable()
    assert path is not None, MISSING.format(names=", ".join(CHROMIUM_NAMES))
    # Running as root (CI, containers) needs --no-sandbox.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    return {"executable_path": path, "args": args, "headless": True}


class ScreenTap:
    """The terminal text of one page, from the websocket frames it sent and received."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.screen: pyte.Screen | None = None
        self.stream: pyte.ByteStream | None = None
        self.websockets: list[str] = []
        self.bytes_in = 0
        self._sockets: list[Any] = []
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws: Any) -> None:
        self.websockets.append(ws.url)
        self._sockets.append(ws)
        ws.on("framesent", self._sent)
        ws.on("framereceived", self._received)

    def close(self) -> None:
        """Stop reading the page's frames (the text stays as it was)."""
        self.page.remove_listener("websocket", self._on_websocket)
        for ws in self._sockets:
            ws.remove_listener("framesent", self._sent)
            ws.remove_listener("framereceived", self._received)

    def _sent(self, payload: str | bytes) -> None:
        if not isinstance(payload, str):
            return
        message = json.loads(payload)
        if message[0] != "resize":
            return
        columns, rows = message[1]["width"], message[1]["height"]
        if self.screen is None:
            self.screen = pyte.Screen(columns, rows)
            self.stream = pyte.ByteStream(self.screen)
        else:
            self.screen.resize(rows, columns)

    def _received(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes) and self.stream is not None:
            self.bytes_in += len(payload)
            self.stream.feed(payload)

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display) if self.screen is not None else ""

    def wait_for(self, predicate: Callable[[str], bool], what: str, timeout: float = 30.0) -> str:
        """Wait (letting the page's events run) until the text satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while not predicate(self.text):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the page shows:\n{self.text}")
            self.page.wait_for_timeout(100)
        return self.text

    def press(self, key: str) -> None:
        """A key typed into the terminal (focused without a click, which the app would see)."""
        self.page.focus(".xterm-helper-textarea")
        self.page.keyboard.press(key)


#: An init script: the page records, in milliseconds from its navigation's start, when its
#: websocket opened (``window.__ctaSocketOpen``) and when the terminal first drew output
#: (``window.__ctaFirstFrame``: textual.js marks the body ``-first-byte`` then).
TIMING_SCRIPT = """
(() => {
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener("open", () => { window.__ctaSocketOpen ??= performance.now(); });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  new MutationObserver(() => {
    if (document.body && document.body.classList.contains("-first-byte")) {
      window.__ctaFirstFrame ??= performance.now();
    }
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ["class"] });
})();
"""
