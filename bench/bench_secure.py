"""Secured vs plaintext, side by side in one run: two scratch stacks (Kafka and the
Schema Registry), one made with ``cta-stack up --secure`` (SASL_SSL with SCRAM-SHA-512,
ACLs, the registry over HTTPS with basic auth), one plaintext.

1. the simulator: ``cta-sim --speed max --count N --no-control --no-weather`` into each
   stack, the secured one as the ``sim`` principal (its client config);
2. the Faust turnstile summary (one ``cta-jobs faust`` worker, bench/bench_jobs.py's
   harness) on each, the secured one as the ``faust`` principal, on names its ACLs
   cover (suffixed copies of the turnstile and summary topics, an app id under
   ``cta-stations``).

Runs alternate (plaintext, secured, secured, plaintext, ...); the ratios are medians of
the per-round ratios. BENCH_REPEATS rounds (3); BENCH_SECURE_SIM_EVENTS (600,000) and
BENCH_SECURE_FAUST_EVENTS (200,000) events per run. Targets: bench/targets.py (secure).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from bench.bench_jobs import _faust_run
from bench.targets import Section, check, cores
from cta_core import topics
from cta_core.settings import Settings
from cta_stack.scratch import ScratchStack
from cta_stack.secure_files import SecureFiles
from cta_stack.stack import Stack, as_principal

REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
SIM_EVENTS = int(os.environ.get("BENCH_SECURE_SIM_EVENTS", "600000"))
FAUST_EVENTS = int(os.environ.get("BENCH_SECURE_FAUST_EVENTS", "200000"))


@dataclass
class Side:
    """One stack of the comparison and how its clients reach it."""

    name: str
    stack: ScratchStack
    #: the stack's own view (``admin`` on the secured one): the harness's producer and reader
    harness: Settings
    secure: SecureFiles | None

    def env(self, principal: str) -> dict[str, str]:
        """The environment a component runs with: on the secured stack its principal's
        client config (``CTA_CLIENT_CONFIG``); where the clients of this tree do not read
        that file yet, the same settings as ``CTA_*`` variables."""
        env = dict(self.stack.env)
        if self.secure is None:
            return env
        env["CTA_CLIENT_CONFIG"] = str(self.secure.client_config(principal))
        if importlib.util.find_spec("cta_core.client_config") is None:
            mine = as_principal(self.harness, self.secure, principal)
            env.update(
                CTA_SECURITY_PROTOCOL="SASL_SSL",
                CTA_SASL_MECHANISM=str(mine.sasl_mechanism),
                CTA_SASL_USERNAME=principal,
                CTA_SASL_PASSWORD=str(mine.sasl_password),
                CTA_SSL_CA_LOCATION=str(mine.ssl_ca_location),
                CTA_SCHEMA_REGISTRY_URL=mine.schema_registry_url,
                CTA_SCHEMA_REGISTRY_AUTH=str(mine.registry_auth),
                # what the worker's start-up check of the registry trusts (httpx, no CA setting)
                SSL_CERT_FILE=str(mine.ssl_ca_location),
            )
        return env


@contextlib.contextmanager
def _sides() -> Iterator[list[Side]]:
    with (
        ScratchStack.running(only=("schema-registry",)) as plain,
        ScratchStack.running(only=("schema-registry",), secure=True) as secured,
    ):
        sides = []
        for name, stack in (("plaintext", plain), ("secured", secured)):
            local = Stack(stack.settings)
            harness = local.settings.with_overrides(kafka_config={"log_level": "0"})
            sides.append(Side(name, stack, harness, local.secure))
        yield sides


def _sim_once(side: Side, suffix: str) -> float:
    """events/s of one ``cta-sim --speed max`` run into ``side``'s stack."""
    cmd = [
        sys.executable, "-m", "producers_sim", "--speed", "max", "--count", str(SIM_EVENTS),
        "--start", "07:00", "--seed", "1", "--topic-suffix", suffix, "--no-control", "--no-weather",
    ]  # fmt: skip
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=err, env=side.env("sim"), timeout=600)
        err.seek(0)
        text = err.read()
    m = re.search(r"(\d+) events in ([\d.]+)s", text)
    if proc.returncode != 0 or not m:
        raise RuntimeError(f"cta-sim on the {side.name} stack failed ({proc.returncode}): {text[-2000:]}")
    return int(m.group(1)) / float(m.group(2))


def _faust_once(side: Side) -> float:
    tag = f".bench{uuid.uuid4().hex[:8]}"
    names = (topics.TURNSTILES + tag, topics.TURNSTILE_SUMMARY + tag, f"cta-stations-bench{tag[6:]}")
    rate, _rereads = _faust_run(side.harness, side.env("faust"), FAUST_EVENTS, names)
    return rate


def _median_ratio(secured: list[float], plain: list[float]) -> float:
    return statistics.median(s / p for s, p in zip(secured, plain, strict=True))


def _rows(label: str, plain: list[float], secured: list[float]) -> list[str]:
    runs = lambda xs: ", ".join(f"{x:,.0f}" for x in xs)  # noqa: E731
    ratios = ", ".join(f"{s / p:.2f}" for s, p in zip(secured, plain, strict=True))
    return [
        f"| {label} | {statistics.median(plain):,.0f} | {statistics.median(secured):,.0f} "
        f"| {_median_ratio(secured, plain):.2f} | {runs(plain)} / {runs(secured)} | {ratios} |"
    ]


def run() -> Section:
    rates: dict[tuple[str, str], list[float]] = {}
    load_before = os.getloadavg()[0]
    with _sides() as sides:
        suffixes = {s.name: f".bench{uuid.uuid4().hex[:8]}" for s in sides}
        for r in range(REPEATS):
            order = sides if r % 2 == 0 else sides[::-1]
            for side in order:
                rates.setdefault(("sim", side.name), []).append(_sim_once(side, suffixes[side.name]))
            for side in order:
                rates.setdefault(("faust", side.name), []).append(_faust_once(side))
    load_after = os.getloadavg()[0]
    how = (
        "client configs"
        if importlib.util.find_spec("cta_core.client_config")
        else "settings (as `CTA_*` variables: the clients of this build do not read client config files)"
    )
    sim = (rates[("sim", "plaintext")], rates[("sim", "secured")])
    faust = (rates[("faust", "plaintext")], rates[("faust", "secured")])
    checks = [
        check("secure", "sim_ratio", round(_median_ratio(sim[1], sim[0]), 2)),
        check("secure", "faust_ratio", round(_median_ratio(faust[1], faust[0]), 2)),
    ]
    text = [
        "## Secured vs plaintext (`cta-stack up --secure`)",
        "",
        f"Two scratch stacks side by side (Kafka and the Schema Registry each), one secured: SASL_SSL with "
        f"SCRAM-SHA-512, the standard authorizer with the pipeline's ACLs, the registry over HTTPS with basic "
        f"auth; the secured runs use the `sim` and `faust` principals' {how}. cta-sim: `--speed max "
        f"--count {SIM_EVENTS:,} --no-control --no-weather`; Faust: {FAUST_EVENTS:,} pre-made turnstile events, "
        f'one worker, timed from "Worker ready" to the summary accounting for all (the jobs section\'s '
        f"harness). {REPEATS} rounds, the order alternating; ratios are medians of the per-round ratios; "
        f"1-min load average {load_before:.2f} before, {load_after:.2f} after ({cores()} cores, shared machine).",
        "",
        "| path | plaintext events/s (median) | secured events/s (median) | secured / plaintext | runs (plaintext / secured) | per-round ratios |",
        "|---|---:|---:|---:|---|---|",
        *_rows("cta-sim --speed max", *sim),
        *_rows("cta-jobs faust (one worker)", *faust),
    ]
    return Section("\n".join(text) + "\n", checks)


if __name__ == "__main__":
    print(run().markdown)
