"""An anonymised log of searches and of the clicks on their results, for the admins'
search insights.

* What is kept per results page served: its ``query_id`` (UUIDv7), the text asked for
  (lower-cased, whitespace collapsed, e-mail addresses and runs of 8+ digits — phone,
  tax file and card numbers — replaced by ``<email>``/``<number>``), the filters as
  compact JSON (only the ones set; no paging, no clock), the number of results, the
  latency, whether it was the first page, and when. Nothing about the searcher: no user
  id, no IP address, no hash of one (no figure needs distinct searchers, so none is
  collected).
* Clicks: ``(query_id, job_id, position)``; the first click on a job of a results page
  counts, repeats are ignored. A click on an unknown ``query_id`` is accepted and
  ignored: another replica may not have written that search yet (each buffers), so a
  404 would reject real clicks. A click waits ``click_grace_seconds`` for its search to
  be written, then is dropped.
* Searching never waits for the log: :meth:`QueryLog.record` appends to memory, and the
  flusher writes batches every ``interval`` seconds (sooner when ``batch_size`` records
  are waiting) and on shutdown. A failed write keeps the records for the next round; at
  most ``max_pending`` are held (the oldest go first) — they are statistics, not records
  anyone relies on. The flusher also purges entries older than ``retention_days`` once
  every ``purge_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.app import ServiceRuntime
from aujobs_common.db import Database
from aujobs_common.ids import uuid7
from aujobs_common.worker import BackgroundWorker

from .cache import normalise_text
from .query import SearchQuery

log = logging.getLogger(__name__)

EXTRA_KEY = "querylog"
MAX_TEXT = 200
MAX_POSITION = 1000
TOP = 20
_PURGE_BATCH = 10_000

#: The log's tables, apart from the index's models (for Alembic's env.py beside them).
QUERY_LOG_METADATA = sa.MetaData()

search_queries = sa.Table(
    "search_queries",
    QUERY_LOG_METADATA,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("q", sa.Text),
    sa.Column("filters", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("first_page", sa.Boolean, nullable=False),
    sa.CheckConstraint("total >= 0", name="ck_search_queries_total"),
    sa.CheckConstraint("latency_ms >= 0", name="ck_search_queries_latency"),
    sa.Index("ix_search_queries_created_at", "created_at"),
)

search_clicks = sa.Table(
    "search_clicks",
    QUERY_LOG_METADATA,
    sa.Column(
        "query_id",
        UUID(as_uuid=True),
        sa.ForeignKey("search_queries.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("job_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f"position BETWEEN 1 AND {MAX_POSITION}", name="ck_search_clicks_position"),
    sa.Index("ix_search_clicks_created_at", "created_at"),
)

_EMAIL = re.compile(r"\S+@\S+")
_LONG_NUMBER = re.compile(r"\d(?:[\s-]?\d){7,}")


def anonymised_text(text: str | None) -> str | None:
    """The search text as logged: normalised, without e-mail addresses or long numbers
    (what a person might type about themselves), at most 200 characters."""
    cleaned = normalise_text(text)
    if cleaned is None:
        return None
    cleaned = _LONG_NUMBER.sub("<number>", _EMAIL.sub("<email>", cleaned))
    return cleaned[:MAX_TEXT]


def logged_filters(query: SearchQuery) -> dict[str, Any]:
    """The filters that were set, compactly (defaults, paging and the clock left out)."""
    location = query.location
    values: dict[str, Any] = {
        "location": location.label if location else None,
        "radius_km": location.radius_km if location else None,
        "classification": query.classification,
        "sub_classification": query.sub_classification,
        "work_types": sorted(set(query.work_types)),
        "work_arrangements": sorted(set(query.work_arrangements)),
        "salary_min_cents": query.salary_min_cents,
        "salary_max_cents": query.salary_max_cents,
        "posted_within_days": query.posted_within_days,
        "skills": sorted(set(query.skills)),
        "company": normalise_text(query.company),
        "company_sizes": sorted(set(query.company_sizes)),
        "benefits": sorted(set(query.benefits)),
        "featured_only": query.featured_only or None,
        "sort": query.sort.value if query.sort.value != "relevance" else None,
    }
    return {name: value for name, value in values.items() if value not in (None, [])}


@dataclass(frozen=True)
class _Click:
    query_id: uuid.UUID
    job_id: uuid.UUID
    position: int
    created_at: datetime


class QueryLog(BackgroundWorker):
    """Searches and clicks buffered in memory, written in batches by a background loop."""

    task_name = "search-query-log"

    def __init__(
        self,
        db: Database,
        *,
        interval: float = 5.0,
        batch_size: int = 1000,
        max_pending: int = 100_000,
        retention_days: int = 90,
        purge_interval: float = 3600.0,
        click_grace_seconds: float = 120.0,
    ) -> None:
        self.db = db
        self.interval = interval
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.retention_days = retention_days
        self.purge_interval = purge_interval
        self.click_grace = timedelta(seconds=click_grace_seconds)
        self._queries: collections.deque[dict[str, Any]] = collections.deque(maxlen=max_pending)
        self._clicks: collections.deque[_Click] = collections.deque(maxlen=max_pending)
        self._lock = asyncio.Lock()
        self._next_purge = time.monotonic()
        super().__init__()

    def record(
        self, query: SearchQuery, total: int, latency_ms: float, *, now: datetime | None = None
    ) -> str:
        """Log one results page served; returns its ``query_id`` for the response."""
        query_id = uuid7()
        self._queries.append(
            {
                "id": query_id,
                "created_at": now or datetime.now(UTC),
                "q": anonymised_text(query.q),
                "filters": logged_filters(query),
                "total": max(0, total),
                "latency_ms": max(0.0, float(latency_ms)),
                "first_page": query.cursor is None,
            }
        )
        self._wake_when_full()
        return str(query_id)

    def click(
        self, query_id: uuid.UUID, job_id: uuid.UUID, position: int, *, now: datetime | None = None
    ) -> None:
        """Log a click on a result. Ids that cannot be ours (not UUIDv7) are dropped at
        once rather than held in memory."""
        if query_id.version != 7:
            return
        self._clicks.append(_Click(query_id, job_id, position, now or datetime.now(UTC)))
        self._wake_when_full()

    def _wake_when_full(self) -> None:
        if len(self._queries) + len(self._clicks) >= self.batch_size:
            self.notify()

    @property
    def pending(self) -> int:
        return len(self._queries) + len(self._clicks)

    async def flush(self, *, now: datetime | None = None) -> int:
        """Write what is buffered; the number of searches written. Clicks whose search
        is not in the table yet wait for a later flush, up to the grace period."""
        async with self._lock:
            queries, self._queries = self._queries, collections.deque(maxlen=self.max_pending)
            clicks, self._clicks = self._clicks, collections.deque(maxlen=self.max_pending)
            if not queries and not clicks:
                return 0
            try:
                async with self.db.transaction() as session:
                    if queries:
                        await session.execute(
                            insert(search_queries).on_conflict_do_nothing(index_elements=["id"]),
                            list(queries),
                        )
                    waiting = await self._write_clicks(session, clicks)
            except Exception:
                self._queries = _merged(queries, self._queries, self.max_pending)
                self._clicks = _merged(clicks, self._clicks, self.max_pending)
                raise
            cutoff = (now or datetime.now(UTC)) - self.click_grace
            self._clicks = _merged(
                (c for c in waiting if c.created_at >= cutoff), self._clicks, self.max_pending
            )
            return len(queries)

    async def _write_clicks(self, session: AsyncSession, clicks: collections.deque[_Click]) -> list[_Click]:
        """Inserts the clicks whose search exists; returns the others."""
        if not clicks:
            return []
        ids = list({c.query_id for c in clicks})
        known = set(
            (await session.scalars(sa.select(search_queries.c.id).where(search_queries.c.id.in_(ids)))).all()
        )
        matched = [c for c in clicks if c.query_id in known]
        if matched:
            await session.execute(
                insert(search_clicks).on_conflict_do_nothing(index_elements=["query_id", "job_id"]),
                [
                    {
                        "query_id": c.query_id,
                        "job_id": c.job_id,
                        "position": c.position,
                        "created_at": c.created_at,
                    }
                    for c in matched
                ],
            )
        return [c for c in clicks if c.query_id not in known]

    async def purge(self, *, now: datetime | None = None) -> int:
        """Delete searches (and their clicks) older than ``retention_days``, in batches
        so a large backlog never holds one long transaction; the number deleted."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.retention_days)
        deleted = 0
        while True:
            async with self.db.transaction() as session:
                batch = (
                    sa.select(search_queries.c.id)
                    .where(search_queries.c.created_at < cutoff)
                    .limit(_PURGE_BATCH)
                    .scalar_subquery()
                )
                result = await session.execute(
                    sa.delete(search_queries).where(search_queries.c.id.in_(batch))
                )
            deleted += result.rowcount or 0
            if (result.rowcount or 0) < _PURGE_BATCH:
                return deleted

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception as exc:  # kept for the next round
                log.warning("writing the search log failed", extra={"error_type": type(exc).__name__})
            if time.monotonic() >= self._next_purge and not self._stopping.is_set():
                self._next_purge = time.monotonic() + self.purge_interval
                try:
                    await self.purge()
                except Exception as exc:
                    log.warning("purging the search log failed", extra={"error_type": type(exc).__name__})
        # Stopping may have been asked while a flush or purge was under way: what was
        # recorded since is written now, not lost with the process.
        try:
            await self.flush()
        except Exception as exc:
            log.warning("writing the search log failed", extra={"error_type": type(exc).__name__})


def _merged(older: Any, newer: Any, maxlen: int) -> collections.deque[Any]:
    """``older`` then ``newer`` in one bounded deque (the oldest fall off first)."""
    merged: collections.deque[Any] = collections.deque(older, maxlen=maxlen)
    merged.extend(newer)
    return merged


Hook = Callable[[ServiceRuntime], Awaitable[None]]


def query_log_hooks(**options: Any) -> tuple[Hook, Hook]:
    """``(on_startup, on_shutdown)`` for ``create_service_app``: the startup hook puts a
    running :class:`QueryLog` (``options`` are its keyword arguments) at
    ``runtime.extras["querylog"]``; the shutdown hook stops it after a last flush."""

    async def start(runtime: ServiceRuntime) -> None:
        querylog = QueryLog(runtime.db, **options)
        runtime.extras[EXTRA_KEY] = querylog
        querylog.start()

    async def stop(runtime: ServiceRuntime) -> None:
        querylog = runtime.extras.pop(EXTRA_KEY, None)
        if querylog is not None:
            await querylog.stop()

    return start, stop


# ---------------------------------------------------------------- insights


class QueryFigures(BaseModel):
    query: str
    #: first pages served for this text
    searches: int
    #: results pages (any page) of this text with at least one click / results pages
    click_through_rate: float | None
    clicks: int


class ZeroResultQuery(BaseModel):
    query: str
    searches: int


class LatencyFigures(BaseModel):
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None


class SearchInsights(BaseModel):
    days: int
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    total_searches: int = Field(description="First results pages served (a search; later pages not counted)")
    results_pages: int = Field(description="Results pages served, every page")
    clicked_pages: int = Field(description="Results pages with at least one click")
    click_through_rate: float | None = Field(description="clicked_pages / results_pages; null when none")
    latency: LatencyFigures = Field(description="Over every results page served")
    popular: list[QueryFigures] = Field(description="The 20 texts searched most (first pages)")
    zero_result: list[ZeroResultQuery] = Field(description="The 20 texts most often searched with no result")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _ms(value: float | None) -> float | None:
    return round(float(value), 2) if value is not None else None


async def search_insights(session: AsyncSession, *, days: int, now: datetime | None = None) -> SearchInsights:
    """Figures over the last ``days`` days (text searches only in the two top lists)."""
    to = now or datetime.now(UTC)
    since = to - timedelta(days=days)
    q = search_queries.c
    in_window = sa.and_(q.created_at >= since, q.created_at <= to)
    clicks_per_page = (
        sa.select(search_clicks.c.query_id, sa.func.count().label("clicks"))
        .where(search_clicks.c.created_at >= since)
        .group_by(search_clicks.c.query_id)
        .subquery()
    )
    pages = search_queries.outerjoin(clicks_per_page, clicks_per_page.c.query_id == q.id)

    totals = (
        await session.execute(
            sa.select(
                sa.func.count().filter(q.first_page),
                sa.func.count(),
                sa.func.count(clicks_per_page.c.query_id),
                *(
                    sa.func.percentile_cont(fraction).within_group(q.latency_ms)
                    for fraction in (0.5, 0.95, 0.99)
                ),
            )
            .select_from(pages)
            .where(in_window)
        )
    ).one()
    searches, results_pages, clicked_pages, p50, p95, p99 = totals

    first_pages = sa.func.count().filter(q.first_page)
    popular_rows = (
        await session.execute(
            sa.select(
                q.q,
                first_pages.label("searches"),
                sa.func.count().label("pages"),
                sa.func.count(clicks_per_page.c.query_id).label("clicked"),
                sa.func.coalesce(sa.func.sum(clicks_per_page.c.clicks), 0).label("clicks"),
            )
            .select_from(pages)
            .where(in_window, q.q.is_not(None))
            .group_by(q.q)
            .having(first_pages > 0)
            .order_by(first_pages.desc(), q.q)
            .limit(TOP)
        )
    ).all()

    zero_rows = (
        await session.execute(
            sa.select(q.q, sa.func.count().label("searches"))
            .where(in_window, q.q.is_not(None), q.total == 0, q.first_page)
            .group_by(q.q)
            .order_by(sa.func.count().desc(), q.q)
            .limit(TOP)
        )
    ).all()

    return SearchInsights(
        days=days,
        from_=since,
        to=to,
        total_searches=searches,
        results_pages=results_pages,
        clicked_pages=clicked_pages,
        click_through_rate=_rate(clicked_pages, results_pages),
        latency=LatencyFigures(p50_ms=_ms(p50), p95_ms=_ms(p95), p99_ms=_ms(p99)),
        popular=[
            QueryFigures(
                query=row.q,
                searches=row.searches,
                click_through_rate=_rate(row.clicked, row.pages),
                clicks=int(row.clicks),
            )
            for row in popular_rows
        ],
        zero_result=[ZeroResultQuery(query=row.q, searches=row.searches) for row in zero_rows],
    )
