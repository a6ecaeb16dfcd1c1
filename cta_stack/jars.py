"""The Kafka and Debezium jars: fetched from Maven Central with the pinned pom.xml.

Each jar set goes into its own versioned directory of the user cache. A marker
file is written after a successful fetch; Maven runs only when it is missing.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cta_stack.errors import StackError
from cta_stack.java import check_maven

MARKER = ".cta-fetched"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def pom_path() -> Path:
    return Path(str(resources.files("cta_stack").joinpath("pom.xml")))


def pom_versions(pom: Path | None = None) -> dict[str, str]:
    """The ``<properties>`` of the pom (kafka.version, debezium.version ...): one place for versions."""
    root = ET.parse(pom or pom_path()).getroot()
    props = root.find("m:properties", _POM_NS)
    if props is None:
        return {}
    return {child.tag.split("}", 1)[-1]: (child.text or "").strip() for child in props}


def downloaded_file(line: str) -> str | None:
    """The file a line of Maven's output says it downloaded, else None."""
    if "Downloaded from" not in line:
        return None
    return line.rsplit("/", 1)[-1].split(" ", 1)[0]


@dataclass(frozen=True)
class JarSet:
    """One Maven profile fetched into one directory."""

    name: str
    profile: str
    directory: Path

    @property
    def marker(self) -> Path:
        return self.directory / MARKER

    def is_complete(self) -> bool:
        return self.marker.is_file()


@dataclass(frozen=True)
class Jars:
    kafka: JarSet
    debezium: JarSet

    @classmethod
    def in_cache(cls, cache: Path, pom: Path | None = None) -> Jars:
        versions = pom_versions(pom)
        kafka_version = versions["kafka.version"]
        debezium_version = versions["debezium.version"]
        return cls(
            kafka=JarSet("Kafka", "kafka", cache / f"kafka-{kafka_version}"),
            debezium=JarSet(
                "Debezium", "debezium", cache / f"debezium-{debezium_version}" / "debezium-connector-postgres"
            ),
        )

    @property
    def plugin_path(self) -> Path:
        """Kafka Connect's plugin.path: the parent of the Debezium plugin directory."""
        return self.debezium.directory.parent

    def classpath(self) -> str:
        return ":".join(str(p) for p in sorted(self.kafka.directory.glob("*.jar")))

    def missing(self) -> list[JarSet]:
        return [s for s in (self.kafka, self.debezium) if not s.is_complete()]


def fetch_all(
    jar_sets: list[JarSet],
    on_line: Callable[[str, str], None] | None = None,
    mvn: str | None = None,
    on_done: Callable[[JarSet, StackError | None], None] | None = None,
) -> list[StackError]:
    """Fetch ``jar_sets`` at the same time, one Maven each (each downloads one after the
    other; together they use the bandwidth). ``on_line(set name, line)`` gets Maven's
    output, ``on_done(set, error)`` each ending; returns the errors."""
    mvn = mvn or check_maven()
    errors: list[StackError] = []

    def one(jar_set: JarSet) -> None:
        error = None
        try:
            fetch(jar_set, on_line=(lambda line: on_line(jar_set.name, line)) if on_line else None, mvn=mvn)
        except StackError as exc:
            error = exc
            errors.append(exc)
        if on_done:
            on_done(jar_set, error)

    with ThreadPoolExecutor(max_workers=max(1, len(jar_sets)), thread_name_prefix="jars") as pool:
        list(pool.map(one, jar_sets))
    return errors


def fetch(
    jar_set: JarSet,
    pom: Path | None = None,
    on_line: Callable[[str], None] | None = None,
    mvn: str | None = None,
    extra_args: list[str] | None = None,
) -> None:
    """Run Maven for one profile; on failure raise :class:`StackError` with the output's tail."""
    mvn = mvn or check_maven()
    pom = pom or pom_path()
    jar_set.directory.mkdir(parents=True, exist_ok=True)
    argv = [
        mvn,
        "-B",
        "-Dstyle.color=never",
        *(extra_args or []),
        "-f",
        str(pom),
        "-P",
        jar_set.profile,
        "dependency:copy-dependencies",
        f"-DoutputDirectory={jar_set.directory}",
    ]
    tail: deque[str] = deque(maxlen=25)
    try:
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
        )
    except OSError as exc:
        raise StackError(f"could not run Maven ({mvn}): {exc}") from exc
    assert proc.stdout is not None
    for line in proc.stdout:
        line = _ANSI.sub("", line).rstrip()
        tail.append(line)
        if on_line:
            on_line(line)
    if proc.wait() != 0:
        raise StackError(
            f"Maven could not fetch the {jar_set.name} jars (profile {jar_set.profile}, exit {proc.returncode}); "
            "check the network or proxy settings (~/.m2/settings.xml). Last lines of its output:\n"
            + "\n".join(tail)
        )
    jar_set.marker.write_text(" ".join(argv) + "\n")
