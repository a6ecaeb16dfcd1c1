"""``python -m cta_tui ARGS`` is ``cta-tui ARGS``; an SSH session's dashboard runs it with
``CTA_TUI_SSH_FEED`` set, and then reads the server's shared feed instead of Kafka."""

from __future__ import annotations

import os
import sys


def main() -> None:
    from cta_tui.ssh.hub import FEED_ENV

    feed = os.environ.get(FEED_ENV)
    if feed:
        from cta_tui.ssh.dashboard import run_on_shared_feed

        run_on_shared_feed(feed, read_only="--read-only" in sys.argv[1:])
        return
    from cta_tui.cli import main as cli_main

    cli_main(prog_name="cta-tui")


if __name__ == "__main__":
    main()
