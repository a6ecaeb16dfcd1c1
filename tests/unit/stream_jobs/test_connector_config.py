from __future__ import annotations

import pytest

from stream_jobs.connector_config import (
    DEBEZIUM_CLASS,
    JDBC_CLASS,
    Database,
    NoUsableConnector,
    choose,
    configs,
    same_config,
)

DB = Database.from_dsn("postgresql://cta_admin:chicago@127.0.0.1:5432/cta")


def test_auto_prefers_debezium_then_jdbc() -> None:
    both = [{"class": JDBC_CLASS}, {"class": DEBEZIUM_CLASS}]
    assert choose(both) == "debezium"
    assert choose([{"class": JDBC_CLASS}]) == "jdbc"
    assert choose(both, "jdbc") == "jdbc"
    with pytest.raises(NoUsableConnector):
        choose([{"class": "x"}])
    with pytest.raises(NoUsableConnector):
        choose([{"class": JDBC_CLASS}], "debezium")


def test_debezium_config_routes_flat_json_rows_to_our_topics() -> None:
    cfg = configs("debezium", DB)["stations"]
    assert cfg["plugin.name"] == "pgoutput"
    assert cfg["table.include.list"] == "public.stations,public.line_stations"
    assert cfg["transforms"] == "unwrap,route"
    assert cfg["transforms.unwrap.type"] == "io.debezium.transforms.ExtractNewRecordState"
    assert cfg["value.converter.schemas.enable"] == "false"
    assert (cfg["database.hostname"], cfg["database.port"], cfg["database.dbname"]) == (
        "127.0.0.1",
        "5432",
        "cta",
    )
    import re

    pattern = re.compile(cfg["transforms.route.regex"])
    assert pattern.fullmatch("cta.public.line_stations")
    assert pattern.sub(cfg["transforms.route.replacement"].replace("$1", r"\1"), "cta.public.stations") == (
        "org.chicago.cta.stations"
    )


def test_jdbc_is_the_course_projects_incrementing_source() -> None:
    cfgs = configs("jdbc", Database.from_dsn("postgresql://u:p@127.0.0.1/cta", host_override="postgres"))
    st = cfgs["stations"]
    assert st["mode"] == "incrementing" and st["incrementing.column.name"] == "stop_id"
    assert (
        st["topic.prefix"] == "org.chicago.cta."
        and st["connection.url"] == "jdbc:postgresql://postgres:5432/cta"
    )
    assert cfgs["stations-lines"]["table.whitelist"] == "line_stations"


def test_same_config_ignores_the_name_connect_adds() -> None:
    cfg = configs("debezium", DB)["stations"]
    assert same_config({**cfg, "name": "stations"}, cfg)
    assert not same_config({**cfg, "slot.name": "other"}, cfg)
