"""A scratch stack's environment: its own directory and ports, nothing that names another stack."""

from __future__ import annotations

from pathlib import Path

from cta_core.ports import BROKER_PORT_STEP, Ports
from cta_core.settings import Settings
from cta_stack.net import port_free
from cta_stack.scratch import PORT_LAYOUT, free_port_base, scratch_env


def test_every_port_moves_from_the_base_and_no_address_is_inherited(tmp_path: Path) -> None:
    parent = {"PATH": "/bin", "CTA_BOOTSTRAP_SERVERS": "elsewhere:9092", "CTA_POSTGRES_DSN": "postgresql://x"}
    env = scratch_env(30000, tmp_path, parent)
    assert env["CTA_STACK_DIR"] == str(tmp_path) and env["PATH"] == "/bin"
    assert "CTA_BOOTSTRAP_SERVERS" not in env and "CTA_POSTGRES_DSN" not in env
    ports = Ports.from_env(env)
    assert [getattr(ports, name) for name in PORT_LAYOUT] == list(range(30000, 30000 + len(PORT_LAYOUT)))
    settings = Settings.from_env(env)
    assert settings.bootstrap_servers == "127.0.0.1:30000"
    assert settings.schema_registry_url == "http://127.0.0.1:30002"


def test_ports_round_trip_through_the_environment() -> None:
    ports = Ports(kafka=19092, kafka_controller=19093, postgres=15432, ksql=18088, kafka_brokers=3)
    assert Ports.from_env(ports.to_env()) == ports


def test_a_free_base_leaves_room_for_every_broker() -> None:
    base = free_port_base(brokers=3)
    wanted = [base + i for i in range(len(PORT_LAYOUT))] + [base + BROKER_PORT_STEP * i for i in (1, 2)]
    assert all(port_free(p) for p in wanted)
