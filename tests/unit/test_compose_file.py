"""Static checks of docker-compose.yaml, the Confluent stack for Docker users.

There is no Docker engine on the machines that develop and test cta-live, so
neither ``docker compose config`` nor ``docker compose up`` can run here: this
test parses the file with PyYAML and checks the properties the project relies
on (exact image tags, health checks, start order, the same host ports as the
local stack, PostgreSQL with logical decoding and the ``cta`` database, both
connectors installed in Connect, Kafka in KRaft mode). Ports and database names
are imported from cta_core, where they are defined once.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from cta_core import ports
from cta_core.ports import Ports
from cta_core.settings import DEV_DB_NAME, DEV_DB_PASSWORD, DEV_DB_USER

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yaml"

#: service -> (host port default from cta_core.ports, the Ports field that env vars move, or None)
EXPECTED_HOST_PORTS: dict[str, tuple[int, str | None]] = {
    "kafka": (ports.KAFKA, "kafka"),
    "schema-registry": (ports.SCHEMA_REGISTRY, "schema_registry"),
    "rest-proxy": (ports.REST_PROXY, "rest_proxy"),
    "connect": (ports.CONNECT, "connect"),
    "ksqldb-server": (ports.KSQL, "ksql"),
    "postgres": (ports.POSTGRES, "postgres"),
    "connect-ui": (ports.CONNECT_UI, None),
    "topics-ui": (ports.TOPICS_UI, None),
    "schema-registry-ui": (ports.SCHEMA_REGISTRY_UI, None),
}

_VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::-(?P<default>[^}]*))?\}")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ``${NAME:-default}`` substitution (the only form the file uses)."""

    def sub(match: re.Match[str]) -> str:
        got = env.get(match["name"])
        if got:
            return got
        if match["default"] is None:
            raise AssertionError(f"{match['name']} has no default in {value!r}")
        return match["default"]

    return _VAR.sub(sub, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def host_ports(service: dict[str, Any], env: Mapping[str, str]) -> list[tuple[str, int, int]]:
    """(host ip, host port, container port) of each published port."""
    out = []
    for entry in service.get("ports", []):
        parts = interpolate(str(entry), env).split(":")
        assert len(parts) == 3, f"publish with an explicit host address: {entry!r}"
        out.append((parts[0], int(parts[1]), int(parts[2])))
    return out


def test_the_stack_has_every_component(services: dict[str, dict[str, Any]]) -> None:
    images = {name: svc["image"].split(":")[0] for name, svc in services.items()}
    assert images["kafka"] == "confluentinc/cp-kafka"
    assert images["schema-registry"] == "confluentinc/cp-schema-registry"
    assert images["rest-proxy"] == "confluentinc/cp-kafka-rest"
    assert images["connect"] == "confluentinc/cp-kafka-connect"
    assert images["ksqldb-server"] == "confluentinc/cp-ksqldb-server"
    assert images["postgres"] == "postgres"
    assert {"landoop/kafka-connect-ui", "landoop/kafka-topics-ui", "landoop/schema-registry-ui"} <= set(
        images.values()
    )


def test_every_image_has_an_exact_version(services: dict[str, dict[str, Any]]) -> None:
    confluent_versions = set()
    for name, svc in services.items():
        image = svc["image"]
        repo, sep, tag = image.rpartition(":")
        assert sep and repo, f"{name}: image {image!r} has no tag"
        assert "$" not in image, f"{name}: image tag must not be a variable"
        assert re.fullmatch(r"\d+\.\d+(\.\d+)?", tag), f"{name}: {image!r} is not an exact version"
        if repo.startswith("confluentinc/"):
            assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"{name}: Confluent tags need the patch level"
            confluent_versions.add(tag)
    assert len(confluent_versions) == 1, f"one Confluent Platform release, got {confluent_versions}"


def test_every_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        check = svc.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"
        test = check["test"]
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1 and test[1].strip(), name
        for key in ("interval", "timeout", "retries"):
            assert key in check, f"{name} healthcheck lacks {key}"


def test_start_order_waits_for_health(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        deps = svc.get("depends_on", {})
        assert isinstance(deps, dict), f"{name}: depends_on must name a condition"
        for dep, cond in deps.items():
            assert dep in services, f"{name} depends on unknown {dep}"
            assert cond == {"condition": "service_healthy"}, f"{name} -> {dep}: {cond}"
    for name in ("schema-registry", "rest-proxy", "connect", "ksqldb-server"):
        assert "kafka" in services[name]["depends_on"], name
    assert "postgres" in services["connect"]["depends_on"]


def test_host_ports_match_the_local_stack(services: dict[str, dict[str, Any]]) -> None:
    assert set(EXPECTED_HOST_PORTS) == set(services)
    for name, (port, _) in EXPECTED_HOST_PORTS.items():
        published = host_ports(services[name], {})
        assert [(ip, hp) for ip, hp, _ in published] == [("127.0.0.1", port)], name


def test_cta_port_variables_move_the_same_ports_as_the_clients(services: dict[str, dict[str, Any]]) -> None:
    """CTA_<SERVICE>_PORT moves a port here exactly as Ports.from_env does for the clients."""
    env = {
        "CTA_KAFKA_PORT": "19092",
        "CTA_SCHEMA_REGISTRY_PORT": "18081",
        "CTA_REST_PROXY_PORT": "18082",
        "CTA_CONNECT_PORT": "18083",
        "CTA_KSQL_PORT": "18088",
        "CTA_POSTGRES_PORT": "15432",
    }
    moved = Ports.from_env(env)
    for name, (_, field) in EXPECTED_HOST_PORTS.items():
        if field is None:
            continue
        [(_, host, _)] = host_ports(services[name], env)
        assert host == getattr(moved, field), name


def test_kafka_runs_kraft_with_internal_and_host_listeners(services: dict[str, dict[str, Any]]) -> None:
    assert not any("zookeeper" in name or "zookeeper" in svc["image"] for name, svc in services.items())
    env = env_of(services["kafka"])
    assert not any("ZOOKEEPER" in key for key in env)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    # A KRaft cluster id is 16 bytes, base64url without padding.
    assert len(base64.urlsafe_b64decode(env["CLUSTER_ID"] + "==")) == 16

    advertised = dict(
        item.split("://", 1) for item in interpolate(env["KAFKA_ADVERTISED_LISTENERS"], {}).split(",")
    )
    assert advertised["HOST"] == f"127.0.0.1:{ports.KAFKA}"
    internal = advertised[env["KAFKA_INTER_BROKER_LISTENER_NAME"]]
    assert not internal.startswith(("127.0.0.1", "localhost"))
    moved = dict(
        item.split("://", 1)
        for item in interpolate(env["KAFKA_ADVERTISED_LISTENERS"], {"CTA_KAFKA_PORT": "19092"}).split(",")
    )
    assert moved["HOST"] == "127.0.0.1:19092"

    # Every other container reaches the broker on the internal listener.
    for name, svc in services.items():
        for key, value in env_of(svc).items():
            if key.endswith("BOOTSTRAP_SERVERS"):
                assert internal in value, f"{name}.{key}={value!r} should use {internal}"


def test_postgres_has_logical_decoding_and_the_cta_database(services: dict[str, dict[str, Any]]) -> None:
    pg = services["postgres"]
    command = pg["command"] if isinstance(pg["command"], str) else " ".join(pg["command"])
    assert re.search(r"-c\s+wal_level=logical\b", command)
    env = env_of(pg)
    assert env["POSTGRES_DB"] == DEV_DB_NAME
    assert env["POSTGRES_USER"] == DEV_DB_USER
    assert env["POSTGRES_PASSWORD"] == DEV_DB_PASSWORD
    assert DEV_DB_USER in pg["healthcheck"]["test"][1] and DEV_DB_NAME in pg["healthcheck"]["test"][1]


def test_connect_installs_both_connectors_pinned(services: dict[str, dict[str, Any]]) -> None:
    connect = services["connect"]
    script = " ".join(connect["command"]) if isinstance(connect["command"], list) else connect["command"]
    installs = re.findall(r"confluent-hub install --no-prompt (\S+)", script)
    coords = dict(item.rsplit(":", 1) for item in installs)
    assert set(coords) == {"confluentinc/kafka-connect-jdbc", "debezium/debezium-connector-postgresql"}
    for coord, version in coords.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{coord} pinned to {version!r}"
    assert script.rstrip().endswith("exec /etc/confluent/docker/run")
    assert "/usr/share/confluent-hub-components" in env_of(connect)["CONNECT_PLUGIN_PATH"]
    health = connect["healthcheck"]["test"][1]
    assert "io.confluent.connect.jdbc.JdbcSourceConnector" in health
    assert "io.debezium.connector.postgresql.PostgresConnector" in health


def test_uis_point_at_the_services_inside_the_network(services: dict[str, dict[str, Any]]) -> None:
    assert env_of(services["connect-ui"])["CONNECT_URL"].startswith("http://connect:8083")
    assert env_of(services["topics-ui"])["KAFKA_REST_PROXY_URL"].startswith("http://rest-proxy:8082")
    assert env_of(services["schema-registry-ui"])["SCHEMAREGISTRY_URL"].startswith(
        "http://schema-registry:8081"
    )
