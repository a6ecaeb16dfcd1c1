"""REST Proxy: produce requests of one small Avro record each (the weather station's
call), with concurrent clients, side by side with the same record as JSON and
with the schema sent inline instead of by id. Each reply waits for the broker's
acknowledgement (acks=all).

Target: bench/targets.py (rest_proxy).
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

import httpx
from confluent_kafka.admin import AdminClient, NewTopic

from bench.httpload import build_request, compare, table
from bench.targets import Section, check
from cta_core.ports import LOCALHOST
from cta_core.schemas import schema_text
from cta_core.settings import Settings
from cta_stack.service_process import registry_process, rest_proxy_process

RUNS = 3
SECONDS = 3.0
CLIENTS = 64
AVRO = "application/vnd.kafka.avro.v2+json"
JSON = "application/vnd.kafka.json.v2+json"


def run() -> Section:
    settings = Settings.from_env()
    suffix = uuid.uuid4().hex[:8]
    store_topic, topic = f"_schemas_bench_{suffix}", f"bench-weather-{suffix}"
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result()
    logdir = Path(tempfile.mkdtemp(prefix="bench-rest-proxy-"))
    registry = registry_process(settings.bootstrap_servers, store_topic, logdir / "registry.log").start()
    proxy = rest_proxy_process(settings.bootstrap_servers, registry.url, logdir / "proxy.log").start()
    try:
        value_schema = schema_text("weather_value")
        first = httpx.post(
            f"{proxy.url}/topics/{topic}",
            json={
                "value_schema": value_schema,
                "records": [{"value": {"temperature": 70.0, "status": "sunny"}}],
            },
            headers={"Content-Type": AVRO},
        )
        first.raise_for_status()
        schema_id = first.json()["value_schema_id"]
        port, path = proxy.port, f"/topics/{topic}"

        def avro_by_id(i: int) -> bytes:
            body = {
                "value_schema_id": schema_id,
                "records": [{"value": {"temperature": float(i % 100), "status": "sunny"}}],
            }
            return build_request("POST", LOCALHOST, port, path, json.dumps(body).encode(), AVRO)

        def avro_inline(i: int) -> bytes:
            body = {
                "value_schema": value_schema,
                "records": [{"value": {"temperature": float(i % 100), "status": "sunny"}}],
            }
            return build_request("POST", LOCALHOST, port, path, json.dumps(body).encode(), AVRO)

        def json_record(i: int) -> bytes:
            body = {"records": [{"value": {"temperature": float(i % 100), "status": "sunny"}}]}
            return build_request("POST", LOCALHOST, port, path, json.dumps(body).encode(), JSON)

        cases = {
            "Avro, value_schema_id": avro_by_id,
            "Avro, value_schema inline": avro_inline,
            "JSON": json_record,
        }
        results = compare(LOCALHOST, port, cases, clients=CLIENTS, seconds=SECONDS, runs=RUNS)
    finally:
        proxy.stop()
        registry.stop()
        admin.delete_topics([topic, store_topic])
    avro = results["Avro, value_schema_id"][0].rate
    target = check("rest_proxy", "avro_rps", avro)
    text = "\n".join(
        [
            "## REST Proxy (cta_servers.rest_proxy)",
            "",
            f"Our own proxy and registry processes on spare ports against the shared Kafka, {CLIENTS} "
            f"keep-alive clients on loopback, one record per request, {SECONDS:.0f} s per run, median of "
            f"{RUNS} runs; each reply is sent after the broker acknowledged the record (acks=all).",
            "",
            *table(results, "produce request"),
            "",
            f"One small Avro record per request: **{avro:,.0f}/s**, {target.verdict} its target ({target.describe()}); "
            f"Avro/JSON ratio {avro / results['JSON'][0].rate:.2f}.",
        ]
    )
    return Section(text, [target])


if __name__ == "__main__":
    print(run().markdown)
