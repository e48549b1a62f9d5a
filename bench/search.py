"""Part 3 of ``make bench``: search at scale on the running distributed topology.

* **Load** (setup, not a figure): ``--search-postings`` generated postings
  (:mod:`bench.postings`) and their companies go straight into the search service's
  database, bypassing the bus: each row is built by the indexer's own
  ``document_values`` (so a document is exactly what its ``job.published`` event would
  produce) and written with ``COPY``. The secondary indexes are dropped for the copy and
  recreated from their own definitions afterwards (faster than maintaining them row by
  row), then ``VACUUM ANALYZE``.
* **Index throughput**: ``--index-events`` more ``JobPublished`` events published to the
  topology's RabbitMQ exchange as fast as the broker confirms them; events per second
  from the first publish until the search consumer has indexed the last one (its rows
  polled every 20 ms).
* **Query mix**: ``GET /api/v1/search/jobs`` by ``--concurrency`` clients, straight to
  the search service and through the gateway, per kind of query. Results are cached in
  Redis, so every "cold" request is made unique: the templates of a kind are cycled and
  each cycle adds ``posted_within_days`` = 31…365, a filter that keeps every posting
  (all were published in the last 30 days) but changes the cache key. The search
  service's own cache counters (``/metrics``) are read around each kind to show the
  hit rate. One kind repeats 8 queries to measure the cached path.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from aujobs_common.bus.rabbitmq import RabbitMQBus
from aujobs_common.reference import classifications
from aujobs_embedded.distributed import Topology
from aujobs_jobs.seed import PLACES
from aujobs_search.indexer import document_values
from aujobs_search.models import Company

from .postings import BenchCompany, companies, postings
from .stats import LoadResult, alternating_load

SEARCH_PATH = "/api/v1/search/jobs"
BATCH = 10_000
CACHE_BUSTER_DAYS = range(31, 366)  # posted_within_days that keeps every posting
INDEX_POLL = 0.020

KEYWORDS = (
    "nurse", "registered nurse", "python developer", "software engineer", "accountant", "electrician",
    "truck driver", "chef", "teacher", "project manager", "data engineer", "plumber", "carpenter",
    "receptionist", "customer service", "sales", "warehouse", "forklift", "disability support",
    "physiotherapist", "mechanic", "lawyer", "paralegal", "marketing", "civil engineer", "architect",
    "ux designer", "barista", "bartender", "property manager", "store manager", "data scientist",
    "cyber security", "geologist", "fifo", "recruitment", "hr business partner", "policy officer",
    "react", "aws", "white card", "early childhood", "personal trainer", "financial adviser",
)  # fmt: skip
DEEP_PAGE = 10  # page number reached by following cursors
CACHED_QUERIES = KEYWORDS[:8]


# ---------------------------------------------------------------- load


def _company_rows(employers: list[BenchCompany], now: datetime) -> dict[uuid.UUID, Company]:
    """The ``companies`` rows the bench loads itself, as the indexer would hold them."""
    return {
        c.company_id: Company(
            company_id=c.company_id,
            version=1,
            name=c.name,
            size=c.size.value,
            verified=c.verified,
            updated_at=now,
        )
        for c in employers
    }


@dataclass
class LoadReport:
    postings: int
    companies: int
    seconds: float = 0.0
    copy_seconds: float = 0.0
    index_seconds: float = 0.0
    analyze_seconds: float = 0.0
    indexes: int = 0
    employers: list[BenchCompany] = field(default_factory=list, repr=False)


def search_dsn(topology: Topology) -> str:
    return f"postgresql://{topology.database_url('search').split('://', 1)[1]}"


async def load_postings(dsn: str, count: int, company_count: int) -> LoadReport:
    """``count`` postings and ``company_count`` companies into an empty index."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    employers = companies(company_count)
    company_rows = _company_rows(employers, now)
    report = LoadReport(count, len(employers), employers=employers)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "companies",
            columns=["company_id", "version", "name", "size", "verified", "updated_at"],
            records=[
                (r.company_id, r.version, r.name, r.size, r.verified, r.updated_at)
                for r in company_rows.values()
            ],
        )
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = 'job_documents' AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = 'job_documents'::regclass)"
        )
        report.indexes = len(indexes)
        for row in indexes:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')

        copy_started = time.perf_counter()
        columns: list[str] | None = None
        pending: asyncio.Task[str] | None = None
        generated = postings(count, employers, now=now)
        while batch := list(itertools.islice(generated, BATCH)):
            rows = []
            for i, job in enumerate(batch):
                values = document_values(job, company_rows.get(job.company_id) if job.company_id else None)
                columns = columns or list(values)
                rows.append(tuple(values[c] for c in columns))
                if i % 500 == 0:
                    await asyncio.sleep(0)  # lets the previous batch's COPY stream meanwhile
            if pending is not None:
                await pending
            pending = asyncio.create_task(
                conn.copy_records_to_table("job_documents", columns=columns, records=rows)
            )
        if pending is not None:
            await pending
        report.copy_seconds = time.perf_counter() - copy_started

        index_started = time.perf_counter()
        await _create_indexes(dsn, [row["indexdef"] for row in indexes])
        report.index_seconds = time.perf_counter() - index_started
        analyze_started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE job_documents")
        await conn.execute("ANALYZE companies")
        report.analyze_seconds = time.perf_counter() - analyze_started
    finally:
        await conn.close()
    report.seconds = time.perf_counter() - started
    return report


async def _create_indexes(dsn: str, definitions: list[str], workers: int = 2) -> None:
    """The dropped indexes again, from their own definitions, two at a time."""
    queue = list(reversed(definitions))

    async def worker() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("SET maintenance_work_mem = '256MB'")
            while queue:
                await conn.execute(queue.pop())
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(workers)))


# ---------------------------------------------------------------- index throughput


@dataclass
class IndexReport:
    events: int
    publish_seconds: float
    seconds: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    @property
    def published_per_s(self) -> float:
        return self.events / self.publish_seconds


async def index_throughput(
    topology: Topology, dsn: str, employers: list[BenchCompany], count: int, timeout: float = 300
) -> IndexReport:
    """Publish ``count`` new postings' ``job.published`` events on the topology's bus
    and wait for the search consumer to have indexed them all."""
    events = [
        job.to_event(source="bench", subject=str(job.job_id))
        for job in postings(count, employers, seed=8)  # other postings than the loaded ones
    ]
    ids = [uuid.UUID(e.subject) for e in events if e.subject]
    bus = RabbitMQBus(topology.amqp_url, exchange=topology.exchange)
    await bus.start()
    conn = await asyncpg.connect(dsn)
    gate = asyncio.Semaphore(64)

    async def publish(event: Any) -> None:
        async with gate:
            await bus.publish(event)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(publish(e) for e in events))
        published = time.perf_counter()
        deadline = published + timeout
        while await conn.fetchval("SELECT count(*) FROM job_documents WHERE job_id = ANY($1)", ids) < count:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{count} events not indexed within {timeout:.0f}s of publishing")
            await asyncio.sleep(INDEX_POLL)
        finished = time.perf_counter()
    finally:
        await conn.close()
        await bus.close()
    return IndexReport(count, published - started, finished - started)


# ---------------------------------------------------------------- query mix


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    templates: tuple[dict[str, Any], ...]
    #: every request unique (cache-busted), or the templates repeated (cached)
    cold: bool = True

    def params(self, n: int) -> dict[str, Any]:
        """The ``n``-th request: templates in turn; each turn a new ``posted_within_days``."""
        template = self.templates[n % len(self.templates)]
        if not self.cold:
            return template
        turn = n // len(self.templates)
        return {**template, "posted_within_days": CACHE_BUSTER_DAYS[turn % len(CACHE_BUSTER_DAYS)]}


def _shuffled(items: list[dict[str, Any]], seed: int) -> tuple[dict[str, Any], ...]:
    random.Random(seed).shuffle(items)
    return tuple(items)


async def query_kinds(direct_url: str) -> list[Kind]:
    """The query mix; the deep-page cursors are found by following ``next_cursor`` from
    page 1 (straight to the search service, before anything is measured)."""
    places = [f"{suburb} {state}" for suburb, state, _ in PLACES]
    work_types = ("full_time", "part_time", "contract_temp", "casual_vacation")
    filters = [
        {"classification": c, "work_type": w, "salary_min": s}
        for c in classifications()
        for w in work_types
        for s in range(50_000, 150_001, 10_000)
    ]
    return [
        Kind("keyword", "keyword", tuple({"q": q} for q in KEYWORDS)),
        Kind(
            "keyword_radius",
            "keyword + radius",
            _shuffled(
                [
                    {"q": q, "location": p, "radius_km": r}
                    for q in KEYWORDS
                    for p in places
                    for r in (10, 20, 30, 40, 50)
                ],
                1,
            ),
        ),
        Kind("filters", "filters only", _shuffled(filters, 2)),
        Kind(
            "keyword_nofacets", "keyword, facets=false", tuple({"q": q, "facets": "false"} for q in KEYWORDS)
        ),
        Kind("deep_page", f"keyword, page {DEEP_PAGE}", await _deep_cursors(direct_url)),
        Kind(
            "keyword_cached",
            "keyword, cached (8 repeated)",
            tuple({"q": q} for q in CACHED_QUERIES),
            cold=False,
        ),
    ]


async def _deep_cursors(direct_url: str) -> tuple[dict[str, Any], ...]:
    async with httpx.AsyncClient(base_url=direct_url, timeout=60) as http:

        async def follow(q: str) -> dict[str, Any] | None:
            params: dict[str, Any] = {"q": q, "facets": "false"}
            for _ in range(DEEP_PAGE - 1):
                r = await http.get(SEARCH_PATH, params=params)
                r.raise_for_status()
                cursor = r.json()["next_cursor"]
                if cursor is None:
                    return None
                params = {"q": q, "cursor": cursor}
            return params

        found = await asyncio.gather(*(follow(q) for q in KEYWORDS))
    deep = tuple(p for p in found if p is not None)
    if not deep:
        raise RuntimeError(f"no keyword has {DEEP_PAGE} pages of results")
    return deep


_CACHE_METRIC = re.compile(r'^aujobs_search_cache_total\{outcome="(\w+)"\}\s+([0-9.e+]+)', re.M)


async def cache_counts(http: httpx.AsyncClient, search_url: str) -> dict[str, float]:
    """The search service's result-cache lookups so far, by outcome (hit, miss, error)."""
    with contextlib.suppress(httpx.HTTPError):
        r = await http.get(f"{search_url}/metrics")
        return {outcome: float(n) for outcome, n in _CACHE_METRIC.findall(r.text)}
    return {}


@dataclass
class KindResult:
    kind: Kind
    results: dict[str, LoadResult]
    cache_hits: float  # share of this kind's lookups that hit (NaN when unknown)


async def run_kind(
    kind: Kind,
    targets: dict[str, str],
    concurrency: int,
    seconds: float,
    slices: int = 2,
    warm_up: float = 0.5,
) -> dict[str, LoadResult]:
    """``concurrency`` clients per target sending the kind's requests for ``seconds``
    per target, in ``slices`` turns alternating between the targets (like the gateway
    overhead test); one request counter across targets, so no cold request repeats."""
    counter = itertools.count()
    results = await alternating_load(
        targets,
        lambda http: http.get(SEARCH_PATH, params=kind.params(next(counter))),
        concurrency=concurrency,
        seconds=seconds,
        slices=slices,
        warm_up=warm_up,
        timeout=30,
    )
    for name, result in results.items():
        if result.errors:
            print(f"  ! {result.errors} non-200 answers from {name} ({kind.label})")
    return results


async def query_mix(topology: Topology, concurrency: int, seconds: float) -> list[KindResult]:
    search_url = topology.service_url("search")
    targets = {"direct": search_url, "gateway": topology.gateway_url}
    out = []
    async with httpx.AsyncClient(timeout=10) as http:
        for kind in await query_kinds(search_url):
            before = await cache_counts(http, search_url)
            results = await run_kind(kind, targets, concurrency, seconds)
            after = await cache_counts(http, search_url)
            lookups = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in ("hit", "miss", "error")}
            total = sum(lookups.values())
            out.append(KindResult(kind, results, lookups["hit"] / total if total else float("nan")))
    return out


def overall(kinds: list[KindResult], target: str) -> LoadResult:
    """The cold kinds together: every request, over the time they took."""
    cold = [k.results[target] for k in kinds if k.kind.cold]
    return LoadResult(
        requests=sum(r.requests for r in cold),
        errors=sum(r.errors for r in cold),
        seconds=sum(r.seconds for r in cold),
        latencies=[x for r in cold for x in r.latencies],
    )


@dataclass
class SearchReport:
    load: LoadReport
    index: IndexReport
    kinds: list[KindResult]
    concurrency: int
    seconds: float


async def search_bench(
    topology: Topology,
    *,
    postings_count: int,
    company_count: int,
    index_events: int,
    concurrency: int,
    seconds: float,
) -> SearchReport:
    dsn = search_dsn(topology)
    load = await load_postings(dsn, postings_count, company_count)
    print(
        f"loaded {load.postings:,} postings of {load.companies:,} companies into the search index in "
        f"{load.seconds:.0f}s (build + COPY {load.copy_seconds:.0f}s, {load.indexes} indexes "
        f"{load.index_seconds:.0f}s, VACUUM ANALYZE {load.analyze_seconds:.0f}s): setup, not a figure"
    )
    index = await index_throughput(topology, dsn, load.employers, index_events)
    kinds = await query_mix(topology, concurrency, seconds)
    return SearchReport(load, index, kinds, concurrency, seconds)
