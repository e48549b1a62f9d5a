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

3. **search at scale** (:mod:`bench.search`, skipped with ``--search-postings 0``):
   200,000 generated postings (:mod:`bench.postings`) loaded straight into the search
   index (setup, timed but not a figure); index throughput of ``job.published`` events
   sent onto RabbitMQ; and a mixed query set (keyword, keyword + radius, filters only,
   facets off, page 10, and a cached one) through the gateway and straight to the search
   service, 16 concurrent clients: req/s and p50/p95/p99 per kind and overall.

4. **resume parsing quality** (:mod:`bench.resumes`, no topology needed; ``--resumes-only``
   runs just this part): the parser against the ground truth of the four RenderCV
   layouts of one CV (name, email, education and experience entries, skills), and skill
   extraction precision/recall on the SkillSpan development sentences.

Each figure is printed beside ``bench/baseline.json``; one worse by more than 25 % is
flagged (the exit code stays 0: a shared 2-core machine is noisy). ``--record`` writes
the figures of this run as the new baseline (keeping those of skipped parts);
``--record-new`` only adds the figures the baseline lacks.

The load generator runs on the same machine as the platform, so on few cores the
absolute numbers are a floor, not a capacity estimate; the comparison is what matters.
"""

from __future__ import annotations

import argparse
import asyncio
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

from aujobs_auth.bootstrap import grant_admin
from aujobs_common.db import Database
from aujobs_embedded.distributed import Topology
from aujobs_notifications.devmail import DevMailbox, DevMailSink

from .search import SEARCH_PATH, SearchReport, overall, search_bench
from .stats import LoadResult, alternating_load, percentile

BASELINE = Path(__file__).with_name("baseline.json")
REGRESSION = 0.25
POLL_INTERVAL = 0.010


# -- figures ---------------------------------------------------------------------------


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


def job_body(title: str, company_id: str) -> dict[str, Any]:
    return {
        "company_id": company_id,
        "title": title,
        "description": "A benchmark posting: build and run the services behind a job board.",
        "location": {"suburb": "Parramatta", "state": "NSW", "postcode": "2150"},
        "salary": {"minimum_cents": 12_000_000, "maximum_cents": 15_000_000, "period": "annual"},
        "work_type": "full_time",
        "classification": "Information & Communication Technology",
    }


COMPANY = {
    "name": "Bench Pty Ltd",
    "industry": "Information & Communication Technology",
    "abn": "51 824 753 556",
    "locations": [{"suburb": "Parramatta", "state": "NSW", "postcode": "2150"}],
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
    def __init__(self, http: httpx.AsyncClient, mailbox: DevMailbox, auth_database_url: str) -> None:
        self.http = http
        self.mailbox = mailbox
        self.auth_database_url = auth_database_url
        self.headers: dict[str, str] = {}
        self.company_id = ""

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

    async def sign_up(self, role: str, *, admin: bool = False) -> dict[str, str]:
        """A verified account's bearer header; ``admin``: made admin first, as an
        operator does with ``aujobs-auth grant-admin`` (the same bootstrap function)."""
        email = f"bench.{uuid.uuid4().hex[:12]}@bench.australiajobs.example"
        password = "bench-password-" + secrets.token_hex(6)
        check(
            await self.http.post(
                "/api/v1/auth/register", json={"email": email, "password": password, "role": role}
            ),
            201,
        )
        await self.follow_verification_email(email)
        if admin:
            db = Database(self.auth_database_url, pool_size=1)
            try:
                await grant_admin(db, email)
            finally:
                await db.dispose()
        tokens = check(
            await self.http.post("/api/v1/auth/login", json={"email": email, "password": password}),
            200,
        )
        return {"Authorization": f"Bearer {tokens['access_token']}"}

    async def sign_up_employer(self) -> None:
        """An employer whose company an admin has verified: its jobs go live on publish."""
        self.headers = await self.sign_up("employer")
        admin = await self.sign_up("job_seeker", admin=True)
        company = check(await self.http.post("/api/v1/companies", json=COMPANY, headers=self.headers), 201)
        self.company_id = company["id"]
        url = f"/api/v1/companies/{self.company_id}"
        check(await self.http.post(f"{url}/verification-request", headers=self.headers), 200)
        verified = check(
            await self.http.post(f"{url}/verification", json={"approve": True}, headers=admin), 200
        )
        if not verified["verified"]:
            raise RuntimeError(f"the bench company was not verified: {verified}")

    async def drafts(self, count: int, concurrency: int = 8) -> list[tuple[str, str]]:
        """``count`` draft jobs, each with a title word of its own: [(job id, word)]."""
        out: list[tuple[str, str]] = []
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            token = word()
            async with gate:
                r = await self.http.post(
                    "/api/v1/jobs",
                    json=job_body(f"Bench Engineer {token}", self.company_id),
                    headers=self.headers,
                )
            out.append((check(r, 201)["id"], token))

        await asyncio.gather(*(one() for _ in range(count)))
        return out

    async def publish_and_wait(self, job_id: str, token: str, timeout: float = 30.0) -> float:
        job = check(await self.http.post(f"/api/v1/jobs/{job_id}/publish", headers=self.headers), 200)
        if job["status"] != "active":
            raise RuntimeError(f"job {job_id} is {job['status']} after publishing, not active")
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
    results = await alternating_load(
        targets,
        lambda http: http.get(path, headers=headers),
        concurrency=concurrency,
        seconds=seconds,
        slices=slices,
        warm_up=1.0,
        timeout=10,
    )
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
            "UPLOAD_RATE_LIMIT_PER_MINUTE": "1000000",
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
    if args.resumes_only:
        return finish(args, baseline_doc, baseline, {"resumes": resume_figures()}, started, cores)
    failed = False
    part1: tuple[list[float], float, list[float], float] | None = None
    part2: dict[str, LoadResult] | None = None
    part3: SearchReport | None = None
    try:
        await topology.start(timeout=90)
        print(f"topology up in {time.perf_counter() - started:.1f}s: gateway {topology.gateway_url}")
        if not args.search_only:
            part1, part2 = await latency_and_overhead(topology, sink.mailbox, args)
        if args.search_postings:
            part3 = await search_bench(
                topology,
                postings_count=args.search_postings,
                company_count=args.search_companies,
                index_events=args.index_events,
                concurrency=args.concurrency,
                seconds=args.search_seconds,
            )
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

    figures: dict[str, list[Figure]] = {}
    if part1 is not None and part2 is not None:
        figures.update(report_latency_and_overhead(part1, part2, args, baseline))
    if part3 is not None:
        figures["search"] = search_figures(part3)
        print_search(part3, figures["search"], baseline)
    if not args.search_only:
        figures["resumes"] = resume_figures()
    return finish(args, baseline_doc, baseline, figures, started, cores)


def resume_figures() -> list[Figure]:
    """Part 4: parse accuracy and skill extraction (:mod:`bench.resumes`), in percent."""
    from . import resumes

    print("\n4. Resume parsing quality")
    measured = resumes.run()
    figures = []
    for key, value in measured.items():
        if key.endswith("_ms"):  # parse time per layout, lower is better
            figures.append(Figure(key, key.removeprefix("resumes."), value, "ms"))
        elif key.endswith("_s"):
            figures.append(Figure(key, key.removeprefix("resumes."), value * 1000, "ms"))
        elif key.startswith(("resumes.overall.", "skillspan.")):  # fractions of 1
            figures.append(Figure(key, key.removeprefix("resumes."), value * 100, "%", True))
    return figures + export_figures()


def export_figures(rounds: int = 5) -> list[Figure]:
    """Rendering a four-page resume with each template, warm: median ms per format."""
    from aujobs_resumes.document import Contact, ExperienceEntry, ResumeDocument
    from aujobs_resumes.export import TEMPLATES, render_docx, render_pdf

    role = ExperienceEntry(
        title="Senior Software Engineer",
        employer="Harbour Analytics",
        start="2020-03",
        current=True,
        highlights=["Cut p95 latency by 40% by moving the payments API to PostgreSQL"] * 6,
    )
    document = ResumeDocument(
        contact=Contact(name="Jane Citizen", email="jane@example.com.au"),
        summary="Backend engineer.",
        experience=[role] * 12,
        skills=["Python", "PostgreSQL", "Kubernetes"],
    )
    figures = []
    for fmt, render in (("pdf", render_pdf), ("docx", render_docx)):
        times = []
        for template in sorted(TEMPLATES):
            render(document, template)  # imports and caches warm
            for _ in range(rounds):
                started = time.perf_counter()
                render(document, template)
                times.append((time.perf_counter() - started) * 1000)
        times.sort()
        figures.append(
            Figure(f"resumes.export.{fmt}_ms", f"export {fmt} (median)", times[len(times) // 2], "ms")
        )
    return figures


def finish(
    args: argparse.Namespace,
    baseline_doc: dict[str, Any],
    baseline: dict[str, float],
    figures: dict[str, list[Figure]],
    started: float,
    cores: int,
) -> int:
    if "resumes" in figures:
        print_table(
            "   resume figures against the baseline",
            ["figure", "now", "baseline", "change"],
            figure_rows(figures["resumes"], baseline),
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

    if args.record or args.record_new or not BASELINE.exists():
        this_run = {f.key: round(f.value, 2) for f in all_figures}
        settings = {
            "sequential_jobs": args.jobs,
            "concurrent_jobs": args.concurrent_jobs,
            "publishers": 8,
            "poll_interval_ms": POLL_INTERVAL * 1000,
            "concurrency": args.concurrency,
            "seconds": args.seconds,
            "search_postings": args.search_postings,
            "search_companies": args.search_companies,
            "index_events": args.index_events,
            "search_seconds": args.search_seconds,
        }
        if args.record_new:  # only what the baseline lacks; its figures stay as they are
            doc = dict(baseline_doc)
            doc["settings"] = {**settings, **baseline_doc.get("settings", {})}
            doc["figures"] = {**this_run, **baseline}
            added = sorted(set(this_run) - set(baseline))
            print(f"{len(added)} new figure(s) added to the baseline")
        else:  # figures this run did not measure (a part skipped) are kept
            doc = {
                "date": datetime.now(UTC).date().isoformat(),
                "machine": f"2 cores ({cores} CPUs seen), Python {platform.python_version()}, "
                "load generator on the same machine; local PostgreSQL, RabbitMQ and Redis",
                "settings": settings,
                "figures": {**baseline, **this_run},
            }
        BASELINE.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"baseline written to {BASELINE}")
    return 0


async def latency_and_overhead(
    topology: Topology, mailbox: DevMailbox, args: argparse.Namespace
) -> tuple[tuple[list[float], float, list[float], float], dict[str, LoadResult]]:
    """Parts 1 and 2: (sequential latencies, their wall time, concurrent latencies,
    their wall time) and the direct/gateway load results."""
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=topology.gateway_url, limits=limits, timeout=30) as http:
        client = Client(http, mailbox, topology.database_url("auth"))
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
    return (seq, seq_wall, conc, conc_wall), results


def report_latency_and_overhead(
    part1: tuple[list[float], float, list[float], float],
    part2: dict[str, LoadResult],
    args: argparse.Namespace,
    baseline: dict[str, float],
) -> dict[str, list[Figure]]:
    seq, seq_wall, conc, conc_wall = part1
    direct, gateway = part2["direct"], part2["gateway"]
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
    return figures


# -- part 3: search ----------------------------------------------------------------------

TARGETS = {"direct": "direct to search", "gateway": "through gateway"}


def search_figures(report: SearchReport) -> list[Figure]:
    """req/s and p50/p95/p99 per kind of query and target, the cold kinds overall, and
    index throughput."""
    out = [
        Figure(
            "search.index.events_per_s",
            "index throughput",
            report.index.events_per_s,
            "events/s",
            higher_is_better=True,
        )
    ]
    rows = [(k.kind.key, k.kind.label, k.results) for k in report.kinds]
    rows.append(("overall", "overall (cold kinds)", {t: overall(report.kinds, t) for t in TARGETS}))
    for key, label, results in rows:
        for target, result in results.items():
            name = f"{label}, {target}"
            out += [
                Figure(
                    f"search.{key}.{target}.rps", f"{name} req/s", result.rps, "req/s", higher_is_better=True
                ),
                Figure(f"search.{key}.{target}.p50_ms", f"{name} p50", result.ms(50), "ms"),
                Figure(f"search.{key}.{target}.p95_ms", f"{name} p95", result.ms(95), "ms"),
                Figure(f"search.{key}.{target}.p99_ms", f"{name} p99", result.ms(99), "ms"),
            ]
    return out


def print_search(report: SearchReport, figures: list[Figure], baseline: dict[str, float]) -> None:
    index = report.index
    print_table(
        f"3a. index throughput: {index.events:,} job.published events onto RabbitMQ "
        f"(published in {index.publish_seconds:.1f}s, {index.published_per_s:,.0f}/s) until the search "
        f"consumer indexed the last, on an index of {report.load.postings:,} postings",
        ["figure", "now", "baseline", "change"],
        figure_rows(figures[:1], baseline),
    )
    rows = []
    for k in [*report.kinds, None]:
        results = {t: overall(report.kinds, t) for t in TARGETS} if k is None else k.results
        label = "overall (cold kinds)" if k is None else k.kind.label
        hits = "" if k is None or math.isnan(k.cache_hits) else f"{k.cache_hits:.0%}"
        for target, result in results.items():
            rows.append(
                [
                    label if target == "direct" else "",
                    TARGETS[target],
                    f"{result.rps:,.0f}",
                    f"{result.ms(50):.1f}",
                    f"{result.ms(95):.1f}",
                    f"{result.ms(99):.1f}",
                    str(result.errors),
                    hits if target == "direct" else "",
                ]
            )
    print_table(
        f"3b. search query mix on {report.load.postings:,} postings: GET {SEARCH_PATH}, "
        f"{report.concurrency} concurrent clients, {report.seconds:g}s per kind and target "
        "in alternating slices; cold = every request unique (not answerable from the Redis cache)",
        ["kind", "target", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "cache hits"],
        rows,
    )
    by_key = {f.key: f for f in figures}
    compare = []
    keys = [(k.kind.key, k.kind.label) for k in report.kinds] + [("overall", "overall (cold kinds)")]
    for key, label in keys:
        for target in TARGETS:
            row = [label if target == "direct" else "", target]
            for metric in ("rps", "p50_ms", "p95_ms", "p99_ms"):
                f = by_key[f"search.{key}.{target}.{metric}"]
                base, change = f.compare(baseline)
                row += [f"{f.value:,.1f}", base, change]
            compare.append(row)
    print_table(
        "   … against the baseline (now, baseline, change)",
        ["kind", "target", *(h for m in ("req/s", "p50", "p95", "p99") for h in (m, "base", "Δ"))],
        compare,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=300, help="jobs published one at a time")
    parser.add_argument("--concurrent-jobs", type=int, default=160, help="jobs published by 8 publishers")
    parser.add_argument("--concurrency", type=int, default=16, help="clients in the overhead test")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each overhead run")
    parser.add_argument(
        "--search-postings",
        type=int,
        default=200_000,
        help="postings loaded for the search benchmark (part 3); 0 skips part 3",
    )
    parser.add_argument("--search-companies", type=int, default=2_000, help="companies of those postings")
    parser.add_argument(
        "--index-events", type=int, default=5_000, help="job.published events of the index-throughput test"
    )
    parser.add_argument(
        "--search-seconds", type=float, default=4.0, help="duration of each query kind, per target"
    )
    parser.add_argument("--search-only", action="store_true", help="skip parts 1, 2 and 4")
    parser.add_argument(
        "--resumes-only", action="store_true", help="only part 4 (resume parsing quality; no topology)"
    )
    parser.add_argument("--record", action="store_true", help="write this run's figures as the baseline")
    parser.add_argument(
        "--record-new",
        action="store_true",
        help="add this run's figures that the baseline lacks, keeping every figure it has",
    )
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
