"""Finding Java (17+) and Maven, with clear errors when they are missing or too old."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from cta_stack.errors import StackError

MIN_JAVA = 17

_VERSION = re.compile(r'version\s+"([^"]+)"')


def parse_java_version(text: str) -> int | None:
    """The major version in ``java -version`` output: ``"17.0.15"`` -> 17, ``"1.8.0_292"`` -> 8."""
    match = _VERSION.search(text)
    if not match:
        return None
    parts = re.split(r"[._+-]", match.group(1))
    try:
        major = int(parts[0])
        if major == 1 and len(parts) > 1:
            major = int(parts[1])
    except ValueError:
        return None
    return major


def find_java(env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    home = env.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("java", path=env.get("PATH"))


def check_java(env: Mapping[str, str] | None = None, minimum: int = MIN_JAVA) -> str:
    """Return the path of a Java >= ``minimum`` or raise :class:`StackError`."""
    java = find_java(env)
    if java is None:
        raise StackError(
            f"Java {minimum}+ is needed for Kafka and Kafka Connect but no `java` was found "
            "(install a JDK, e.g. `apt-get install openjdk-17-jre-headless`, or set JAVA_HOME)"
        )
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StackError(f"could not run `{java} -version`: {exc}") from exc
    version = parse_java_version(out.stderr + out.stdout)
    if version is None:
        raise StackError(f"could not read the Java version from `{java} -version`: {out.stderr.strip()!r}")
    if version < minimum:
        raise StackError(
            f"Java {version} at {java} is too old: Kafka {minimum}+ is needed "
            "(install a newer JDK or point JAVA_HOME at one)"
        )
    return java


def check_maven(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    mvn = shutil.which("mvn", path=env.get("PATH"))
    if mvn is None:
        raise StackError(
            "Maven (`mvn`) is needed once to fetch the Kafka and Debezium jars but was not found "
            "(install it, e.g. `apt-get install maven`)"
        )
    return mvn
