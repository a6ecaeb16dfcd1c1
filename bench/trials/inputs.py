"""Bad input: malformed records on every topic the dashboard reads (it must count them
and read on), and malformed HTTP requests to the Schema Registry and the REST Proxy (a
4xx answer in Confluent's error format each, and the service still answering)."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from bench.trials.harness import BIN, sim_args
from cta_core import topics
from cta_stack.scratch import ScratchStack

#: Bad payloads written to every topic the dashboard reads (a framed Avro record with an
#: unknown schema id, a truncated frame, broken JSON, random bytes, an empty value).
GARBAGE = (b"\x00\x00\x0f\x42\x40\x02\x04ab", b"\x00\x00", b'{"station_id": ', b"\xff\xfe\x00garbage", b"")
DASHBOARD_TOPICS = (
    topics.ARRIVALS,
    topics.TURNSTILES,
    topics.WEATHER,
    topics.STATIONS_TABLE,
    topics.TURNSTILE_SUMMARY,
    topics.SIM_STATUS,
)


def malformed_records(trial: ScratchStack) -> dict[str, Any]:
    """Good events from a short simulator run, then :data:`GARBAGE` on every topic the
    dashboard reads; ``cta-tui --once --json`` must read the rest and count the bad ones."""
    from cta_core.kafka_clients import make_producer

    settings = trial.settings
    subprocess.run(
        sim_args(20000, seed=None),
        env=trial.env,
        check=True,
        capture_output=True,
    )
    producer = make_producer(settings)
    for topic in DASHBOARD_TOPICS:
        for value in GARBAGE:
            producer.produce(topic, key=b"1", value=value)
    producer.flush(30)
    once = subprocess.run(
        [str(BIN / "cta-tui"), "--once", "--json", "--replay-minutes", "60"],
        env={**trial.env, "CTA_LOG_FILE": os.devnull},
        capture_output=True,
        text=True,
        timeout=120,
    )
    out: dict[str, Any] = {"exit": once.returncode, "stderr": once.stderr[-500:]}
    if once.returncode == 0:
        snap = json.loads(once.stdout)
        out["topics"] = {name: snap["topics"].get(name) for name in DASHBOARD_TOPICS}
        out["stations_counted"] = len(snap.get("turnstile_counts") or {})
    return out


#: (service, method, path, content type, body, what it tries)
BAD_HTTP: tuple[tuple[str, str, str, str, bytes, str], ...] = (
    ("registry", "POST", "/subjects/x-value/versions", "application/json", b"{not json", "body not JSON"),
    (
        "registry",
        "POST",
        "/subjects/x-value/versions",
        "application/json",
        b'{"schema": "{\\"type\\": 1}"}',
        "invalid Avro schema",
    ),
    (
        "registry",
        "POST",
        "/subjects/x-value/versions",
        "application/json",
        b'{"nothing": 1}',
        "no schema field",
    ),
    ("registry", "GET", "/schemas/ids/987654", "", b"", "unknown schema id"),
    ("registry", "GET", "/subjects/no-such-subject/versions", "", b"", "unknown subject"),
    ("registry", "GET", "/subjects/x-value/versions/abc", "", b"", "version not a number"),
    (
        "registry",
        "POST",
        "/subjects/x-value/versions",
        "application/json",
        b"[" * 100_000,
        "deeply nested JSON",
    ),
    (
        "registry",
        "POST",
        "/subjects/x-value/versions",
        "application/json",
        b'{"schema": "' + b"a" * 5_000_000 + b'"}',
        "5 MB body",
    ),
    ("registry", "DELETE", "/", "", b"", "method not allowed"),
    (
        "rest-proxy",
        "POST",
        "/topics/org.chicago.cta.weather.v1",
        "application/vnd.kafka.avro.v2+json",
        b"{not json",
        "body not JSON",
    ),
    (
        "rest-proxy",
        "POST",
        "/topics/org.chicago.cta.weather.v1",
        "application/vnd.kafka.avro.v2+json",
        b'{"records": [{"value": {"x": 1}}]}',
        "no schema",
    ),
    (
        "rest-proxy",
        "POST",
        "/topics/org.chicago.cta.weather.v1",
        "application/vnd.kafka.avro.v2+json",
        b'{"value_schema": "{\\"type\\": \\"int\\"}", "records": [{"value": "text"}]}',
        "record not matching its schema",
    ),
    (
        "rest-proxy",
        "POST",
        "/topics/org.chicago.cta.weather.v1",
        "text/plain",
        b"hello",
        "unsupported content type",
    ),
    (
        "rest-proxy",
        "POST",
        "/topics/org.chicago.cta.weather.v1",
        "application/vnd.kafka.json.v2+json",
        b'{"records": "no"}',
        "records not a list",
    ),
    ("rest-proxy", "GET", "/topics/no.such.topic", "", b"", "unknown topic"),
    (
        "rest-proxy",
        "POST",
        "/topics/bad%20name",
        "application/vnd.kafka.json.v2+json",
        b'{"records": [{"value": 1}]}',
        "invalid topic name",
    ),
    (
        "rest-proxy",
        "POST",
        "/topics/org.chicago.cta.weather.v1",
        "application/vnd.kafka.json.v2+json",
        b"[" * 100_000,
        "deeply nested JSON",
    ),
)


def bad_http(trial: ScratchStack) -> list[dict[str, Any]]:
    """Each request of :data:`BAD_HTTP`: its status, Confluent error code, and whether the
    service still answers afterwards."""
    import httpx

    settings = trial.settings
    base = {"registry": settings.schema_registry_url, "rest-proxy": settings.rest_proxy_url}
    health = {"registry": "/subjects", "rest-proxy": "/topics"}
    rows = []
    with httpx.Client(timeout=30) as client:
        for service, method, path, ctype, body, what in BAD_HTTP:
            headers = {"Content-Type": ctype} if ctype else {}
            try:
                resp = client.request(method, base[service] + path, content=body or None, headers=headers)
                status, text = resp.status_code, resp.text
            except httpx.HTTPError as exc:
                status, text = 0, f"{type(exc).__name__}: {exc}"
            try:
                payload = json.loads(text)
                code = payload.get("error_code") if isinstance(payload, dict) else None
                confluent = isinstance(payload, dict) and {"error_code", "message"} <= set(payload)
            except ValueError:
                code, confluent = None, False
            alive = client.get(base[service] + health[service]).status_code == 200
            rows.append(
                {
                    "service": service,
                    "what": what,
                    "status": status,
                    "error_code": code,
                    "confluent_format": confluent,
                    "alive_after": alive,
                }
            )
    return rows
