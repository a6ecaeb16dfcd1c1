"""An SSH session's dashboard on the shared feed: it reads its records from the SSH
server's socket (``CTA_TUI_SSH_FEED``) instead of consuming Kafka itself. A session runs
``python -m cta_tui`` (:mod:`cta_tui.__main__`), which comes here when that variable is set.
"""

from __future__ import annotations

import os
from pathlib import Path


def run_on_shared_feed(path: str, read_only: bool) -> None:
    from cta_core.settings import Settings
    from cta_tui.logs import default_log_file, log_to_file
    from cta_tui.run import run_dashboard
    from cta_tui.ssh.hub import SocketSource

    env_log = os.environ.get("CTA_LOG_FILE")
    log_to_file(Path(env_log) if env_log else default_log_file())
    settings = Settings.from_env()
    source = SocketSource(path, settings.bootstrap_servers)
    from cta_tui.feeds.topic_names import TopicNames
    from cta_tui.run import rewind_factory

    # rewinding reads Kafka itself, for this session alone: the shared feed is untouched
    rewind = rewind_factory({"settings": settings, "topic_names": TopicNames(), "replay_minutes": 5.0})
    run_dashboard(
        settings, source, read_only=read_only, theme=os.environ.get("CTA_THEME") or None, rewind=rewind
    )
