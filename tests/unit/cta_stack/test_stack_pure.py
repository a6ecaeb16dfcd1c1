"""Pure parts of the local stack: version parsing, service selection, generated configs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cta_core.ports import Ports
from cta_stack import kafka
from cta_stack.connect import worker_properties
from cta_stack.jars import Jars, pom_versions
from cta_stack.java import parse_java_version
from cta_stack.paths import StackLayout, jar_cache_dir
from cta_stack.postgres import bootstrap_sql
from cta_stack.services import BY_NAME, SERVICES, select


@pytest.mark.parametrize(
    ("text", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_292"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ('openjdk version "11.0.2-ea"', 11),
        ("no version here", None),
    ],
)
def test_parse_java_version(text: str, major: int | None) -> None:
    assert parse_java_version(text) == major


def test_select_adds_what_a_service_needs_in_start_order() -> None:
    names = [s.name for s in select(["rest-proxy"], lambda s: True)]
    assert names == ["kafka", "schema-registry", "rest-proxy"]
    assert [s.name for s in select(None, lambda s: True)] == [s.name for s in SERVICES]


def test_select_drops_slots_not_provided_and_their_dependents() -> None:
    names = [s.name for s in select(None, lambda s: s.module is None)]
    assert names == ["postgres", "kafka", "connect"]


def test_select_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="zookeeper"):
        select(["zookeeper"], lambda s: True)


def test_python_slots_get_their_flags_from_the_settings() -> None:
    from cta_core.settings import Settings

    settings = Settings.from_env({"CTA_KAFKA_PORT": "19092", "CTA_SCHEMA_REGISTRY_PORT": "18081"})
    argv = BY_NAME["rest-proxy"].module_argv(settings)
    assert argv[1:3] == ["-m", "cta_servers.rest_proxy"]
    assert argv[3:] == [
        "--port",
        "8082",
        "--bootstrap-servers",
        "127.0.0.1:19092",
        "--schema-registry-url",
        "http://127.0.0.1:18081",
    ]


def test_kafka_properties_follow_the_ports(tmp_path: Path) -> None:
    props = kafka.server_properties(Ports(kafka=19092, kafka_controller=19093), tmp_path)
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["offsets.topic.replication.factor"] == 1
    assert props["log.dirs"] == str(tmp_path)
    text = kafka.render_server_properties(Ports(), tmp_path)
    assert "process.roles=broker,controller\n" in text


def test_cluster_id_is_made_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "cluster-id"
    first = kafka.cluster_id(path)
    assert len(first) == 22 and "=" not in first
    assert kafka.cluster_id(path) == first


def test_connect_worker_uses_replication_one_and_the_plugin_path(tmp_path: Path) -> None:
    props = worker_properties(Ports(connect=18083), tmp_path)
    assert props["listeners"] == "http://127.0.0.1:18083"
    assert props["plugin.path"] == str(tmp_path)
    for key in ("config", "offset", "status"):
        assert props[f"{key}.storage.replication.factor"] == 1


def test_versions_come_from_the_pom_and_name_the_cache_dirs(tmp_path: Path) -> None:
    versions = pom_versions()
    jars = Jars.in_cache(tmp_path)
    assert jars.kafka.directory == tmp_path / f"kafka-{versions['kafka.version']}"
    assert jars.plugin_path == tmp_path / f"debezium-{versions['debezium.version']}"
    assert jars.missing() == [jars.kafka, jars.debezium]
    jars.kafka.directory.mkdir(parents=True)
    jars.kafka.marker.write_text("done")
    assert jars.missing() == [jars.debezium]


@pytest.mark.parametrize("platformdirs", [True, False], ids=["platformdirs", "before-the-venv"])
def test_jar_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, platformdirs: bool) -> None:
    """The same directory with platformdirs and without it (make install's first step)."""
    if not platformdirs:
        monkeypatch.setitem(sys.modules, "platformdirs", None)
    monkeypatch.setenv("XDG_CACHE_HOME", "/c")
    assert jar_cache_dir({"CTA_JAR_CACHE": "/x/jars"}) == Path("/x/jars")
    assert jar_cache_dir({}) == Path("/c/cta-live/jars")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", "/h")
    assert jar_cache_dir({}) == Path("/h/.cache/cta-live/jars")


def test_layout_is_absolute_and_creates_nothing_until_asked(tmp_path: Path) -> None:
    layout = StackLayout.at(tmp_path / "s")
    assert layout.root.is_absolute()
    assert layout.log_file("kafka") == tmp_path / "s" / "logs" / "kafka.log"
    assert not (tmp_path / "s").exists()
    layout.create()
    assert layout.run_dir.is_dir() and layout.data_root.is_dir()


def test_bootstrap_sql_grants_what_debezium_needs() -> None:
    sql = bootstrap_sql(password="it's")
    assert "REPLICATION" in sql and "CREATEDB" in sql
    assert "'it''s'" in sql
    assert "CREATE DATABASE cta OWNER cta_admin" in sql


def test_a_slot_without_its_module_is_not_provided() -> None:
    from dataclasses import replace

    missing = replace(BY_NAME["schema-registry"], module="cta_stack.no_such_service")
    assert missing.provided() is False
    assert BY_NAME["kafka"].provided() is True


def test_the_stack_checks_its_own_services_whatever_the_clients_point_at(tmp_path: Path) -> None:
    from cta_core.settings import Settings
    from cta_stack.stack import Stack

    env = {
        "CTA_BOOTSTRAP_SERVERS": "broker.example.com:9093",
        "CTA_SECURITY_PROTOCOL": "SASL_SSL",
        "CTA_CONNECT_URL": "https://connect.example.com",
        "CTA_KAFKA_PORT": "19092",
        "CTA_STACK_DIR": str(tmp_path),
    }
    local = Stack(Settings.from_env(env), env=env).settings
    assert local.bootstrap_servers == "127.0.0.1:19092"
    assert local.connect_url == "http://127.0.0.1:8083"
    assert local.security_protocol is None
    assert local.postgres_dsn == "postgresql://cta_admin:chicago@127.0.0.1:5432/cta"
