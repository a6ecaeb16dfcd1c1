"""``python -m cta_tui.ssh.dashboard ARGS``: what a session runs.

With the shared feed (``CTA_TUI_SSH_FEED`` names the server's socket) the dashboard
reads its records from the SSH server instead of consuming Kafka itself; otherwise
this is exactly ``cta-tui ARGS``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def run_on_shared_feed(path: str, read_only: bool) -> None:
    from cta_core.settings import Settings
    from cta_tui.logs import default_log_file, log_to_file
    from cta_tui.run import run_dashboard
    from cta_tui.ssh.hub import SocketSource

    env_log = os.environ.get("CTA_TUI_LOG_FILE")
    log_to_file(Path(env_log) if env_log else default_log_file())
    settings = Settings.from_env()
    source = SocketSource(path, settings.bootstrap_servers)
    run_dashboard(settings, source, read_only=read_only, theme=os.environ.get("CTA_TUI_THEME") or None)


def main() -> None:
    from cta_tui.ssh.hub import FEED_ENV

    feed = os.environ.get(FEED_ENV)
    if feed:
        run_on_shared_feed(feed, read_only="--read-only" in sys.argv[1:])
        return
    from cta_tui.cli import main as cli_main

    cli_main(prog_name="cta-tui")


if __name__ == "__main__":
    main()
