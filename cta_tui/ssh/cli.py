"""The ``cta-tui serve`` command (registered on the ``cta-tui`` group in cta_tui/cli.py)."""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from cta_core import ports
from cta_core.cli_base import OwnLoggingCommand, verbosity
from cta_core.cli_options import ALL_SERVICES, connection_options, merged_settings

DEFAULT_ADDRESS = f"127.0.0.1:{ports.SSH}"
DEFAULT_WEB_ADDRESS = "127.0.0.1:8000"


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) -> (host, port); ValueError when malformed."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not host:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"write an IPv6 address in brackets, as [{host}]:{port_text}")
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"port must be a number, got {port_text!r}") from None
    if not 0 <= port < 65536:
        raise ValueError(f"port out of range: {port}")
    return host, port


class AddressType(click.ParamType):
    name = "HOST:PORT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        try:
            return parse_address(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _configure_logging(verbose: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for ours in map(logging.getLogger, ("cta_tui.ssh", "cta_tui.web")):
        ours.addHandler(handler)
        ours.setLevel(logging.DEBUG if verbose else logging.INFO)
        ours.propagate = False
    theirs = logging.getLogger("asyncssh")
    theirs.addHandler(handler)
    theirs.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    theirs.propagate = False
    # Everything else (librdkafka through the shared feed's consumer, httpx ...): the same
    # log, formatted, instead of Python's bare last-resort lines.
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)


@click.command("serve", cls=OwnLoggingCommand)
@click.option(
    "--ssh",
    "address",
    type=AddressType(),
    default=None,
    envvar="CTA_SSH_ADDRESS",
    show_envvar=True,
    help=f"Address to serve the dashboard on over SSH. [default: {DEFAULT_ADDRESS} unless --web alone]",
)
@click.option(
    "--web",
    type=AddressType(),
    is_flag=False,
    flag_value=DEFAULT_WEB_ADDRESS,
    default=None,
    envvar="CTA_WEB_ADDRESS",
    show_envvar=True,
    help=f"Serve it to browsers too (or only) on this address [{DEFAULT_WEB_ADDRESS} when given alone].",
)
@click.option(
    "--web-token-file",
    "web_token",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    callback=lambda ctx, param, path: _read_token(path),
    help="The browsers' token (first line) instead of a new random one per start.",
)
@click.option(
    "--web-control", is_flag=True, help="Browser sessions may control the simulator (default: read-only)."
)
@click.option(
    "--authorized-keys",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("~/.ssh/authorized_keys"),
    show_default=True,
    envvar="CTA_SSH_AUTHORIZED_KEYS",
    show_envvar=True,
    help="Public keys allowed to log in (OpenSSH format). A `cta-control` option on a line "
    "lets that key control the simulator.",
)
@click.option(
    "--control-keys",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="CTA_SSH_CONTROL_KEYS",
    show_envvar=True,
    help="Public keys that may log in AND control the simulator; all others are read-only.",
)
@click.option(
    "--host-key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="CTA_SSH_HOST_KEY",
    show_envvar=True,
    help="Host key file, generated (mode 0600) when missing. "
    "[default: $XDG_CONFIG_HOME/cta-live/ssh_host_ed25519_key]",
)
@click.option(
    "--max-sessions",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Sessions served at once; more are refused with a message.",
)
@click.option(
    "--login-timeout",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Seconds a client has to authenticate.",
)
@click.option(
    "--keepalive",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Seconds between keepalives; 3 unanswered ones close the connection.",
)
@click.option(
    "--feed",
    type=click.Choice(["shared", "per-session"]),
    default="shared",
    show_default=True,
    help="shared: the server reads Kafka once for all sessions; per-session: each dashboard "
    "has its own consumers.",
)
@connection_options(*ALL_SERVICES)
@click.pass_context
def serve(
    ctx: click.Context,
    address: tuple[str, int] | None,
    web: tuple[str, int] | None,
    web_token: str | None,
    web_control: bool,
    authorized_keys: Path,
    control_keys: Path | None,
    host_key: Path | None,
    max_sessions: int,
    login_timeout: float,
    keepalive: float,
    feed: str,
    **connection: Any,
) -> None:
    """Serve the dashboard over SSH (`ssh -p 2222 HOST`) and/or to browsers (--web, docs/web.md).

    SSH takes public-key logins from --authorized-keys; a browser needs the token in the
    URL printed at start. Sessions are read-only (no pause, speed or job control) unless the
    key is marked for control, or --web-control. Each gets this command's connection settings.
    -v: more logging, -vv: asyncssh's too.
    """
    # Imported here so that `cta-tui` (the dashboard) does not load asyncssh.
    from cta_tui.ssh.keys import KeyRing, default_host_key_path
    from cta_tui.ssh.server import ServeOptions, dashboard_argv
    from cta_tui.ssh.session import SessionInfo

    # `cta-tui --bootstrap-servers X serve` and `cta-tui serve --bootstrap-servers X` both work.
    parent = ctx.obj if isinstance(ctx.obj, dict) else {}
    settings = merged_settings(ctx, connection)
    all_read_only = bool(parent.get("read_only"))

    def argv_for(info: SessionInfo) -> list[str]:
        # `cta-tui --read-only serve`: no session may control the simulator.
        return dashboard_argv(replace(info, control=info.control and not all_read_only))

    _configure_logging(verbosity(ctx))
    host, port = address or (parse_address(DEFAULT_ADDRESS) if web is None else ("", 0))
    options = ServeOptions(
        host=host,
        port=port,
        host_key=host_key or default_host_key_path(),
        keyring=KeyRing(authorized_keys.expanduser(), control_keys.expanduser() if control_keys else None),
        max_sessions=max_sessions,
        login_timeout=login_timeout,
        keepalive_interval=keepalive,
        settings=settings,
        argv_for=argv_for,
        shared_feed=feed == "shared",
        topic_kwargs=parent["topic_names"].source_kwargs() if parent.get("topic_names") else {},
    )
    _serve(options, ssh=address is not None or web is None, web=(web, web_token, web_control))


def _read_token(path: Path | None) -> str | None:
    """--web-token-file's token (a bad file is a bad flag: exit 2)."""
    from cta_tui.web.access import read_token_file

    try:
        return read_token_file(path) if path is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _serve(options: Any, *, ssh: bool, web: tuple[Any, str | None, bool]) -> None:
    """Serve (SSH and/or web: --web's address, token, control) until SIGINT or SIGTERM; a
    CtaError (a port in use, no keys file) is the command's one-line error, exit 1."""
    from cta_tui.ssh.serving import plan_web, serve_all

    asyncio.run(serve_all(options, ssh=ssh, web=plan_web(*web) if web[0] else None))
