"""``cta-stack``: the local Kafka stack without Docker (up, down, status, logs)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cta_core.cli_base import CtaGroup, one_line
from cta_core.errors import CtaError
from cta_core.ports import MAX_BROKERS
from cta_core.settings import Settings
from cta_core.troubles import with_fix
from cta_core.units import human_bytes, human_duration
from cta_stack import apps
from cta_stack.errors import ServiceFailed
from cta_stack.principals import PRINCIPALS
from cta_stack.progress import ProgressReporter, progress_display
from cta_stack.services import services_for
from cta_stack.stack import Stack, StatusRow
from cta_stack.summary import listed

#: Every service a stack may have (brokers 2..N only in a cluster: `up --brokers N`).
SERVICE_NAMES = [s.name for s in services_for(MAX_BROKERS)]


def _fail(console: Console, exc: CtaError) -> None:
    message = with_fix(one_line(str(exc)))
    console.print(Text.assemble("cta-stack: ", ("error:", "bold red"), f" {message}"), soft_wrap=True)
    if isinstance(exc, ServiceFailed) and exc.log_tail:
        console.print(f"[dim]--- last lines of {exc.log_file} ---[/]", highlight=False, soft_wrap=True)
        console.print(exc.log_tail, markup=False, highlight=False, soft_wrap=True)
    sys.exit(1)


@click.group("cta-stack", cls=CtaGroup)
@click.option(
    "--stack-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CTA_STACK_DIR",
    show_envvar=True,
    default=Path(".cta-stack"),
    show_default=True,
    help="State, logs and data of the stack.",
)
@click.pass_context
def cli(ctx: click.Context, stack_dir: Path) -> None:
    """The local stack: Kafka (KRaft), Kafka Connect + Debezium, PostgreSQL, and the
    project's Schema Registry and REST Proxy. No Docker needed: Java 17+ and Maven.

    Ports come from CTA_<SERVICE>_PORT (e.g. CTA_KAFKA_PORT); CTA_POSTGRES_DSN uses an
    existing PostgreSQL instead of starting one.
    """
    try:
        settings = Settings.from_env(stack_dir=stack_dir)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    ctx.obj = Stack(settings)


@cli.command()
@click.option(
    "--only",
    "only",
    multiple=True,
    type=click.Choice(SERVICE_NAMES),
    help="Start only this service and what it needs (repeatable).",
)
@click.option(
    "--brokers",
    type=click.IntRange(1, MAX_BROKERS),
    default=None,
    envvar="CTA_KAFKA_BROKERS",
    show_envvar=True,
    help="Kafka brokers (KRaft, every one a controller voter). With 3, topics get three "
    "replicas and min.insync.replicas=2, so one broker may die. Recorded in the stack "
    "directory: later commands there (clients included) use it.  [default: as recorded, else 1]",
)
@click.option(
    "--secure",
    is_flag=True,
    help="SASL_SSL (SCRAM-SHA-512) with one principal per component and ACLs, the registry and "
    "REST Proxy over HTTPS with basic auth; CA, certificates, passwords and each principal's "
    "client config made on first use in the stack directory's secure/ (recorded: later commands "
    "there use it).",
)
@click.pass_obj
def up(stack: Stack, only: tuple[str, ...], brokers: int | None, secure: bool) -> None:
    """Start the stack (idempotent) and wait until every service is healthy."""
    console = Console(stderr=True)
    try:
        if secure:
            stack = stack.secured()
        stack = stack.with_brokers(brokers or stack.brokers)
    except CtaError as exc:
        _fail(console, exc)
        return
    if only and set(only) - {s.name for s in stack.services}:
        raise click.BadParameter(
            f"this stack has {stack.brokers} broker(s): {', '.join(s.name for s in stack.services)}",
            param_hint="--only",
        )
    with progress_display(console) as progress:
        try:
            result = stack.up(only=only or None, reporter=ProgressReporter(progress))
        except CtaError as exc:
            progress.stop()
            _fail(console, exc)
            return
        except KeyboardInterrupt:
            progress.stop()
            console.print(
                "cta-stack: error: interrupted; what started keeps running (`cta-stack down` stops it)"
            )
            sys.exit(130)
    parts = listed(
        ("started ", result.started),
        ("already running: ", result.already_running),
        ("external: ", result.external),
        ("not provided: ", result.skipped),
    )
    console.print(f"[green]stack healthy[/] in {result.seconds:.1f}s ({'; '.join(parts)})", highlight=False)
    console.print(f"[dim]state, logs and data: {stack.layout.root}[/]", highlight=False)
    if stack.secure is not None:
        console.print(
            f"[dim]secured: each principal's client config in {stack.secure.clients_dir}[/]", highlight=False
        )


@cli.command()
@click.option("--purge", is_flag=True, help="Also delete the stack's data (topics, database).")
@click.option(
    "--only",
    "only",
    multiple=True,
    type=click.Choice(SERVICE_NAMES),
    help="Stop only this service (repeatable); `up` starts it again.",
)
@click.pass_obj
def down(stack: Stack, purge: bool, only: tuple[str, ...]) -> None:
    """Stop the processes this stack started (gracefully, then forcefully)."""
    if purge and only:
        raise click.UsageError("--purge deletes the whole stack's data; it cannot be combined with --only")
    console = Console(stderr=True)
    with console.status("stopping the stack"):
        apps_stopped = [] if only else [f"app {n}" for n in apps.stop_all(stack.layout)]
        stopped = apps_stopped + stack.down(purge=purge, only=only or None)
    what = ", ".join(stopped) if stopped else "nothing was running"
    console.print(f"stopped: {what}" + ("; data deleted" if purge else ""), highlight=False)


def status_table(rows: list[StatusRow]) -> Table:
    table = Table(title="cta-stack")
    for col in ("service", "state", "pid", "port", "healthy", "uptime", "memory", "data", "detail"):
        table.add_column(col, overflow="fold" if col == "detail" else "ellipsis")
    for r in rows:
        healthy = "-" if r.healthy is None else ("[green]yes[/]" if r.healthy else "[red]no[/]")
        state_style = {"running": "green", "external": "cyan", "not provided": "dim"}.get(r.state, "yellow")
        table.add_row(
            r.name,
            f"[{state_style}]{r.state}[/]",
            str(r.pid) if r.pid else "-",
            str(r.port),
            healthy,
            human_duration(r.uptime_s),
            human_bytes(r.rss_bytes),
            human_bytes(r.data_bytes),
            r.detail,
        )
    return table


@cli.command()
@click.pass_obj
def status(stack: Stack) -> None:
    """Show every service: state, pid, port, health, uptime, memory and data size."""
    console = Console()
    console.print(status_table(stack.status()))
    app_rows = apps.statuses(stack.layout)
    if app_rows:
        table = Table(title="apps")
        for col in ("app", "state", "pid", "uptime", "memory", "log"):
            table.add_column(col)
        for a in app_rows:
            state = "[green]running[/]" if a.pid else "[red]exited[/]"
            table.add_row(
                a.name,
                state,
                str(a.pid or "-"),
                human_duration(a.uptime_s),
                human_bytes(a.rss_bytes),
                str(a.log),
            )
        console.print(table)
    console.print(f"[dim]stack dir: {stack.layout.root}[/]", highlight=False)


@cli.command()
@click.argument("service", required=False)
@click.option(
    "-n", "--lines", default=40, show_default=True, type=click.IntRange(min=0), help="Lines to show."
)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C to stop).")
@click.pass_obj
def logs(stack: Stack, service: str | None, lines: int, follow: bool) -> None:
    """Show the last lines of a service's or job's log (every one when none is named);
    -f follows them like tail -F, across rotations."""
    from cta_stack.stack import tail

    known = [s.name for s in stack.services] + apps.names(stack.layout)
    if service is not None and service not in known:
        raise click.BadParameter(f"{service!r} is not one of {', '.join(known)}", param_hint="SERVICE")
    names = [service] if service else known
    files = [(n, stack.layout.log_file(n)) for n in names]
    existing = [(n, f) for n, f in files if f.exists()]
    if not existing:
        raise CtaError(f"no logs yet in {stack.layout.logs_dir}; start the stack with `cta-stack up`")
    for name, path in existing:
        if len(existing) > 1:
            click.echo(f"==> {name} ({path}) <==")
        text = tail(path, lines)
        if text:
            click.echo(text)
    if follow:
        from cta_stack.logs_follow import follow as follow_logs

        follow_logs(existing, lambda line: click.echo(line, nl=False))


@cli.command("start-app", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("argv", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_obj
def start_app(stack: Stack, name: str, argv: tuple[str, ...]) -> None:
    """Run a command of the product in the background beside the stack, e.g.
    `cta-stack start-app faust -- cta-jobs faust`. Left alone when it already runs;
    its log is `cta-stack logs` NAME's file in the stack's logs directory; `down` stops it."""
    try:
        apps.check_name(name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    record, started = apps.start(stack.layout, name, list(argv))
    verb = "started" if started else "already running"
    click.echo(f"{name}: {verb} (pid {record.pid}), log {stack.layout.log_file(name)}")


@cli.command("stop-app")
@click.argument("names", nargs=-1)
@click.pass_obj
def stop_app(stack: Stack, names: tuple[str, ...]) -> None:
    """Stop background commands started with start-app (all when none is named)."""
    stopped = [n for n in names if apps.stop_app(stack.layout, n)] if names else apps.stop_all(stack.layout)
    click.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@cli.command()
@click.option(
    "--principal",
    type=click.Choice(PRINCIPALS),
    default=None,
    help="Only this principal's ACLs (default: every principal's).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "kafka-acls", "json"]),
    default="table",
    show_default=True,
    help="A table, kafka-acls.sh command lines to apply on any cluster, or JSON.",
)
@click.option(
    "--bootstrap-server",
    default="BOOTSTRAP",
    show_default=True,
    help="The cluster the kafka-acls.sh lines name.",
)
def acls(principal: str | None, fmt: str, bootstrap_server: str) -> None:
    """Print what each principal of the secured pipeline may do (the ACLs `up --secure` creates)."""
    from cta_stack import acl_plan, acl_render

    grants = acl_plan.for_principal(principal)
    if fmt == "kafka-acls":
        click.echo("\n".join(acl_plan.kafka_acls_commands(grants, bootstrap_server)))
    elif fmt == "json":
        click.echo(acl_render.as_json(grants))
    else:
        Console().print(acl_render.table(grants, principal))


#: the console script (pyproject's [project.scripts]): the group itself
main = cli
