"""The headless packages never load Textual (DESIGN.md; also an import-linter contract).

Imported in a fresh interpreter, since this test process may have Textual loaded already.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

HEADLESS = ["cta_core", "cta_stack", "cta_servers", "producers_sim", "stream_jobs"]


def _modules(package: str) -> list[str]:
    """The package and the submodules worth importing (CLIs pull in most of the package)."""
    candidates = [package, f"{package}.cli"]
    if package == "cta_core":
        candidates += ["cta_core.kafka_clients", "cta_core.cli_options", "cta_core.settings"]
    if package == "cta_stack":
        candidates += ["cta_stack.stack", "cta_stack.health", "cta_stack.supervisor", "cta_stack.jobs"]
        candidates += ["cta_stack.api", "cta_stack.up"]
    if package == "cta_servers":
        candidates += ["cta_servers.schema_registry.__main__", "cta_servers.rest_proxy.__main__"]
    out = []
    for name in candidates:
        try:
            if importlib.util.find_spec(name) is not None:
                out.append(name)
        except ImportError:
            pass
    return out


def test_headless_packages_do_not_import_textual() -> None:
    modules = [m for p in HEADLESS for m in _modules(p)]
    assert "cta_core" in modules and "cta_stack.cli" in modules
    assert "cta_servers.rest_proxy.__main__" in modules
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
