"""tools/function_length.py (run by `make lint`): the 60-line rule, nested functions
named by their path, exemptions by file and name."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import function_length


def _function(name: str, lines: int, indent: str = "") -> str:
    body = "".join(f"{indent}    x{i} = {i}\n" for i in range(lines - 1))
    return f"{indent}def {name}() -> None:\n{body}"


def test_flags_functions_over_the_limit_only(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        _function("ok", 60)
        + "class C:\n"
        + _function("long_method", 61, "    ")
        + "def outer() -> None:\n"
        + _function("inner", 70, "    ")
    )
    found = {name: length for _, name, length in function_length.long_functions(src, 60)}
    assert found == {"C.long_method": 61, "outer": 71, "outer.inner": 70}


def test_the_product_keeps_the_rule() -> None:
    assert function_length.main([]) == 0
