"""What every console script shares: the click command classes that give each command
and subcommand ``-h/--help``, ``--version`` and ``-v``/``-q`` anywhere on the line, one
error form (``cta-X: error: <what>; <what to do>``) and one set of exit codes.

Exit codes: 0 ok, 1 failure (a service unreachable, a job failed), 2 usage (a bad flag
or value), 130 interrupted (ctrl+c before the command finished its work).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Sequence
from importlib import resources
from typing import Any

import click

from cta_core.errors import CtaError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
HELP_NAMES = ["-h", "--help"]
#: the logger every confluent-kafka client of a command logs through (``logger=``)
LIBRDKAFKA_LOGGER = "cta.librdkafka"
_VERBOSITY = "cta_verbosity"


def kafka_version() -> str:
    """The Kafka version the local stack fetches (its pom's ``kafka.version``)."""
    try:
        pom = resources.files("cta_stack").joinpath("pom.xml").read_text(encoding="utf-8")
    except (OSError, ModuleNotFoundError):
        return "unknown"
    found = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom)
    return found.group(1).strip() if found else "unknown"


def version_text(prog: str) -> str:
    """``cta-sim (cta-live 0.1.0), librdkafka 2.16.0, Kafka 4.3.1``."""
    from importlib.metadata import PackageNotFoundError, version

    import confluent_kafka

    try:
        ours = version("cta-live")
    except PackageNotFoundError:
        ours = "unknown"
    return f"{prog} (cta-live {ours}), librdkafka {confluent_kafka.libversion()[0]}, Kafka {kafka_version()}"


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_text(ctx.find_root().info_name or "cta-live"))
        ctx.exit(EXIT_OK)


def _count(step: int) -> Any:
    def callback(ctx: click.Context, param: click.Parameter, value: int) -> None:
        meta = ctx.find_root().meta
        meta[_VERBOSITY] = meta.get(_VERBOSITY, 0) + step * (value or 0)

    return callback


def verbosity(ctx: click.Context | None = None) -> int:
    """``-v`` count minus ``-q`` count, over the whole command line (group and subcommand)."""
    ctx = ctx or click.get_current_context(silent=True)
    return int(ctx.find_root().meta.get(_VERBOSITY, 0)) if ctx is not None else 0


def _common_params() -> list[click.Parameter]:
    return [
        click.Option(
            ["-v", "--verbose"],
            count=True,
            expose_value=False,
            callback=_count(1),
            help="More logging (-vv: debug, librdkafka's included).",
        ),
        click.Option(
            ["-q", "--quiet"], count=True, expose_value=False, callback=_count(-1), help="Less logging."
        ),
        click.Option(
            ["--version"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_show_version,
            help="Show cta-live's, librdkafka's and Kafka's versions and exit.",
        ),
    ]


def quiet_warnings() -> None:
    """Python and library warnings go to the ``py.warnings`` logger, shown from ``-v`` on
    (authlib, imported by confluent-kafka's registry client, warns on every import)."""
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").setLevel(logging.ERROR)


def log_to_stderr(level_offset: int) -> None:
    """A command's logging on stderr: warnings by default, ``-v`` info, ``-vv`` debug,
    ``-q`` errors only. librdkafka's own lines and Python warnings from ``-v`` on."""
    level = min(max(logging.WARNING - 10 * level_offset, logging.DEBUG), logging.CRITICAL)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    logging.getLogger(LIBRDKAFKA_LOGGER).setLevel(logging.WARNING if level_offset >= 1 else logging.CRITICAL)
    logging.getLogger("py.warnings").setLevel(logging.WARNING if level_offset >= 1 else logging.ERROR)


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def print_error(prog: str, what: str) -> None:
    """The one error form: ``cta-X: error: <what>; <what to do>``."""
    from cta_core.troubles import with_fix

    click.echo(f"{prog}: error: {with_fix(one_line(what))}", err=True)


def _usage_message(exc: click.UsageError) -> str:
    text = re.sub(r"\s+Did you mean (.+?)\?$", r" (did you mean \1?)", one_line(exc.format_message()))
    if text[1:2].islower():  # "No such option" -> "no such option"; "CTA_..." kept
        text = text[:1].lower() + text[1:]
    path = exc.ctx.command_path if exc.ctx is not None else None
    return f"{text}; see '{path} --help'" if path else text


class _CtaMixin:
    """``main`` with the one error form and exit codes; the shared options added."""

    #: leaf commands log to stderr at the line's verbosity (the dashboard logs to a file)
    logs_to_stderr = True

    def _add_common(self) -> None:
        cmd: Any = self
        cmd.context_settings = {"help_option_names": HELP_NAMES, **(cmd.context_settings or {})}
        cmd.params.extend(_common_params())

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        quiet_warnings()
        parent: Any = super()
        if not standalone_mode:
            return parent.main(args, prog_name, complete_var, False, **extra)
        prog = prog_name or getattr(self, "name", None) or "cta-live"
        try:
            rv = parent.main(args, prog, complete_var, False, **extra)
        except click.UsageError as exc:
            print_error(prog, _usage_message(exc))
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            print_error(prog, exc.format_message())
            sys.exit(EXIT_FAILURE)
        except CtaError as exc:
            print_error(prog, str(exc))
            sys.exit(EXIT_FAILURE)
        except click.Abort:
            print_error(prog, "interrupted")
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(rv if isinstance(rv, int) else EXIT_OK)


class CtaCommand(_CtaMixin, click.Command):
    """A leaf command: its callback runs with logging on stderr at the line's verbosity."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_common()

    def invoke(self, ctx: click.Context) -> Any:
        if self.logs_to_stderr:
            log_to_stderr(verbosity(ctx))
        return super().invoke(ctx)


class OwnLoggingCommand(CtaCommand):
    """A command that sets up its own logging (a dashboard logs to a file: it draws on
    the terminal)."""

    logs_to_stderr = False


class CtaGroup(_CtaMixin, click.Group):
    """A group whose subcommands are :class:`CtaCommand` s."""

    command_class = CtaCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_common()
