"""``cta-stack`` errors a user can hit before anything starts: bad flags, a taken
port, Java missing or too old, Maven unable to fetch. Real sockets and real
subprocesses; nothing of the shared stack is touched (temporary stack dirs,
spare ports)."""

from __future__ import annotations

import shutil
import socket
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from cta_stack.cli import cli
from cta_stack.errors import StackError
from cta_stack.jars import JarSet, fetch
from cta_stack.java import check_java, check_maven
from cta_stack.net import free_ports
from tests.support.ports import closed_port


@pytest.fixture
def private_env(tmp_path: Path) -> dict[str, str]:
    kafka, controller, connect, pg, sr, rp = free_ports(6)
    return {
        "CTA_STACK_DIR": str(tmp_path / "stack"),
        "CTA_KAFKA_PORT": str(kafka),
        "CTA_KAFKA_CONTROLLER_PORT": str(controller),
        "CTA_CONNECT_PORT": str(connect),
        "CTA_POSTGRES_PORT": str(pg),
        "CTA_SCHEMA_REGISTRY_PORT": str(sr),
        "CTA_REST_PROXY_PORT": str(rp),
        "CTA_JAR_CACHE": str(tmp_path / "jars"),
    }


def test_bad_flag_exits_2() -> None:
    result = CliRunner().invoke(cli, ["up", "--no-such-flag"])
    assert result.exit_code == 2
    assert "no such option" in result.output


def test_unknown_service_exits_2() -> None:
    result = CliRunner().invoke(cli, ["logs", "zookeeper"])
    assert result.exit_code == 2


def test_bad_port_variable_exits_2(private_env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["status"], env={**private_env, "CTA_KAFKA_PORT": "ninety"})
    assert result.exit_code == 2
    assert "CTA_KAFKA_PORT" in result.output


def test_port_in_use_is_named(private_env: dict[str, str]) -> None:
    port = int(private_env["CTA_KAFKA_PORT"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        result = CliRunner().invoke(cli, ["up", "--only", "kafka"], env=private_env)
    assert result.exit_code == 1
    assert f"port {port} (Kafka) is already in use" in result.output
    assert "CTA_" in result.output  # says how to move it


def _fake_java(tmp_path: Path, version: str) -> Path:
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho 'java version \"{version}\"' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IXUSR)
    return home


def test_java_too_old_is_reported(private_env: dict[str, str], tmp_path: Path) -> None:
    """A stand-in `java` script that prints a Java 8 version string (no old JDK is installed here)."""
    home = _fake_java(tmp_path, "1.8.0_292")
    result = CliRunner().invoke(cli, ["up", "--only", "kafka"], env={**private_env, "JAVA_HOME": str(home)})
    assert result.exit_code == 1
    assert "Java 8" in result.output and "too old" in result.output


def test_java_missing_is_reported(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="no `java` was found"):
        check_java({"PATH": str(tmp_path)})


def test_maven_missing_is_reported(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="Maven"):
        check_maven({"PATH": str(tmp_path)})


@pytest.mark.skipif(shutil.which("mvn") is None, reason="Maven not installed")
def test_maven_failure_reports_the_tail_of_its_output(tmp_path: Path) -> None:
    """Real Maven, offline, asked for an artifact that does not exist."""
    pom = tmp_path / "pom.xml"
    pom.write_text(
        """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>t</groupId><artifactId>t</artifactId><version>1</version><packaging>pom</packaging>
  <build><plugins><plugin><groupId>org.apache.maven.plugins</groupId>
    <artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version></plugin></plugins></build>
  <profiles><profile><id>kafka</id><dependencies><dependency>
    <groupId>org.example.cta</groupId><artifactId>does-not-exist</artifactId><version>0.0.0</version>
  </dependency></dependencies></profile></profiles>
</project>
"""
    )
    jar_set = JarSet("Kafka", "kafka", tmp_path / "out")
    with pytest.raises(StackError) as info:
        fetch(jar_set, pom=pom, extra_args=["-o"])
    message = str(info.value)
    assert "Maven could not fetch the Kafka jars" in message
    assert "does-not-exist" in message
    assert not jar_set.is_complete()


def test_logs_without_logs_says_so(private_env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["logs", "kafka"], env=private_env)
    assert result.exit_code == 1
    assert "no logs yet" in result.output


def test_status_of_a_stopped_private_stack(private_env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["status"], env={**private_env, "COLUMNS": "200"}, terminal_width=200)
    assert result.exit_code == 0, result.output
    for name in ("postgres", "kafka", "connect", "schema-registry", "rest-proxy"):
        assert name in result.output
    assert "stopped" in result.output


@pytest.mark.skipif(shutil.which("java") is None, reason="Java not installed")
def test_up_without_maven_and_without_a_jar_lock_says_so(
    private_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty jar cache, no jars.lock and no `mvn` on PATH (Java found through JAVA_HOME)."""
    monkeypatch.setattr("cta_stack.jar_lock.lock_path", lambda: tmp_path / "no-jars.lock")
    java = Path(shutil.which("java") or "").resolve()
    env = {**private_env, "JAVA_HOME": str(java.parent.parent), "PATH": str(tmp_path / "empty-bin")}
    result = CliRunner().invoke(cli, ["up", "--only", "kafka"], env=env)
    assert result.exit_code == 1
    assert "Maven (`mvn`) is needed" in result.output


def test_up_without_maven_downloads_the_locked_jars_and_names_the_repository(
    private_env: dict[str, str], tmp_path: Path
) -> None:
    """jars.lock needs no Maven: with the repository unreachable, the error names its URL."""
    java = Path(shutil.which("java") or "").resolve()
    repository = f"http://127.0.0.1:{closed_port()}"
    env = {
        **private_env,
        "JAVA_HOME": str(java.parent.parent),
        "PATH": str(tmp_path / "empty-bin"),
        "CTA_MAVEN_URL": repository,
    }
    result = CliRunner().invoke(cli, ["up", "--only", "kafka"], env=env)
    assert result.exit_code == 1
    assert f"could not download {repository}/" in result.output and "mvn" not in result.output


def test_purge_with_only_is_a_usage_error(private_env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["down", "--purge", "--only", "kafka"], env=private_env)
    assert result.exit_code == 2
    assert "--purge" in result.output
