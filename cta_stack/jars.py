"""The Kafka and Debezium jars: fetched from Maven Central with the pinned pom.xml.

Each jar set goes into its own versioned directory of the user cache. A marker
file is written after a successful fetch; nothing is fetched while it is there.
A set that ``jars.lock`` covers is downloaded directly, in parallel and checked
against its hashes (:mod:`cta_stack.jar_lock`); any other set is Maven's.
``python -m cta_stack.jars`` (``make lock``) writes the lock.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cta_stack.errors import StackError
from cta_stack.jar_lock import (
    VERSION_KEYS,
    JarLock,
    LockedJar,
    download_set,
    format_lock,
    lock_from_repository_layout,
    lock_path,
    read_lock,
)
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


def needs_maven(jar_sets: list[JarSet], lock: JarLock | None = None) -> bool:
    """True when some of ``jar_sets`` must come through Maven (the lock does not cover them)."""
    lock = lock if lock is not None else read_lock()
    versions = pom_versions()
    return any(lock is None or not lock.covers(s.profile, versions) for s in jar_sets)


def fetch_all(
    jar_sets: list[JarSet],
    on_line: Callable[[str, str], None] | None = None,
    mvn: str | None = None,
    on_done: Callable[[JarSet, StackError | None], None] | None = None,
) -> list[StackError]:
    """Fetch ``jar_sets`` at the same time: each from the lock's list when it covers the
    set, else with one Maven each. ``on_line(set name, line)`` gets a line per file,
    ``on_done(set, error)`` each ending; returns the errors."""
    lock = read_lock()
    versions = pom_versions()
    errors: list[StackError] = []

    def one(jar_set: JarSet) -> None:
        error = None
        lines = (lambda line: on_line(jar_set.name, line)) if on_line else None
        try:
            if lock is not None and lock.covers(jar_set.profile, versions):
                download_set(lock.of(jar_set.profile), jar_set.directory, on_line=lines)
                jar_set.marker.write_text("jars.lock\n")
            else:
                fetch(jar_set, on_line=lines, mvn=mvn or check_maven())
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


def write_lock(jars: Jars, out: Path | None = None) -> JarLock:
    """Resolve every jar set with Maven into a scratch directory and write ``jars.lock``."""
    versions = pom_versions()
    locked: list[LockedJar] = []
    with tempfile.TemporaryDirectory(prefix="cta-jar-lock-") as scratch:
        for jar_set in (jars.kafka, jars.debezium):
            root = Path(scratch) / jar_set.profile
            fetch(
                JarSet(jar_set.name, jar_set.profile, root),
                extra_args=["-q", "-Dmdep.useRepositoryLayout=true"],
            )
            locked += lock_from_repository_layout(root, jar_set.profile)
    lock = JarLock({k: versions[k] for k in VERSION_KEYS}, tuple(locked))
    (out or lock_path()).write_text(format_lock(lock))
    return lock


if __name__ == "__main__":  # pragma: no cover
    from cta_stack.paths import jar_cache_dir

    written = write_lock(Jars.in_cache(jar_cache_dir()), Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(f"cta_stack/jars.lock: {len(written.jars)} jars for {written.versions}")
