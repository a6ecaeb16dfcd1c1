"""Who may do what on a secured cluster: one principal per component and the ACLs each
needs, as pure data (no Kafka here). ``cta-stack up --secure`` creates them
(:mod:`cta_stack.acl_apply`), ``cta-stack acls`` prints them for any cluster.

Topic grants are PREFIXED on the topic's name, so a trial's suffixed copies of a topic
(``--topic-suffix``) are covered by the same grant, except Connect's rows (never
suffixed), which are LITERAL: a prefix there would cover the stations table. ``admin`` is the
super user (``super.users``) that the stack itself uses; it needs no ACL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cta_core import topics
from cta_stack import connect
from cta_stack.principals import PRINCIPALS

READ = ("READ", "DESCRIBE")
WRITE = ("WRITE", "DESCRIBE")
CREATE_WRITE = ("CREATE", "WRITE", "DESCRIBE")
OWN = ("ALL",)
#: What the dashboard and tail read: every topic of the pipeline (the pipeline screen's
#: rates and lag, tail's list), the contract's order.
PIPELINE_TOPICS = topics.PIPELINE_TOPICS


@dataclass(frozen=True)
class Grant:
    """ALLOW ``operations`` on a resource (``TOPIC``/``GROUP``/``CLUSTER``) to ``principal``."""

    principal: str
    resource: str
    name: str
    operations: tuple[str, ...]
    pattern: str = "PREFIXED"
    why: str = ""

    @property
    def user(self) -> str:
        return f"User:{self.principal}"


def _topics(
    principal: str, names: Iterable[str], ops: tuple[str, ...], why: str, pattern: str = "PREFIXED"
) -> list[Grant]:
    return [Grant(principal, "TOPIC", name, ops, pattern, why) for name in names]


def _group(principal: str, prefix: str, why: str, ops: tuple[str, ...] = ("READ", "DESCRIBE")) -> Grant:
    return Grant(principal, "GROUP", prefix, ops, why=why)


def _sim() -> list[Grant]:
    made = (topics.ARRIVALS, topics.TURNSTILES, topics.SIM_STATUS)
    return [
        *_topics("sim", made, CREATE_WRITE, "creates and writes its topics"),
        *_topics("sim", (topics.SIM_CONTROL,), ("CREATE", *READ), "reads commands"),
        *_topics("sim", (topics.WEATHER,), ("CREATE", "DESCRIBE"), "creates every topic of its run"),
        _group("sim", "cta-sim-control-", "its control consumer"),
    ]


def _weather() -> list[Grant]:
    return [
        *_topics("weather", (topics.WEATHER,), ("CREATE", "DESCRIBE"), "creates the weather topic"),
        *_topics("weather", (topics.SIM_STATUS,), READ, "follows the simulator's clock"),
        _group("weather", "cta-weather-", "its status consumer"),
    ]


def _servers() -> list[Grant]:
    return [
        *_topics("restproxy", (topics.WEATHER,), (*WRITE, "DESCRIBE_CONFIGS"), "produces the readings"),
        Grant("registry", "TOPIC", topics.SCHEMAS, OWN, pattern="LITERAL", why="its store"),
        _group("registry", "cta-schema-registry-", "reads its store"),
    ]


def _connect() -> list[Grant]:
    internal = (connect.CONFIG_TOPIC, connect.OFFSET_TOPIC, connect.STATUS_TOPIC)
    rows = (topics.STATIONS_RAW, topics.LINE_STATIONS_RAW)
    return [
        *_topics("connect", internal, OWN, "its internal topics"),
        # literal: a prefix on org.chicago.cta.stations would cover Faust's stations table
        *_topics("connect", rows, CREATE_WRITE, "the stations rows", pattern="LITERAL"),
        _group("connect", connect.GROUP_ID, "its worker group", OWN),
        _group("connect", "connect-", "its connectors' consumers"),
    ]


def _faust() -> list[Grant]:
    app = "cta-stations"
    return [
        *_topics("faust", (topics.TURNSTILES, topics.STATIONS_RAW, topics.LINE_STATIONS_RAW), READ, "inputs"),
        *_topics("faust", (topics.TURNSTILE_SUMMARY, topics.STATIONS_TABLE), CREATE_WRITE, "its outputs"),
        *_topics("faust", (app,), OWN, "its changelog and assignor topics"),
        _group("faust", app, "its consumer group"),
    ]


def _predict() -> list[Grant]:
    return [
        *_topics("predict", (topics.ARRIVALS,), ("CREATE", *READ), "its input (made when missing)"),
        *_topics("predict", (topics.PREDICTIONS,), CREATE_WRITE, "its output"),
        *_topics(
            "predict", (topics.PREDICTIONS_STATE,), ("CREATE", "READ", "WRITE", "DESCRIBE"), "its state"
        ),
        _group("predict", "cta-predict", "its consumer group"),
        _group("predict", topics.PREDICTIONS_STATE, "restores its state"),
    ]


def _viewers() -> list[Grant]:
    return [
        *_topics("dashboard", PIPELINE_TOPICS, READ, "shows the pipeline"),
        *_topics("dashboard", (topics.SIM_CONTROL,), ("CREATE", "WRITE"), "pause, resume, speed"),
        _group("dashboard", "cta-tui-", "its consumers"),
        _group("dashboard", "cta-", "the pipeline screen's lag per job", ("DESCRIBE",)),
        *_topics("tail", PIPELINE_TOPICS, READ, "shows any topic"),
        _group("tail", "cta-tui-tail-", "its consumers"),
    ]


def plan() -> list[Grant]:
    """Every ACL of the secured stack, principal by principal."""
    return [*_sim(), *_weather(), *_servers(), *_connect(), *_faust(), *_predict(), *_viewers()]


def for_principal(principal: str | None) -> list[Grant]:
    """The grants of ``principal`` (every one when None); ValueError for an unknown name."""
    if principal is not None and principal not in PRINCIPALS:
        raise ValueError(f"unknown principal {principal!r} (known: {', '.join(PRINCIPALS)})")
    return [g for g in plan() if principal is None or g.principal == principal]


def kafka_acls_commands(grants: Iterable[Grant], bootstrap: str = "BOOTSTRAP") -> list[str]:
    """The grants as ``kafka-acls.sh`` command lines (for a cluster the stack did not make)."""
    kind = {"TOPIC": "--topic", "GROUP": "--group", "CLUSTER": "--cluster"}
    out = []
    for g in grants:
        ops = " ".join(f"--operation {op.title().replace('_', '')}" for op in g.operations)
        target = kind[g.resource] + ("" if g.resource == "CLUSTER" else f" '{g.name}'")
        out.append(
            f"kafka-acls.sh --bootstrap-server {bootstrap} --command-config admin.properties --add "
            f"--allow-principal {g.user} {ops} {target} --resource-pattern-type {g.pattern.lower()}"
        )
    return out
