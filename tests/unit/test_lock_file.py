"""requirements.lock (what `make install` installs, hashes required) holds a pin for
every dependency pyproject.toml declares, and the pin satisfies the declared range:
after a change to pyproject.toml, `make lock` must be run."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", re.M)


def _declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return [Requirement(r) for r in names]


def _locked() -> dict[str, str]:
    return {canonicalize_name(m[1]): m[2] for m in _PIN.finditer((REPO / "requirements.lock").read_text())}


def test_every_declared_dependency_is_locked_within_its_range() -> None:
    locked = _locked()
    problems = []
    for req in _declared():
        version = locked.get(canonicalize_name(req.name))
        if version is None:
            problems.append(f"{req} is not in requirements.lock")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req} but requirements.lock pins {version}")
    assert not problems, "; ".join(problems) + " (run `make lock`)"


def test_every_pin_carries_a_hash() -> None:
    text = (REPO / "requirements.lock").read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert len(blocks) > 50
    assert all("--hash=sha256:" in b for b in blocks if _PIN.match(b))
