"""A local cluster of several brokers: ports, quorum, replication, services, recorded size."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cta_core.ports import Ports
from cta_core.settings import BROKERS_FILE, Settings
from cta_core.topics import replication_for
from cta_stack import connect, kafka
from cta_stack.errors import StackError
from cta_stack.services import select, services_for
from cta_stack.stack import Stack


def test_replication_is_three_with_two_in_sync_from_three_brokers() -> None:
    assert replication_for(1) == (1, {"min.insync.replicas": "1"})
    assert replication_for(2) == (2, {"min.insync.replicas": "1"})
    assert replication_for(3) == (3, {"min.insync.replicas": "2"})
    assert replication_for(5) == (3, {"min.insync.replicas": "2"})


def test_broker_ports_step_by_ten_and_clients_get_them_all() -> None:
    ports = Ports(kafka=19092, kafka_controller=19093, kafka_brokers=3)
    assert ports.kafka_broker_ports() == [19092, 19102, 19112]
    assert ports.kafka_controller_ports() == [19093, 19103, 19113]
    assert ports.bootstrap_servers() == "127.0.0.1:19092,127.0.0.1:19102,127.0.0.1:19112"
    assert Ports().bootstrap_servers() == "127.0.0.1:9092"


def test_settings_read_the_broker_count_the_stack_recorded(tmp_path: Path) -> None:
    (tmp_path / BROKERS_FILE).write_text("3\n")
    settings = Settings.from_env({"CTA_STACK_DIR": str(tmp_path)})
    assert settings.bootstrap_servers == "127.0.0.1:9092,127.0.0.1:9102,127.0.0.1:9112"
    assert Settings.from_env({}, stack_dir=tmp_path).ports.kafka_brokers == 3
    # an explicit count or bootstrap list wins
    assert Settings.from_env(
        {"CTA_STACK_DIR": str(tmp_path), "CTA_KAFKA_BROKERS": "1"}
    ).bootstrap_servers == ("127.0.0.1:9092")
    explicit = Settings.from_env({"CTA_STACK_DIR": str(tmp_path), "CTA_BOOTSTRAP_SERVERS": "k:1"})
    assert explicit.bootstrap_servers == "k:1"
    with pytest.raises(ValueError, match="CTA_KAFKA_BROKERS"):
        Settings.from_env({"CTA_KAFKA_BROKERS": "9"})


def test_every_broker_is_a_voter_with_its_own_ports_and_durable_defaults(tmp_path: Path) -> None:
    ports = Ports(kafka_brokers=3)
    props = kafka.server_properties(ports, tmp_path / "kafka-2", node=2)
    assert props["node.id"] == 2
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093,2@127.0.0.1:9103,3@127.0.0.1:9113"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9102,CONTROLLER://127.0.0.1:9103"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9102"
    assert props["default.replication.factor"] == props["offsets.topic.replication.factor"] == 3
    assert props["min.insync.replicas"] == props["transaction.state.log.min.isr"] == 2
    assert (kafka.heap(1), kafka.heap(3)) == ("512m", "256m")
    single = kafka.server_properties(Ports(), tmp_path)
    assert single["controller.quorum.voters"] == "1@127.0.0.1:9093" and single["min.insync.replicas"] == 1
    worker = connect.worker_properties(ports, tmp_path)
    assert worker["bootstrap.servers"] == ports.bootstrap_servers()
    assert worker["config.storage.replication.factor"] == 3


def test_services_of_a_cluster_start_every_broker_before_what_needs_kafka() -> None:
    services = services_for(3)
    names = [s.name for s in services]
    assert names[:4] == ["postgres", "kafka", "kafka-2", "kafka-3"]
    by_name = {s.name: s for s in services}
    assert set(by_name["schema-registry"].needs) >= {"kafka", "kafka-2", "kafka-3"}
    ports = Ports(kafka_brokers=3)
    assert by_name["kafka-3"].all_ports(ports) == [9112, 9113]
    chosen = [s.name for s in select(["schema-registry"], lambda s: True, services)]
    assert chosen == ["kafka", "kafka-2", "kafka-3", "schema-registry"]
    settings = replace(Settings.from_env({}), ports=ports)
    argv = by_name["schema-registry"].module_argv(settings)
    assert argv[argv.index("--replication-factor") + 1] == "3"
    assert services_for(1) == services_for(0)


def test_a_stack_with_data_keeps_its_broker_count(tmp_path: Path) -> None:
    stack = Stack(Settings.from_env({}, stack_dir=tmp_path), jar_cache=tmp_path / "jars")
    assert stack.with_brokers(3).brokers == 3  # nothing formatted yet: any size
    meta = tmp_path / "data" / "kafka" / "meta.properties"
    meta.parent.mkdir(parents=True)
    meta.write_text("formatted\n")
    with pytest.raises(StackError, match="has 1 Kafka broker"):
        stack.with_brokers(3)
    (tmp_path / BROKERS_FILE).write_text("3\n")
    assert stack.with_brokers(3).brokers == 3
    with pytest.raises(StackError, match="has 3 Kafka broker"):
        stack.with_brokers(1)
