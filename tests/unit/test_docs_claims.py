"""The user docs name only what exists: every file path, module, class or function name,
make target, `cta-*` command (with its subcommands and flags), `--flag` and `CTA_*`
variable written in backticks in README.md and docs/*.md is checked against the tree,
the Makefile and the commands themselves, so a claim cannot go stale silently.

Only inline code is read (fenced blocks show output and other tools' commands); what
is not the project's own (runtime paths like ``~/.cache/...``, placeholders with ``<``)
is left alone.
"""

from __future__ import annotations

import importlib
import re
import shlex
from functools import cache
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PACKAGES = (
    "cta_core",
    "cta_stack",
    "cta_servers",
    "producers_sim",
    "stream_jobs",
    "cta_tui",
    "bench",
    "tests",
)
#: where names are looked for: the product, its tests, benchmarks and tools
CODE_DIRS = (*PACKAGES, "tools")
COMMANDS = {
    "cta-stack": "cta_stack.cli:cli",
    "cta-sim": "producers_sim.cli:main",
    "cta-weather": "producers_sim.weather_job:main",
    "cta-jobs": "stream_jobs.cli:main",
    "cta-tui": "cta_tui.cli:main",
}

_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_PATH = re.compile(r"^[\w.-]+(/[\w.\-\[\]]*)+$|^[\w-]+\.(py|md|toml|yaml|lock|xml|tcss|svg)$")
_DOTTED = re.compile(r"^[a-z_]+(\.[A-Za-z_]\w*)+$")
_CAMEL = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+$")
_CALL = re.compile(r"^([A-Za-z_][\w.]*)\(\)$")
_ENV = re.compile(r"\bCTA_[A-Z0-9_]*[A-Z0-9]\b")
_FLAG = re.compile(r"^--?[A-Za-z][\w-]*")


def spans() -> list[tuple[str, int, str]]:
    """(file, line, text) of every inline code span of the user docs."""
    out = []
    for doc in DOCS:
        text = _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), doc.read_text(encoding="utf-8"))
        for number, line in enumerate(text.splitlines(), 1):
            out += [(doc.name, number, m.group(1).strip()) for m in _INLINE.finditer(line)]
    return out


@cache
def code_text() -> str:
    files = [p for d in CODE_DIRS for p in (ROOT / d).rglob("*.py") if p.name != Path(__file__).name]
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)


def all_files(name: str) -> list[Path]:
    return [p for d in (*CODE_DIRS, "docs") for p in (ROOT / d).rglob(name)]


@cache
def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {m.group(1) for m in re.finditer(r"^([A-Za-z][\w-]*):", text, re.M)}


@cache
def command(name: str) -> click.Command:
    module, attr = COMMANDS[name].split(":")
    obj = getattr(importlib.import_module(module), attr)
    if not isinstance(obj, click.Command):  # a main() that calls the click command
        obj = getattr(importlib.import_module(module), "cli", None) or obj
    assert isinstance(obj, click.Command), f"{name}: no click command at {COMMANDS[name]}"
    return obj


def options(cmd: click.Command) -> dict[str, bool]:
    """Every option name of ``cmd``, and whether it takes a value."""
    names = {"--help": False, "-h": False}
    for param in cmd.params:
        takes_value = isinstance(param, click.Option) and not param.is_flag and not param.count
        for opt in [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]:
            names[opt] = takes_value
    return names


@cache
def every_option() -> set[str]:
    out: set[str] = set()
    stack = [command(n) for n in COMMANDS]
    while stack:
        cmd = stack.pop()
        out |= set(options(cmd))
        if isinstance(cmd, click.Group):
            stack += list(cmd.commands.values())
    return out


def check_path(text: str) -> str | None:
    first = text.split("/", 1)[0]
    if text.startswith(("~", "$", "/", ".cta-stack")) or "<" in text or "*" in text:
        return None
    if not (ROOT / first).exists() and "/" in text:
        return None  # a path of the running stack or the user's machine, not the repository's
    if "/" not in text:  # a file named in the context of its folder
        found = (ROOT / text).exists() or (ROOT / "docs" / text).exists() or any(all_files(text))
        return None if found else f"file {text} not found"
    return None if (ROOT / text.split("::")[0]).exists() else f"path {text} not found"


def check_dotted(text: str) -> str | None:
    parts = text.split(".")
    if parts[0] not in PACKAGES:
        return None
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return f"{text}: {'.'.join(parts[:cut])} has no {attr}"
            obj = getattr(obj, attr)
        return None
    return f"module {text} cannot be imported"


def check_name(text: str) -> str | None:
    return None if re.search(rf"\b{re.escape(text)}\b", code_text()) else f"name {text} not found in the code"


def check_command(text: str) -> str | None:
    """``cta-X [sub] [--flags]``: the command, the subcommands named (first word, or after
    a `` | ``) and every flag exist; what follows ``--`` is another command's."""
    try:
        words = shlex.split(text.replace(" \\| ", " | "))
    except ValueError:
        words = text.split()
    root = command(words[0])
    known = options(root)
    expect_sub, skip = isinstance(root, click.Group), False
    for word in words[1:]:
        if word == "--":
            break
        if word == "|":
            expect_sub, skip = isinstance(root, click.Group), False
            continue
        if skip:  # a flag's value; the group's options may come before its subcommand
            skip = False
            continue
        flag = _FLAG.match(word.strip("[]"))
        if flag:
            if flag.group(0) not in known:
                return f"{words[0]}: no option {flag.group(0)}"
            skip = known[flag.group(0)] and "=" not in word
            continue
        if expect_sub and re.fullmatch(r"[a-z][a-z-]*", word):
            assert isinstance(root, click.Group)
            sub = root.commands.get(word)
            if sub is None:
                return f"{words[0]}: no subcommand {word}"
            known = {**known, **options(sub)}
        expect_sub = False
    return None


def problem(text: str) -> str | None:
    """What is wrong with one span's claim, or None."""
    problems = [f"variable {v} not found in the code" for v in _ENV.findall(text) if v not in code_text()]
    first = text.split()[0] if text.split() else ""
    if first == "make" and len(text.split()) > 1:
        target = text.split()[1]
        if "=" not in target and target not in make_targets():
            problems.append(f"make target {target} not in the Makefile")
    elif first in COMMANDS:
        problems.append(check_command(text) or "")
    elif _FLAG.fullmatch(first) and first.startswith("--") and len(text.split()) <= 2:
        if first not in every_option():
            problems.append(f"no command has {first}")
    elif " " not in text and _PATH.match(text):
        problems.append(check_path(text) or "")
    elif _DOTTED.match(text):
        problems.append(check_dotted(text) or "")
    elif _CAMEL.match(text) or _CALL.match(text):
        problems.append(check_name(_CALL.sub(r"\1", text).rsplit(".", 1)[-1]))
    return "; ".join(p for p in problems if p) or None


def test_the_checks_catch_what_goes_stale() -> None:
    assert problem("stream_jobs/data/cta_stations.csv") is not None
    assert problem("cta_stack/jars.py") is None
    assert problem("NoSuchRegistryLookup") is not None
    assert problem("cta_stack.jars.fetch_all") is None and problem("cta_stack.jars.nothing") is not None
    assert problem("make nothing-here") is not None and problem("make demo") is None
    assert problem("cta-stack step") is not None and problem("cta-stack logs kafka -f") is None
    assert problem("cta-tui tail X --no-such-flag") is not None
    assert problem("CTA_NO_SUCH_VARIABLE") is not None and problem("CTA_STACK_DIR") is None
    assert problem("~/.cache/cta-live/jars") is None


@pytest.mark.parametrize("doc", [d.name for d in DOCS])
def test_every_claim_in_backticks_names_what_exists(doc: str) -> None:
    bad = [
        f"{name}:{line}: `{text}`: {why}"
        for name, line, text in spans()
        if name == doc and (why := problem(text))
    ]
    assert not bad, "\n".join(bad)
