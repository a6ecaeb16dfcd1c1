"""Fails when a function in the product is longer than the limit (lines from `def` to its
last line, decorators excluded; docstrings and comments count: a function that needs a
long comment is long). Run by `make lint`; the limit, the packages and the per-file
exemptions are in pyproject.toml under [tool.cta-function-length]. Cyclomatic complexity
is ruff's (C901, max-complexity in [tool.ruff.lint.mccabe])."""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def long_functions(path: Path, limit: int) -> Iterator[tuple[int, str, int]]:
    """(line, qualified name, length) of each function in ``path`` longer than ``limit``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[int, str, int]]:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                length = (child.end_lineno or child.lineno) - child.lineno + 1
                if not isinstance(child, ast.ClassDef) and length > limit:
                    yield child.lineno, name, length
                name += "."
            yield from walk(child, name)

    yield from walk(tree, "")


def main(argv: list[str]) -> int:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["cta-function-length"]
    limit = int(config["max-lines"])
    exempt: dict[str, list[str]] = config.get("exempt", {})
    roots = argv or config["paths"]
    found = 0
    for root in roots:
        for path in sorted((ROOT / root).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for line, name, length in long_functions(path, limit):
                if name in exempt.get(rel, []):
                    continue
                found += 1
                print(f"{rel}:{line}: {name} is {length} lines long (limit {limit})")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
