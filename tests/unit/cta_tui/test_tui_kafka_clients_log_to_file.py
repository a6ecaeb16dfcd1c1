"""Every confluent-kafka client the dashboard creates hands librdkafka's log lines to the
dashboard's logger (``logger=kafka_logger()``): without it they are printed on the
dashboard's screen (``%3|...|FAIL|...``). A new client without it fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import cta_tui

FACTORIES = {
    "make_consumer",
    "make_producer",
    "make_admin",
    "Consumer",
    "Producer",
    "AdminClient",
    "wait_for_broker",
}


def test_every_kafka_client_of_the_dashboard_gets_the_logger() -> None:
    root = Path(cta_tui.__file__).parent
    missing = []
    found = 0
    for path in sorted(root.rglob("*.py")):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            if name not in FACTORIES:
                continue
            found += 1
            if "logger" not in (ast.get_source_segment(source, node) or ""):
                missing.append(f"{path.relative_to(root.parent)}:{node.lineno} {name}(...)")
    assert found >= 2, "the scan found none of the dashboard's clients"
    assert not missing, "clients without logger=kafka_logger(): " + ", ".join(missing)
