from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.app import ServiceRuntime, Subscription, create_service_app
from aujobs_common.bus import EventBus
from aujobs_common.events import JOB_SNAPSHOT_EVENTS, CloudEvent, CompanyUpdated, JobPostingSnapshot
from aujobs_common.security import KeySource

from . import insights_api, suggest_api
from .api import BACKEND_KEY, router
from .cache import CachedSearch, SearchCache
from .indexer import COMPANY_EVENTS, JOB_EVENTS, index_company_event, index_job_event
from .opensearch_backend import OpenSearchBackend
from .pg_backend import PostgresSearch
from .query import SearchBackend
from .querylog import query_log_hooks
from .settings import SearchSettings, get_settings

MIGRATIONS = Path(__file__).parent / "migrations"
_SNAPSHOT_TYPES = frozenset(e.event_type for e in JOB_SNAPSHOT_EVENTS)

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]


def create_app(
    settings: SearchSettings | None = None,
    *,
    bus: EventBus | None = None,
    key_source: KeySource | None = None,
    search_backend: SearchBackend | None = None,
) -> FastAPI:
    """``SEARCH_BACKEND`` picks the index: ``postgres`` (default; in this service's
    database, fed inside the consumer's inbox transaction) or ``opensearch`` (fed with
    versioned index requests). Either way results are cached in Redis when REDIS_URL is
    set, and the API finds the backend at ``runtime.extras["search_backend"]``.
    ``search_backend`` replaces the configured one (tests)."""
    settings = settings or get_settings()
    cache = SearchCache.from_url(
        settings.redis_url, ttl_seconds=settings.search_cache_ttl_seconds, prefix=settings.search_cache_prefix
    )
    opensearch = (
        OpenSearchBackend.from_url(
            settings.opensearch_url or "http://127.0.0.1:9200",
            prefix=settings.opensearch_index_prefix,
            companies=settings.opensearch_companies_index,
        )
        if settings.search_backend == "opensearch" and search_backend is None
        else None
    )
    if settings.search_backend not in ("postgres", "opensearch"):
        raise ValueError(f"SEARCH_BACKEND must be postgres or opensearch, not {settings.search_backend!r}")
    start_log, stop_log = query_log_hooks(
        interval=settings.query_log_flush_interval_s, retention_days=settings.query_log_retention_days
    )

    async def install_backend(runtime: ServiceRuntime) -> None:
        backend = search_backend or opensearch or PostgresSearch(runtime.db)
        if opensearch is not None:
            await opensearch.ensure_ready()
        runtime.extras[BACKEND_KEY] = CachedSearch(backend, cache)

    async def close(runtime: ServiceRuntime) -> None:
        if opensearch is not None:
            await opensearch.aclose()
        await cache.aclose()

    return create_service_app(
        settings=settings,
        title="Australia Jobs — search",
        description="Job search over the index built from job and company events.",
        routers=[router, suggest_api.router, insights_api.router],
        migrations=MIGRATIONS,
        bus=bus,
        key_source=key_source,
        subscriptions=[
            Subscription(patterns=JOB_EVENTS, handler=_job_handler(cache, opensearch), name="search.jobs"),
            Subscription(
                patterns=COMPANY_EVENTS, handler=_company_handler(cache, opensearch), name="search.companies"
            ),
        ],
        on_startup=[install_backend, start_log],
        on_shutdown=[stop_log, close],
    )


def _job_handler(cache: SearchCache, opensearch: OpenSearchBackend | None) -> Handler:
    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        if opensearch is not None:
            if event.type in _SNAPSHOT_TYPES:
                # an unreachable cluster raises: the bus retries the event
                if await opensearch.index_job(JobPostingSnapshot.model_validate(event.data)):
                    await cache.invalidate()
            return
        if await index_job_event(session, event):
            cache.invalidate_after_commit(session)

    return handle


def _company_handler(cache: SearchCache, opensearch: OpenSearchBackend | None) -> Handler:
    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        if opensearch is not None:
            if event.type == CompanyUpdated.event_type:
                if await opensearch.company_updated(CompanyUpdated.model_validate(event.data)):
                    await cache.invalidate()
            return
        if await index_company_event(session, event):
            cache.invalidate_after_commit(session)

    return handle
