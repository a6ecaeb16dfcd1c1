"""The dashboard in this terminal, for every command that opens one (``cta-tui``,
``cta-tui up``, the SSH session's launcher): its Kafka source, its logs sent to a file,
and the app run until the user quits. Not a CLI module: the commands import it."""

from __future__ import annotations

import os
import sys
from typing import Any


def dashboard_source(obj: dict[str, Any]) -> Any:
    """The Kafka source of a dashboard in this terminal (``cta-tui``, ``--once``, ``cta-tui
    up``), its logs sent to the dashboard's log file first: nothing may draw on its screen."""
    from cta_core.cli_base import verbosity
    from cta_tui.feeds.kafka_source import KafkaSource
    from cta_tui.logs import default_log_file, log_to_file

    log_to_file(obj["log_file"] or default_log_file(), obj.get("verbose", verbosity()))
    return KafkaSource(
        obj["settings"], replay_minutes=obj["replay_minutes"], **obj["topic_names"].source_kwargs()
    )


def rewind_factory(obj: dict[str, Any]) -> Any:
    """What makes the dashboard's :class:`~cta_tui.rewind.engine.Rewinder` (when first rewound)."""
    from cta_tui.rewind.engine import Rewinder

    settings, names, replay = obj["settings"], obj["topic_names"], obj["replay_minutes"]
    return lambda: Rewinder(settings, names, replay_minutes=replay)


def run_dashboard(
    settings: Any,
    source: Any,
    *,
    read_only: bool,
    theme: str | None,
    rewind: Any = None,
    start_at: tuple[str | None, str | None] = (None, None),
) -> None:
    """The dashboard in this terminal until the user quits (``cta-tui`` and ``cta-tui up``),
    or SIGTERM/SIGHUP end it; exits with the app's status when it is not 0. ``rewind``
    makes its rewinder; ``start_at`` (time, run id) opens it at a past moment."""
    from cta_tui.app import make_app
    from cta_tui.feeds.health import HttpHealthProbe
    from cta_tui.feeds.pipeline_probe import StackPipeline
    from cta_tui.terminal import exit_cleanly_on_signals

    chosen = theme or ("low" if os.environ.get("NO_COLOR") is not None else "default")
    app = make_app(
        settings,
        source,
        read_only=read_only,
        health=HttpHealthProbe(settings),
        theme=chosen,
        pipeline=lambda: StackPipeline(settings),
        rewind=rewind,
        start_at=start_at,
    )
    exit_cleanly_on_signals(app)  # SIGTERM/SIGHUP end it as `q` does: terminal restored
    app.run()
    if app.return_code:
        sys.exit(app.return_code)
