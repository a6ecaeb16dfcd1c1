"""A small keep-alive HTTP/1.1 load generator on asyncio streams, for the service benchmarks.

Deliberately thinner than an HTTP client library, so that on a 2-core machine
most of the CPU goes to the server being measured.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import uvloop


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99_ms(self) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def build_request(method: str, host: str, port: int, path: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n"
        f"Accept: */*\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _client(
    host: str,
    port: int,
    make_request: Callable[[int], bytes],
    deadline: float,
    result: LoadResult,
    seq: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            seq[0] += 1
            request = make_request(seq[0])
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            if status == 200:
                result.requests += 1
            else:
                result.errors += 1
    finally:
        writer.close()


async def run_load(
    host: str, port: int, make_request: Callable[[int], bytes], *, clients: int, seconds: float
) -> LoadResult:
    """``clients`` connections each sending requests back to back for ``seconds``."""
    result = LoadResult(0, 0, 0.0)
    seq = [0]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_client(host, port, make_request, deadline, result, seq) for _ in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


def median_of(runs: list[LoadResult]) -> LoadResult:
    """The run with the median rate."""
    return sorted(runs, key=lambda r: r.rate)[len(runs) // 2]


def compare(
    host: str,
    port: int,
    cases: Mapping[str, Callable[..., bytes]],
    *,
    clients: int,
    seconds: float,
    runs: int = 3,
    warmup: float = 1.0,
) -> dict[str, tuple[LoadResult, int]]:
    """Run every case ``runs`` times, interleaved (A B C A B C ...) so that drift on a
    shared machine hits all cases alike; return each case's median run and its errors."""
    for make in cases.values():
        uvloop.run(run_load(host, port, make, clients=clients, seconds=warmup / len(cases)))
    collected: dict[str, list[LoadResult]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, make in cases.items():
            collected[name].append(uvloop.run(run_load(host, port, make, clients=clients, seconds=seconds)))
    return {name: (median_of(found), sum(r.errors for r in found)) for name, found in collected.items()}


def table(results: dict[str, tuple[LoadResult, int]], first_column: str) -> list[str]:
    rows = [f"| {first_column} | requests/s | p50 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|"]
    for name, (best, errors) in results.items():
        rows.append(f"| {name} | {best.rate:,.0f} | {best.p50_ms:.2f} | {best.p99_ms:.2f} | {errors} |")
    return rows
