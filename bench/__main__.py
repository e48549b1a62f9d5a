"""``python -m bench``: benchmarks of the distributed mode on the real RabbitMQ.

An isolated topology (``Topology.isolated``: fresh databases, exchange, queues, ports and
rate-limit keys, all removed afterwards) runs auth, jobs, search, notifications and the
gateway as separate processes on the local PostgreSQL, RabbitMQ and Redis (``POSTGRES_ADMIN_URL``
or ``TEST_DATABASE_URL``, ``AMQP_URL``, ``REDIS_URL`` override the local defaults). Then:

1. **publish → searchable**: the time from ``POST /api/v1/jobs/{id}/publish`` returning
   to the job being found by ``GET /api/v1/search/jobs?q=<a word only its title has>``
   through the gateway (polled every 10 ms): outbox relay, RabbitMQ, the search
   consumer and its index. Sequentially (one job at a time), then with 8 publishers.
2. **gateway overhead**: the same authenticated ``GET /api/v1/jobs/{id}`` straight to the
   jobs service and through the gateway (which verifies the token, checks the denylist
   and the rate limits in Redis, and proxies), 16 concurrent clients for 10 s each.

Each figure is printed beside ``bench/baseline.json``; one worse by more than 25 % is
flagged (the exit code stays 0: a shared 2-core machine is noisy). ``--record`` writes
the figures of this run as the new baseline.

The load generator runs on the same machine as the platform, so on few cores the
absolute numbers are a floor, not a capacity estimate; the comparison is what matters.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import secrets
import shutil
import string
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from aujobs_embedded.distributed import Topology
from aujobs_notifications.devmail import DevMailbox, DevMailSink

BASELINE = Path(__file__).with_name("baseline.json")
REGRESSION = 0.25
POLL_INTERVAL = 0.010


# -- figures ---------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Figure:
    key: str
    label: str
    value: float
    unit: str
    higher_is_better: bool = False
    # a difference of two noisy figures: shown against the baseline, never flagged
    flagged: bool = True

    def compare(self, baseline: dict[str, float]) -> tuple[str, str]:
        base = baseline.get(self.key)
        if base is None or math.isnan(self.value):
            return "—", ""
        if base <= 0 or not self.flagged:  # a difference of two figures: in units, not %
            return f"{base:,.1f}", f"{self.value - base:+,.1f} {self.unit}"
        change = (self.value - base) / base
        worse = -change if self.higher_is_better else change
        flag = "REGRESSION" if worse > REGRESSION else ""
        return f"{base:,.1f}", f"{change:+.0%} {flag}".rstrip()


def word() -> str:
    return "bq" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(12))


def job_body(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": "A benchmark posting: build and run the services behind a job board.",
        "location": {"suburb": "Parramatta", "state": "NSW", "postcode": "2150"},
        "salary": {"minimum_cents": 12_000_000, "maximum_cents": 15_000_000, "period": "annual"},
        "work_type": "full_time",
        "classification": "Information & Communication Technology",
        "company_name": "Bench Pty Ltd",
    }


def check(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} → {response.status_code}: "
            f"{response.text[:300]}"
        )
    return response.json()


# -- scenario 1: publish → searchable ----------------------------------------------------


VERIFY_LINK = re.compile(r"/verify-email/([A-Za-z0-9_\-]+)")


class Client:
    def __init__(self, http: httpx.AsyncClient, mailbox: DevMailbox) -> None:
        self.http = http
        self.mailbox = mailbox
        self.headers: dict[str, str] = {}

    async def follow_verification_email(self, email: str, timeout: float = 20.0) -> None:
        """Publishing needs a verified email: read the mail and follow its link."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.mailbox.messages():
                found = VERIFY_LINK.search(message.text)
                if message.to.endswith(email) and found:
                    check(await self.http.post(f"/api/v1/auth/verify-email/{found.group(1)}"), 200)
                    return
            await asyncio.sleep(0.05)
        raise RuntimeError("no verification email arrived")

    async def sign_up_employer(self) -> None:
        email = f"bench.{uuid.uuid4().hex[:12]}@bench.australiajobs.example"
        password = "bench-password-" + secrets.token_hex(6)
        check(
            await self.http.post(
                "/api/v1/auth/register",
                json={"email": email, "password": password, "role": "employer"},
            ),
            201,
        )
        await self.follow_verification_email(email)
        tokens = check(
            await self.http.post("/api/v1/auth/login", json={"email": email, "password": password}),
            200,
        )
        self.headers = {"Authorization": f"Bearer {tokens['access_token']}"}

    async def drafts(self, count: int, concurrency: int = 8) -> list[tuple[str, str]]:
        """``count`` draft jobs, each with a title word of its own: [(job id, word)]."""
        out: list[tuple[str, str]] = []
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            token = word()
            async with gate:
                r = await self.http.post(
                    "/api/v1/jobs", json=job_body(f"Bench Engineer {token}"), headers=self.headers
                )
            out.append((check(r, 201)["id"], token))

        await asyncio.gather(*(one() for _ in range(count)))
        return out

    async def publish_and_wait(self, job_id: str, token: str, timeout: float = 30.0) -> float:
        check(await self.http.post(f"/api/v1/jobs/{job_id}/publish", headers=self.headers), 200)
        published = time.perf_counter()
        deadline = published + timeout
        while True:
            r = await self.http.get("/api/v1/search/jobs", params={"q": token, "limit": 1})
            if check(r, 200)["total"] >= 1:
                return time.perf_counter() - published
            if time.perf_counter() > deadline:
                raise RuntimeError(f"job {job_id} not searchable within {timeout}s")
            await asyncio.sleep(POLL_INTERVAL)


async def publish_to_searchable(client: Client, count: int, concurrency: int) -> tuple[list[float], float]:
    """Latencies (s) of ``count`` jobs published by ``concurrency`` publishers, and the
    wall time of the run."""
    jobs = await client.drafts(count)
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    latencies: list[float] = []

    async def publisher() -> None:
        while not queue.empty():
            job_id, token = queue.get_nowait()
            latencies.append(await client.publish_and_wait(job_id, token))

    started = time.perf_counter()
    await asyncio.gather(*(publisher() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


# -- scenario 2: gateway overhead ------------------------------------------------------


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000


async def load(
    targets: dict[str, str],
    path: str,
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    slices: int = 5,
) -> dict[str, LoadResult]:
    """``concurrency`` clients sending ``GET path`` to each target (name -> base URL) for
    ``seconds`` in all, in ``slices`` turns that alternate between the targets, so that
    whatever else the machine is doing weighs on each of them alike."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    results = {name: LoadResult(0, 0, 0.0, []) for name in targets}
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(httpx.AsyncClient(base_url=url, limits=limits, timeout=10))
            for name, url in targets.items()
        }

        async def worker(http: httpx.AsyncClient, until: float, result: LoadResult | None) -> None:
            while time.perf_counter() < until:
                t0 = time.perf_counter()
                r = await http.get(path, headers=headers)
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

        for name in targets:  # warm-up: connections, caches
            await run(name, 1.0, measure=False)
        for _ in range(slices):
            for name in targets:
                await run(name, seconds / slices, measure=True)
    for name, result in results.items():
        if result.errors:
            print(f"  ! {result.errors} non-200 answers from {name} ({targets[name]}{path})")
    return results


# -- the topology ----------------------------------------------------------------------


def print_logs(log_dir: Path) -> None:
    for log in sorted(log_dir.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-30:]
        print(f"----- {log.name} -----", *tail, sep="\n", file=sys.stderr)


# -- report ----------------------------------------------------------------------------


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True))
    )
    print(line)
    print("-" * len(line))
    for row in rows:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def figure_rows(figures: list[Figure], baseline: dict[str, float]) -> list[list[str]]:
    rows = []
    for f in figures:
        base, change = f.compare(baseline)
        rows.append(
            [f.label, f"{f.value:,.1f} {f.unit}", f"{base} {f.unit}" if base != "—" else base, change]
        )
    return rows


async def run(args: argparse.Namespace) -> int:
    postgres = (
        os.environ.get("POSTGRES_ADMIN_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or Topology.postgres_admin_url
    )
    amqp = os.environ.get("AMQP_URL") or Topology.amqp_url
    redis_url = os.environ.get("REDIS_URL") or Topology.redis_url
    tag = "bench" + uuid.uuid4().hex[:8]
    prefix = f"aujobs:{tag}:ratelimit"
    log_dir = Path(tempfile.mkdtemp(prefix="aujobs-bench-"))
    sink = DevMailSink()  # a real SMTP server for the platform's email
    await sink.start()
    topology = Topology.isolated(
        tag,
        smtp_url=sink.url,
        postgres_admin_url=postgres,
        amqp_url=amqp,
        redis_url=redis_url,
        log_dir=log_dir,
        extra_env={
            # rate limits stay on (their Redis round trips are part of the overhead)
            # but far above what the benchmark sends
            "RATE_LIMIT_KEY_PREFIX": prefix,
            "RATE_LIMIT_PER_MINUTE": "1000000000",
            "RATE_LIMIT_USER_PER_MINUTE": "1000000000",
            "AUTH_RATE_LIMIT_PER_MINUTE": "1000000",
        },
    )
    baseline_doc = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    baseline: dict[str, float] = baseline_doc.get("figures", {})
    cores = os.cpu_count() or 0
    print(
        f"Australia Jobs benchmark — distributed mode on real RabbitMQ, {cores} cores, "
        f"Python {platform.python_version()}"
    )
    if baseline_doc:
        print(f"baseline: {baseline_doc.get('date')} ({baseline_doc.get('machine')})")
    started = time.perf_counter()
    failed = False
    try:
        await topology.start(timeout=90)
        print(f"topology up in {time.perf_counter() - started:.1f}s: gateway {topology.gateway_url}")
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        async with httpx.AsyncClient(base_url=topology.gateway_url, limits=limits, timeout=30) as http:
            client = Client(http, sink.mailbox)
            await client.sign_up_employer()

            # warm-up: JWKS caches, connection pools, the consumer
            await publish_to_searchable(client, 5, 1)
            seq, seq_wall = await publish_to_searchable(client, args.jobs, 1)
            conc, conc_wall = await publish_to_searchable(client, args.concurrent_jobs, 8)

            target_id = (await client.drafts(1))[0][0]
            check(await http.post(f"/api/v1/jobs/{target_id}/publish", headers=client.headers), 200)

        results = await load(
            {"direct": topology.service_url("jobs"), "gateway": topology.gateway_url},
            f"/api/v1/jobs/{target_id}",
            client.headers,
            args.concurrency,
            args.seconds,
        )
        direct, gateway = results["direct"], results["gateway"]
    except BaseException:
        failed = True
        raise
    finally:
        await asyncio.to_thread(topology.stop)
        await topology.remove_resources()
        await sink.stop()
        if failed:
            print_logs(log_dir)
        shutil.rmtree(log_dir, ignore_errors=True)

    figures = {
        "searchable": [
            Figure(
                "publish_to_searchable.sequential.p50_ms", "sequential p50", percentile(seq, 50) * 1000, "ms"
            ),
            Figure(
                "publish_to_searchable.sequential.p95_ms", "sequential p95", percentile(seq, 95) * 1000, "ms"
            ),
            Figure(
                "publish_to_searchable.sequential.p99_ms", "sequential p99", percentile(seq, 99) * 1000, "ms"
            ),
            Figure(
                "publish_to_searchable.concurrent8.p50_ms",
                "8 publishers p50",
                percentile(conc, 50) * 1000,
                "ms",
            ),
            Figure(
                "publish_to_searchable.concurrent8.p95_ms",
                "8 publishers p95",
                percentile(conc, 95) * 1000,
                "ms",
            ),
            Figure(
                "publish_to_searchable.concurrent8.p99_ms",
                "8 publishers p99",
                percentile(conc, 99) * 1000,
                "ms",
            ),
            Figure(
                "publish_to_searchable.concurrent8.jobs_per_s",
                "8 publishers throughput",
                len(conc) / conc_wall,
                "jobs/s",
                higher_is_better=True,
            ),
        ],
        "overhead": [
            Figure("get_job.direct.rps", "direct req/s", direct.rps, "req/s", higher_is_better=True),
            Figure("get_job.gateway.rps", "gateway req/s", gateway.rps, "req/s", higher_is_better=True),
            Figure("get_job.direct.p50_ms", "direct p50", direct.ms(50), "ms"),
            Figure("get_job.gateway.p50_ms", "gateway p50", gateway.ms(50), "ms"),
            Figure("get_job.direct.p99_ms", "direct p99", direct.ms(99), "ms"),
            Figure("get_job.gateway.p99_ms", "gateway p99", gateway.ms(99), "ms"),
            Figure(
                "get_job.added.p50_ms",
                "added by gateway p50",
                gateway.ms(50) - direct.ms(50),
                "ms",
                flagged=False,
            ),
            Figure(
                "get_job.added.p99_ms",
                "added by gateway p99",
                gateway.ms(99) - direct.ms(99),
                "ms",
                flagged=False,
            ),
        ],
    }

    print_table(
        f"1. publish → searchable through the gateway (poll {POLL_INTERVAL * 1000:.0f} ms): "
        f"{len(seq)} jobs one at a time in {seq_wall:.1f}s, {len(conc)} jobs by 8 publishers "
        f"in {conc_wall:.1f}s",
        ["figure", "now", "baseline", "change"],
        figure_rows(figures["searchable"], baseline),
    )
    print_table(
        f"2. gateway overhead: GET {'/api/v1/jobs/{id}'} with a bearer token, "
        f"{args.concurrency} concurrent clients, {args.seconds:.0f}s each in alternating slices",
        ["", "req/s", "p50 ms", "p99 ms", "errors"],
        [
            [
                "direct to jobs",
                f"{direct.rps:,.0f}",
                f"{direct.ms(50):.2f}",
                f"{direct.ms(99):.2f}",
                str(direct.errors),
            ],
            [
                "through gateway",
                f"{gateway.rps:,.0f}",
                f"{gateway.ms(50):.2f}",
                f"{gateway.ms(99):.2f}",
                str(gateway.errors),
            ],
            [
                "added by gateway",
                f"{gateway.rps / direct.rps - 1:+.0%}",
                f"{gateway.ms(50) - direct.ms(50):+.2f}",
                f"{gateway.ms(99) - direct.ms(99):+.2f}",
                "",
            ],
        ],
    )
    print_table(
        "   … against the baseline",
        ["figure", "now", "baseline", "change"],
        figure_rows(figures["overhead"], baseline),
    )
    all_figures = [f for group in figures.values() for f in group]
    regressions = [f.label for f in all_figures if "REGRESSION" in f.compare(baseline)[1]]
    if regressions:
        print(
            f"\n{len(regressions)} figure(s) more than {REGRESSION:.0%} worse than the baseline: "
            + ", ".join(regressions)
        )
    elif baseline:
        print(f"\nno figure more than {REGRESSION:.0%} worse than the baseline")
    print(f"total {time.perf_counter() - started:.0f}s")

    if args.record or not BASELINE.exists():
        doc = {
            "date": datetime.now(UTC).date().isoformat(),
            "machine": f"2 cores ({cores} CPUs seen), Python {platform.python_version()}, "
            "load generator on the same machine; local PostgreSQL, RabbitMQ and Redis",
            "settings": {
                "sequential_jobs": args.jobs,
                "concurrent_jobs": args.concurrent_jobs,
                "publishers": 8,
                "poll_interval_ms": POLL_INTERVAL * 1000,
                "concurrency": args.concurrency,
                "seconds": args.seconds,
            },
            "figures": {f.key: round(f.value, 2) for f in all_figures},
        }
        BASELINE.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"baseline written to {BASELINE}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=300, help="jobs published one at a time")
    parser.add_argument("--concurrent-jobs", type=int, default=160, help="jobs published by 8 publishers")
    parser.add_argument("--concurrency", type=int, default=16, help="clients in the overhead test")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each overhead run")
    parser.add_argument("--record", action="store_true", help="write this run's figures as the baseline")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
