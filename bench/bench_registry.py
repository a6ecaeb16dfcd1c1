"""Schema Registry: lookups of an already registered schema (POST /subjects/{s}),
against reads by id (GET /schemas/ids/{id}) and the register call that finds the
schema already there, measured side by side in one run on our own instance.

Target: bench/targets.py (registry).
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from confluent_kafka.admin import AdminClient

from bench.httpload import build_request, compare, table
from bench.targets import Section, check
from cta_core.ports import LOCALHOST
from cta_core.schemas import schema_text
from cta_core.settings import Settings
from cta_stack.service_process import registry_process

RUNS = 3
SECONDS = 2.0
CLIENTS = 32
CT = "application/vnd.schemaregistry.v1+json"


def _constant(request: bytes) -> Callable[[int], bytes]:
    return lambda _i: request


def run() -> Section:
    settings = Settings.from_env()
    topic = f"_schemas_bench_{uuid.uuid4().hex[:8]}"
    logdir = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    proc = registry_process(settings.bootstrap_servers, topic, logdir / "registry.log").start()
    try:
        subject = "bench-weather-value"
        body = json.dumps({"schema": schema_text("weather_value")}).encode()
        registered = httpx.post(
            f"{proc.url}/subjects/{subject}/versions", content=body, headers={"Content-Type": CT}
        )
        schema_id = registered.json()["id"]
        port = proc.port
        schema = schema_text("weather_value")

        def uncached_lookup(i: int) -> bytes:
            # a body never seen before (an extra ignored field) misses the answer cache
            fresh = json.dumps({"schema": schema, "n": i}).encode()
            return build_request("POST", LOCALHOST, port, f"/subjects/{subject}", fresh, CT)

        fixed = {
            "lookup POST /subjects/{s}": build_request(
                "POST", LOCALHOST, port, f"/subjects/{subject}", body, CT
            ),
            "register again POST /subjects/{s}/versions": build_request(
                "POST", LOCALHOST, port, f"/subjects/{subject}/versions", body, CT
            ),
            "GET /schemas/ids/{id}": build_request(
                "GET", LOCALHOST, port, f"/schemas/ids/{schema_id}", b"", CT
            ),
        }
        makers: dict[str, Callable[[int], bytes]] = {
            name: _constant(request) for name, request in fixed.items()
        }
        makers["lookup, answer not cached"] = uncached_lookup
        results = compare(LOCALHOST, port, makers, clients=CLIENTS, seconds=SECONDS, runs=RUNS)
    finally:
        proc.stop()
        AdminClient({"bootstrap.servers": settings.bootstrap_servers}).delete_topics([topic])
    lookup = results["lookup POST /subjects/{s}"][0].rate
    by_id = results["GET /schemas/ids/{id}"][0].rate
    uncached = results["lookup, answer not cached"][0].rate
    target = check("registry", "lookup_rps", lookup)
    text = "\n".join(
        [
            "## Schema Registry (cta_servers.schema_registry)",
            "",
            f"Our own registry process on a spare port, {CLIENTS} keep-alive clients on loopback, "
            f"{SECONDS:.0f} s per run, median of {RUNS} runs (client and server share the machine).",
            "",
            *table(results, "request"),
            "",
            f"Lookup of a registered schema: **{lookup:,.0f}/s**, {target.verdict} its target ({target.describe()}); "
            f"lookup/by-id ratio {lookup / by_id:.2f}. A repeated lookup is answered from a cache of "
            "answers that every store record invalidates; a lookup whose body was never seen "
            f"(parsed schema still cached by text) runs at {uncached:,.0f}/s "
            f"({uncached / lookup:.2f} of the cached rate).",
        ]
    )
    return Section(text, [target])


if __name__ == "__main__":
    print(run().markdown)
