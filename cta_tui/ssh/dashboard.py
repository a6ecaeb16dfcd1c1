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
    from cta_tui.app import make_app
    from cta_tui.feeds.health import HttpHealthProbe
    from cta_tui.logs import default_log_file, log_to_file
    from cta_tui.ssh.hub import SocketSource

    env_log = os.environ.get("CTA_TUI_LOG_FILE")
    log_to_file(Path(env_log) if env_log else default_log_file())
    settings = Settings.from_env()
    theme = os.environ.get("CTA_TUI_THEME") or (
        "low" if os.environ.get("NO_COLOR") is not None else "default"
    )
    source = SocketSource(path, settings.bootstrap_servers)
    from cta_tui.feeds.pipeline_probe import StackPipeline

    app = make_app(
        settings,
        source,
        read_only=read_only,
        health=HttpHealthProbe(settings),
        theme=theme,
        pipeline=lambda: StackPipeline(settings),
    )
    from cta_tui.terminal import exit_cleanly_on_signals

    exit_cleanly_on_signals(app)
    app.run()
    if app.return_code:
        sys.exit(app.return_code)


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
