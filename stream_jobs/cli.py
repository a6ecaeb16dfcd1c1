"""`cta-jobs`: load-stations, connector, faust, predict, ksql, setup.

Every subcommand takes the connection flags of the services it uses, is idempotent,
and on an unreachable service prints one line naming its URL and what to start (exit 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.progress import Progress

from cta_core import topics
from cta_core.cli_base import CtaGroup, verbosity
from cta_core.cli_options import (
    CONNECT,
    KAFKA,
    KSQL,
    POSTGRES,
    REGISTRY,
    aliased,
    broker_wait_option,
    connection_options,
    deprecated_alias,
    group_id_option,
    settings_from_options,
    topic_suffix_option,
)
from cta_core.errors import CtaError
from cta_core.settings import Settings
from stream_jobs.progress import progress_display


@click.group("cta-jobs", cls=CtaGroup)
def main() -> None:
    """Stream jobs: stations into PostgreSQL, Kafka Connect, the Faust worker, ksqlDB."""


# ---------------------------------------------------------------- load-stations


def _load_stations(settings: Settings, reset: bool, progress: Progress) -> str:
    from stream_jobs.stations_db import load
    from stream_jobs.stations_rows import packaged

    data = packaged()
    task = progress.add_task("load stations", total=1 + len(data.stations) + len(data.line_stations))
    result = load(settings, data, reset=reset, advance=lambda label, n: progress.advance(task, n))
    return (
        f"stations: {result.stations_inserted} inserted, {result.stations_total} in total; "
        f"line_stations: {result.line_stations_inserted} inserted, {result.line_stations_total} in total"
    )


@main.command("load-stations")
@click.option("--reset", is_flag=True, help="Empty both tables and reload them.")
@connection_options(POSTGRES)
def load_stations_cmd(reset: bool, **options: Any) -> None:
    """Create the stations schema in PostgreSQL and load the packaged data (idempotent)."""
    settings = settings_from_options(options)
    with progress_display() as progress:
        summary = _load_stations(settings, reset, progress)
    click.echo(summary)


# ---------------------------------------------------------------- connector


def _register_connector(
    settings: Settings, kind: str, db_host: str | None, timeout: float, progress: Progress
) -> list[str]:
    from stream_jobs.connect_client import ConnectClient, ConnectorFailed
    from stream_jobs.connector_config import Database, NoUsableConnector, choose, configs

    lines: list[str] = []
    with ConnectClient(settings.connect_url) as client:
        task = progress.add_task("connector: plugins", total=None)
        try:
            chosen = choose(client.plugins(), kind)
        except NoUsableConnector as exc:
            raise CtaError(str(exc)) from None
        wanted = configs(chosen, Database.from_dsn(settings.postgres_dsn, db_host))
        progress.update(task, total=2 * len(wanted), completed=0)
        for name, config in wanted.items():
            progress.update(task, description=f"connector {name} ({chosen}): PUT")
            outcome = client.ensure(name, config)
            progress.advance(task)

            def poll(st: Any, name: str = name) -> None:
                progress.update(task, description=f"connector {name} ({chosen}): {st.state}")

            try:
                st = client.wait_running(name, timeout=timeout, on_poll=poll)
            except ConnectorFailed as exc:
                raise CtaError(str(exc)) from None
            progress.advance(task)
            tasks = ", ".join(f"task {t.get('id')} {t.get('state')}" for t in st.tasks)
            lines.append(f"connector {name} ({chosen}): {outcome}; {st.state}; {tasks}")
    return lines


@main.command("connector")
@click.option(
    "--connector",
    "kind",
    type=click.Choice(["auto", "jdbc", "debezium"]),
    default="auto",
    show_default=True,
    help="auto: Debezium when the Connect worker has it, else the Confluent JDBC source.",
)
@click.option(
    "--db-host-for-connect",
    envvar="CTA_DB_HOST_FOR_CONNECT",
    show_envvar=True,
    default=None,
    help="PostgreSQL host name as the Connect worker sees it (docker-compose: postgres). "
    "Default: the host of --postgres-dsn.",
)
@click.option(
    "--connector-wait",
    type=click.FloatRange(min=0),
    default=90.0,
    show_default=True,
    help="Seconds to wait for the connector to run.",
)
@deprecated_alias("--timeout", "--connector-wait", type=float)
@connection_options(CONNECT, POSTGRES)
@click.pass_context
def connector_cmd(
    ctx: click.Context, kind: str, db_host_for_connect: str | None, connector_wait: float, **options: Any
) -> None:
    """Create or update the stations source connector and wait until it runs."""
    timeout = aliased(ctx, "connector_wait", connector_wait)
    settings = settings_from_options(options)
    with progress_display() as progress:
        lines = _register_connector(settings, kind, db_host_for_connect, timeout, progress)
    for line in lines:
        click.echo(line)


# ---------------------------------------------------------------- faust


@main.command("faust")
@group_id_option("cta-stations", "Faust app id: its consumer group and the prefix of its changelog topics.")
@deprecated_alias("--app-id", "--group-id")
@click.option("--stations/--no-stations", default=True, show_default=True, help="Run the stations transform.")
@click.option(
    "--turnstile-summary/--no-turnstile-summary",
    default=True,
    show_default=True,
    help="Count turnstile entries into TURNSTILE_SUMMARY (when the stack has no ksqlDB).",
)
@click.option("--stations-topic", default=topics.STATIONS_RAW, show_default=True)
@click.option("--line-stations-topic", default=topics.LINE_STATIONS_RAW, show_default=True)
@click.option("--stations-table-topic", default=topics.STATIONS_TABLE, show_default=True)
@click.option("--turnstiles-topic", default=topics.TURNSTILES, show_default=True)
@click.option("--summary-topic", default=topics.TURNSTILE_SUMMARY, show_default=True)
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="Default: <stack dir>/faust.")
@click.option(
    "--commit-interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    envvar="CTA_COMMIT_INTERVAL",
    show_envvar=True,
    help="Seconds between TURNSTILE_SUMMARY writes: the latest count of each station that "
    "changed, at most once per interval (as ksqlDB's record cache).",
)
@topic_suffix_option
@broker_wait_option
@deprecated_alias("--broker-timeout", "--broker-wait", type=float)
@connection_options(KAFKA, REGISTRY)
@click.pass_context
def faust_cmd(
    ctx: click.Context,
    group_id: str,
    stations: bool,
    turnstile_summary: bool,
    stations_topic: str,
    line_stations_topic: str,
    stations_table_topic: str,
    turnstiles_topic: str,
    summary_topic: str,
    data_dir: Path | None,
    commit_interval: float,
    topic_suffix: str,
    broker_wait: float,
    **options: Any,
) -> None:
    """Run the Faust worker (stations transform, turnstile summary) until stopped.
    Its log level: info, -v debug, -q warnings."""
    from stream_jobs.faust_worker import prepare, run_worker

    settings = settings_from_options(options)
    if not stations and not turnstile_summary:
        raise click.UsageError("nothing to run: both --no-stations and --no-turnstile-summary")
    from stream_jobs.faust_app import WorkerOptions

    opts = WorkerOptions(
        app_id=aliased(ctx, "group_id", group_id),
        stations=stations,
        turnstile_summary=turnstile_summary,
        stations_topic=stations_topic,
        line_stations_topic=line_stations_topic,
        stations_table_topic=stations_table_topic + topic_suffix,
        turnstiles_topic=turnstiles_topic + topic_suffix,
        summary_topic=summary_topic + topic_suffix,
        data_dir=data_dir or settings.stack_dir / "faust",
        commit_interval=commit_interval,
    )
    with progress_display() as progress:
        opts = prepare(settings, opts, progress, aliased(ctx, "broker_wait", broker_wait))
    level = verbosity(ctx)
    run_worker(settings, opts, "debug" if level > 0 else "info" if level == 0 else "warning")


# ---------------------------------------------------------------- predict


@main.command("predict")
@group_id_option("cta-predict", "Consumer group of the arrivals.")
@click.option("--arrivals-topic", default=topics.ARRIVALS, show_default=True)
@click.option("--predictions-topic", default=topics.PREDICTIONS, show_default=True)
@click.option(
    "--state-topic",
    default=topics.PREDICTIONS_STATE,
    show_default=True,
    help="Compacted changelog of the learned state (read back at start).",
)
@topic_suffix_option
@click.option(
    "--tick",
    type=click.FloatRange(min=1.0),
    default=30.0,
    show_default=True,
    help="Simulated seconds between re-plans.",
)
@broker_wait_option
@deprecated_alias("--broker-timeout", "--broker-wait", type=float)
@connection_options(KAFKA, REGISTRY)
@click.pass_context
def predict_cmd(
    ctx: click.Context,
    group_id: str,
    arrivals_topic: str,
    predictions_topic: str,
    state_topic: str,
    topic_suffix: str,
    tick: float,
    broker_wait: float,
    **options: Any,
) -> None:
    """Predict train arrivals from the arrivals topic until stopped (Ctrl+C, SIGTERM)."""
    import signal
    import threading

    from cta_core.avro import RegistryUnavailable
    from cta_core.errors import ServiceUnavailable
    from cta_core.kafka_clients import wait_for_broker
    from stream_jobs.predict.job import JobOptions, PredictJob, ensure_job_topics, register

    settings = settings_from_options(options)
    opts = JobOptions(
        group_id=group_id,
        arrivals_topic=arrivals_topic + topic_suffix,
        predictions_topic=predictions_topic + topic_suffix,
        state_topic=state_topic + topic_suffix,
        tick_s=tick,
    )
    with progress_display() as progress:
        task = progress.add_task(f"predict: Kafka {settings.bootstrap_servers}", total=3)
        admin = wait_for_broker(settings, timeout=aliased(ctx, "broker_wait", broker_wait))
        progress.advance(task)
        progress.update(task, description="predict: topics")
        ensure_job_topics(admin, opts)
        progress.advance(task)
        progress.update(task, description=f"predict: Schema Registry {settings.schema_registry_url}")
        ids = register(settings, opts.predictions_topic)
        progress.advance(task)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    job = PredictJob(settings, opts, ids)
    click.echo(
        f"predict: {opts.arrivals_topic} -> {opts.predictions_topic} (state {opts.state_topic})", err=True
    )
    try:
        counters = job.run(stop)
    except RegistryUnavailable as exc:
        raise ServiceUnavailable(
            "Schema Registry", settings.schema_registry_url, cause=str(exc)[:200]
        ) from None
    click.echo(
        f"predict: {counters.arrivals} arrivals predicted for ({counters.arrivals_learned} learned from "
        f"other workers' partitions), {counters.predictions} predictions, "
        f"{counters.skipped_malformed} malformed skipped, {counters.restored_records} state records restored",
        err=True,
    )


# ---------------------------------------------------------------- ksql


def _ksql(settings: Settings, drop: bool, turnstiles_topic: str, progress: Progress) -> list[str]:
    from stream_jobs.ksql_client import KsqlClient, create
    from stream_jobs.ksql_client import drop as drop_objects

    task = progress.add_task("ksql", total=None)
    lines: list[str] = []

    def step(text: str) -> None:
        lines.append(text)
        progress.update(task, description=f"ksql: {text}")

    with KsqlClient(settings.ksql_url) as client:
        if drop:
            drop_objects(client, turnstiles_topic, step)
        else:
            create(client, turnstiles_topic, step)
    progress.update(task, total=1, completed=1)
    return lines


@main.command("ksql")
@click.option("--drop", is_flag=True, help="Terminate the queries and drop TURNSTILE_SUMMARY and TURNSTILE.")
@click.option("--turnstiles-topic", default=topics.TURNSTILES, show_default=True)
@connection_options(KSQL)
def ksql_cmd(drop: bool, turnstiles_topic: str, **options: Any) -> None:
    """Create (or --drop) the TURNSTILE stream and the TURNSTILE_SUMMARY table in ksqlDB."""
    settings = settings_from_options(options)
    with progress_display() as progress:
        lines = _ksql(settings, drop, turnstiles_topic, progress)
    for line in lines or ["nothing to do"]:
        click.echo(line)


# ---------------------------------------------------------------- setup


@main.command("setup")
@click.option(
    "--connector",
    "kind",
    type=click.Choice(["auto", "jdbc", "debezium"]),
    default="auto",
    show_default=True,
)
@click.option("--db-host-for-connect", envvar="CTA_DB_HOST_FOR_CONNECT", show_envvar=True, default=None)
@connection_options(POSTGRES, CONNECT, KSQL)
def setup_cmd(kind: str, db_host_for_connect: str | None, **options: Any) -> None:
    """load-stations, connector, then ksql when a ksqlDB answers."""
    from stream_jobs.ksql_client import KsqlClient

    settings = settings_from_options(options)
    lines: list[str] = []
    with progress_display() as progress:
        lines.append(_load_stations(settings, False, progress))
        lines += _register_connector(settings, kind, db_host_for_connect, 90.0, progress)
        with KsqlClient(settings.ksql_url) as client:
            has_ksql = client.available()
        if has_ksql:
            lines += _ksql(settings, False, topics.TURNSTILES, progress)
        else:
            lines.append(f"ksqlDB: none at {settings.ksql_url}; run `cta-jobs faust` for TURNSTILE_SUMMARY")
    for line in lines:
        click.echo(line)


if __name__ == "__main__":  # pragma: no cover
    main()
