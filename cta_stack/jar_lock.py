"""The stack's jars by name, URL path and SHA-256 (``cta_stack/jars.lock``), fetched directly.

Maven resolving the pom on a machine with nothing cached spends most of its time on its
own plugins and poms, one file after another. The lock lists the ~110 jars the pom
resolves to, so a first run downloads them from Maven Central in parallel and checks each
against its hash; Maven stays the fallback (a jar set the lock does not cover, or a pom
whose versions moved since the lock was written).

``python -m cta_stack.jars`` (part of ``make lock``) writes the lock from Maven's own
resolution. Standard library only: ``make install`` fetches jars before the venv exists.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cta_stack.errors import StackError

#: Maven Central; ``CTA_MAVEN_URL`` points at a mirror
CENTRAL = "https://repo.maven.apache.org/maven2"
#: the pom properties a lock is written for: the lock is used only while they still match
VERSION_KEYS = ("kafka.version", "debezium.version")
DOWNLOADS_AT_ONCE = 8
_CHUNK = 1 << 16


@dataclass(frozen=True)
class LockedJar:
    """One jar of one set: its path in a Maven repository and its SHA-256."""

    jar_set: str
    path: str
    sha256: str

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class JarLock:
    versions: dict[str, str]
    jars: tuple[LockedJar, ...]

    def covers(self, profile: str, pom_versions: Mapping[str, str]) -> bool:
        """True when the lock lists ``profile``'s jars for the pom's current versions."""
        same = all(self.versions.get(k) == pom_versions.get(k) for k in VERSION_KEYS)
        return same and any(j.jar_set == profile for j in self.jars)

    def of(self, profile: str) -> list[LockedJar]:
        return [j for j in self.jars if j.jar_set == profile]


def lock_path() -> Path:
    return Path(str(resources.files("cta_stack").joinpath("jars.lock")))


def parse_lock(text: str) -> JarLock:
    """``# versions k=v ...`` then ``set<TAB>path<TAB>sha256`` lines; other ``#`` lines are comments."""
    versions: dict[str, str] = {}
    jars: list[LockedJar] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("# versions "):
            versions = dict(pair.split("=", 1) for pair in line.split()[2:])
        elif line.strip() and not line.startswith("#"):
            fields = line.split("\t")
            if len(fields) != 3 or len(fields[2]) != 64:
                raise ValueError(f"jars.lock line {number}: expected set, path, sha256: {line!r}")
            jars.append(LockedJar(*fields))
    return JarLock(versions, tuple(jars))


def format_lock(lock: JarLock) -> str:
    head = [
        "# The stack's jars: set, path in Maven Central, SHA-256. Written by",
        "# `python -m cta_stack.jars` (make lock) from cta_stack/pom.xml; do not edit.",
        "# versions " + " ".join(f"{k}={lock.versions[k]}" for k in VERSION_KEYS),
    ]
    body = [
        f"{j.jar_set}\t{j.path}\t{j.sha256}" for j in sorted(lock.jars, key=lambda j: (j.jar_set, j.path))
    ]
    return "\n".join(head + body) + "\n"


def read_lock(path: Path | None = None) -> JarLock | None:
    """The lock, or None when there is none (Maven then fetches everything)."""
    try:
        return parse_lock((path or lock_path()).read_text())
    except FileNotFoundError:
        return None


def _download(url: str, target: Path, sha256: str) -> None:
    """``url`` into ``target`` through a temporary file, checked against ``sha256``."""
    digest = hashlib.sha256()
    part = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as answer, part.open("wb") as out:
            while chunk := answer.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise StackError(f"could not download {url}: {exc}; check the network or set CTA_MAVEN_URL") from exc
    if digest.hexdigest() != sha256:
        part.unlink(missing_ok=True)
        raise StackError(f"{url} does not match its SHA-256 in jars.lock; a proxy may have altered it")
    part.replace(target)


def download_set(
    jars: list[LockedJar],
    directory: Path,
    on_line: Callable[[str], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Every jar of one set into ``directory`` at once (those already there and whole are kept)."""
    base = (env if env is not None else os.environ).get("CTA_MAVEN_URL", CENTRAL).rstrip("/")
    directory.mkdir(parents=True, exist_ok=True)

    def one(jar: LockedJar) -> None:
        target = directory / jar.file_name
        if not target.is_file() or _sha256(target) != jar.sha256:
            _download(f"{base}/{jar.path}", target, jar.sha256)
        if on_line:
            on_line(f"Downloaded from central: {base}/{jar.path}")

    with ThreadPoolExecutor(max_workers=DOWNLOADS_AT_ONCE, thread_name_prefix="jar") as pool:
        list(pool.map(one, jars))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def lock_from_repository_layout(root: Path, jar_set: str) -> list[LockedJar]:
    """The jars Maven copied under ``root`` in repository layout (``-Dmdep.useRepositoryLayout``)."""
    return [
        LockedJar(jar_set, path.relative_to(root).as_posix(), _sha256(path))
        for path in sorted(root.rglob("*.jar"))
    ]
