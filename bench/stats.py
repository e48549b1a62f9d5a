"""What every load test of the benchmark measures: requests, errors, wall time and
latencies, summarised as req/s and nearest-rank percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else math.nan

    def ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000


async def alternating_load(
    targets: dict[str, str],
    send: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    *,
    concurrency: int,
    seconds: float,
    slices: int,
    warm_up: float,
    timeout: float,
) -> dict[str, LoadResult]:
    """``concurrency`` clients per target (name -> base URL) calling ``send`` for
    ``seconds`` per target in all, in ``slices`` turns that alternate between the
    targets, so whatever else the machine is doing weighs on each of them alike; a
    ``warm_up`` turn per target first (connections, caches) is not measured."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    results = {name: LoadResult(0, 0, 0.0, []) for name in targets}
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout)
            )
            for name, url in targets.items()
        }

        async def worker(http: httpx.AsyncClient, until: float, result: LoadResult | None) -> None:
            while time.perf_counter() < until:
                t0 = time.perf_counter()
                r = await send(http)
                await r.aread()
                if result is None:
                    continue
                if r.status_code != 200:
                    result.errors += 1
                else:
                    result.latencies.append(time.perf_counter() - t0)
                    result.requests += 1

        async def run(name: str, duration: float, measure: bool) -> None:
            result = results[name] if measure else None
            started = time.perf_counter()
            until = started + duration
            await asyncio.gather(*(worker(clients[name], until, result) for _ in range(concurrency)))
            if result is not None:
                result.seconds += time.perf_counter() - started

        for name in targets:
            await run(name, warm_up, measure=False)
        for _ in range(slices):
            for name in targets:
                await run(name, seconds / slices, measure=True)
    return results
