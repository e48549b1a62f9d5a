"""Rebuilding the index from scratch without downtime:
``aujobs-search rebuild --jobs-url URL`` (an admin access token in ``SEARCH_REBUILD_TOKEN``).

The source of truth is the jobs service's export (``GET /api/v1/jobs/export`` and
``/export/companies``: every posting as its event snapshot, every company as its
``company.updated`` payload), read through :class:`JobsExport`; anything with the same
two async streams will do (:class:`ExportSource`), which is how the tests feed it.

PostgreSQL (``SEARCH_BACKEND=postgres``)
    1. ``companies_rebuild`` and ``job_documents_rebuild`` are created ``LIKE`` the live
       tables (columns, defaults, the generated ``document`` column, NOT NULLs, checks;
       the primary keys up front, every other index after the load, which is faster).
    2. They are filled from the export through the indexer's own row builders
       (:func:`~aujobs_search.indexer.company_values`,
       :func:`~aujobs_search.indexer.document_values`), in short transactions. The live
       tables are not touched: searches and event indexing go on as usual.
    3. The secondary indexes are built from the live tables' own definitions
       (``pg_get_indexdef``) and the new tables analysed.
    4. One short transaction swaps them: ``companies`` is locked ``ACCESS EXCLUSIVE``
       (only the indexer reads it) and ``job_documents`` ``EXCLUSIVE`` (searches go on
       reading, event indexing waits), in the order the indexer takes them, so the two
       cannot deadlock. What the events changed meanwhile is carried over: a company
       whose live version is newer, a posting whose live version is newer, and a posting
       the export did not have that was indexed after the rebuild started (created
       meanwhile); the carried companies are put on their postings. Then the live tables
       are dropped, the new ones renamed into place and their indexes and primary keys
       given the live names, so later migrations find what they expect. Searches
       waiting on the rename then read the new table; nothing ever sees an empty index.
       If the locks are not granted within ``lock_timeout`` the swap is retried.

    Postings in the live table that the export did not have and that were indexed
    before the rebuild started are gone afterwards (that is the point: a rebuild from
    scratch). Privileges granted on the live tables are not carried over.

OpenSearch (``SEARCH_BACKEND=opensearch``)
    The companies are written first (version-guarded, as ``company.updated`` does), then
    :meth:`~aujobs_search.opensearch_backend.OpenSearchBackend.rebuild` loads a new
    versioned index and swaps the alias.

Either way the result cache is invalidated after the swap. One rebuild at a time (a
PostgreSQL advisory lock).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import httpx
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from aujobs_common.db import Database
from aujobs_common.events import CompanyUpdated, JobPostingSnapshot

from .cache import SearchCache
from .indexer import company_values, document_values
from .models import Company, JobDocument
from .opensearch_backend import OpenSearchBackend
from .settings import SearchSettings, get_settings

log = logging.getLogger(__name__)

TOKEN_ENV = "SEARCH_REBUILD_TOKEN"  # noqa: S105 - the variable's name, not a token
EXPORT_PATH = "/api/v1/jobs/export"
COMPANIES_PATH = "/api/v1/jobs/export/companies"
SHADOW_SUFFIX = "_rebuild"
#: one rebuild per database at a time (any constant unique to this use)
ADVISORY_LOCK_KEY = 0x5EA4C4_0001
#: a posting the export lacks survives the swap when indexed after the rebuild started,
#: less this much (the indexer's clock is another machine's)
CLOCK_SKEW_MARGIN = timedelta(minutes=5)

Item = TypeVar("Item", bound=BaseModel)


class RebuildError(RuntimeError):
    """The rebuild cannot go on (the export refused, another rebuild runs...); the live
    index is untouched."""


class ExportSource(Protocol):
    """Where a rebuild reads the truth from. Each stream is read once, companies first."""

    def companies(self) -> AsyncIterator[CompanyUpdated]: ...

    def jobs(self) -> AsyncIterator[JobPostingSnapshot]: ...


@dataclass(frozen=True)
class RebuildResult:
    backend: str
    jobs: int
    companies: int
    #: changed by events while the rebuild ran, carried over at the swap (PostgreSQL)
    caught_up_jobs: int
    caught_up_companies: int
    seconds: float

    def summary(self) -> str:
        caught = (
            f"; {self.caught_up_jobs} postings and {self.caught_up_companies} companies changed meanwhile "
            "were carried over from the live index"
            if self.backend == "postgres"
            else ""
        )
        return (
            f"rebuild ({self.backend}): {self.jobs} postings and {self.companies} companies indexed"
            f"{caught}; took {self.seconds:.1f} s"
        )


# ---------------------------------------------------------------- the jobs service's export


class JobsExport:
    """:class:`ExportSource` over the jobs service's export, directly or through the
    gateway (``base_url`` up to the host; the paths are the public ones). A transport
    error or a 5xx is retried a few times; anything else ends the rebuild."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        page_size: int = 500,
        client: httpx.AsyncClient | None = None,
        attempts: int = 3,
    ) -> None:
        self._client = client or httpx.AsyncClient(base_url=base_url, timeout=60.0)
        self._owns_client = client is None
        self._headers = {"Authorization": f"Bearer {token}"}
        self._page_size = page_size
        self._attempts = attempts

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    def companies(self) -> AsyncIterator[CompanyUpdated]:
        return self._items(COMPANIES_PATH, CompanyUpdated)

    def jobs(self) -> AsyncIterator[JobPostingSnapshot]:
        return self._items(EXPORT_PATH, JobPostingSnapshot)

    async def _items(self, path: str, model: type[Item]) -> AsyncIterator[Item]:
        cursor: str | None = None
        while True:
            page = await self._page(path, cursor)
            for item in page.get("items", []):
                yield model.model_validate(item)
            cursor = page.get("next_cursor")
            if not cursor:
                return

    async def _page(self, path: str, cursor: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": self._page_size}
        if cursor:
            params["cursor"] = cursor
        for attempt in range(1, self._attempts + 1):
            try:
                response = await self._client.get(path, params=params, headers=self._headers)
            except httpx.TransportError as exc:
                failure = type(exc).__name__
            else:
                if response.status_code == 200:
                    return response.json()
                if response.status_code < 500:
                    raise RebuildError(f"the jobs export answered {response.status_code}: {_title(response)}")
                failure = f"HTTP {response.status_code}"
            log.warning("jobs export %s failed (%s), attempt %s", path, failure, attempt)
            if attempt < self._attempts:
                await asyncio.sleep(attempt)
        raise RebuildError(f"the jobs export did not answer ({failure})")


def _title(response: httpx.Response) -> str:
    """The problem's title (never the body as such: it is the other service's text)."""
    try:
        return str(response.json().get("title", "no title"))
    except ValueError:
        return "not problem+json"


# ---------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class _Index:
    live_name: str
    shadow_name: str
    create_sql: str
    primary: bool


@dataclass(frozen=True)
class _Pair:
    """A live table and its shadow, with the live table's indexes."""

    live: str
    shadow: str
    indexes: list[_Index]


_INDEX_DEF = re.compile(r"^(CREATE (?:UNIQUE )?INDEX )(\S+)( ON (?:ONLY )?)(\S+)( USING .*)$", re.S)


class PostgresRebuild:
    """The PostgreSQL rebuild (see the module's docstring). ``batch_size`` rows per
    insert transaction; ``lock_timeout_s`` how long the swap waits for its locks before
    retrying (indexing is paused while it waits), ``swap_attempts`` times."""

    def __init__(
        self,
        db: Database,
        *,
        batch_size: int = 500,
        lock_timeout_s: float = 5.0,
        swap_attempts: int = 5,
    ) -> None:
        self.db = db
        self.batch_size = batch_size
        self.lock_timeout_ms = int(lock_timeout_s * 1000)
        self.swap_attempts = swap_attempts
        self.companies_shadow = Company.__table__.to_metadata(
            sa.MetaData(), name=f"{Company.__tablename__}{SHADOW_SUFFIX}"
        )
        self.jobs_shadow = JobDocument.__table__.to_metadata(
            sa.MetaData(), name=f"{JobDocument.__tablename__}{SHADOW_SUFFIX}"
        )

    async def run(self, source: ExportSource) -> RebuildResult:
        started = time.monotonic()
        async with self.db.engine.connect() as guard:
            guard = await guard.execution_options(isolation_level="AUTOCOMMIT")
            if not await guard.scalar(sa.select(sa.func.pg_try_advisory_lock(ADVISORY_LOCK_KEY))):
                raise RebuildError("another rebuild of this index is running")
            try:
                return await self._run(source, started)
            finally:
                await guard.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
                await self._drop_shadows()  # a no-op after a swap; the leftovers of a failure

    async def _run(self, source: ExportSource, started: float) -> RebuildResult:
        since = datetime.now(UTC) - CLOCK_SKEW_MARGIN
        pairs = await self._create_shadows()
        companies = await self._load_companies(source.companies())
        jobs = await self._load_jobs(source.jobs())
        await self._build_indexes(pairs)
        caught_up_jobs, caught_up_companies = await self._swap(pairs, since)
        return RebuildResult(
            backend="postgres",
            jobs=jobs,
            companies=companies,
            caught_up_jobs=caught_up_jobs,
            caught_up_companies=caught_up_companies,
            seconds=time.monotonic() - started,
        )

    # -- the shadow tables

    async def _drop_shadows(self) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                sa.text(f"DROP TABLE IF EXISTS {self.jobs_shadow.name}, {self.companies_shadow.name}")
            )

    async def _create_shadows(self) -> list[_Pair]:
        await self._drop_shadows()
        pairs = []
        async with self.db.transaction() as session:
            for live, shadow in (
                (Company.__tablename__, self.companies_shadow.name),
                (JobDocument.__tablename__, self.jobs_shadow.name),
            ):
                await session.execute(
                    sa.text(f"CREATE TABLE {shadow} (LIKE {live} INCLUDING ALL EXCLUDING INDEXES)")
                )
                pair = _Pair(live, shadow, await _indexes_of(session, live, shadow))
                for index in pair.indexes:
                    if index.primary:  # the loads upsert on it
                        await _create_index(session, pair, index)
                pairs.append(pair)
        return pairs

    async def _build_indexes(self, pairs: list[_Pair]) -> None:
        for pair in pairs:
            async with self.db.transaction() as session:
                for index in pair.indexes:
                    if not index.primary:
                        await _create_index(session, pair, index)
                await session.execute(sa.text(f"ANALYZE {pair.shadow}"))

    # -- the loads

    async def _load_companies(self, companies: AsyncIterator[CompanyUpdated]) -> int:
        loaded = 0
        async for batch in _batches(companies, self.batch_size):
            rows = _newest((company_values(c) for c in batch), key="company_id")
            async with self.db.transaction() as session:
                await session.execute(_upsert(self.companies_shadow, "company_id", rows[0]), rows)
            loaded += len(rows)
        return loaded

    async def _load_jobs(self, jobs: AsyncIterator[JobPostingSnapshot]) -> int:
        loaded = 0
        async for batch in _batches(jobs, self.batch_size):
            async with self.db.transaction() as session:
                held = await self._shadow_companies(session, {j.company_id for j in batch if j.company_id})
                rows = _newest(
                    (document_values(j, held.get(j.company_id) if j.company_id else None) for j in batch),
                    key="job_id",
                )
                await session.execute(_upsert(self.jobs_shadow, "job_id", rows[0]), rows)
            loaded += len(rows)
        return loaded

    async def _shadow_companies(self, session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, Company]:
        """The companies of a batch as loaded into the shadow (not the live table: the
        new index is built from the export alone)."""
        if not ids:
            return {}
        table = self.companies_shadow
        rows = await session.execute(
            sa.select(table.c.company_id, table.c.name, table.c.size, table.c.verified).where(
                table.c.company_id.in_(ids)
            )
        )
        return {
            row.company_id: Company(
                company_id=row.company_id, name=row.name, size=row.size, verified=row.verified
            )
            for row in rows
        }

    # -- the swap

    async def _swap(self, pairs: list[_Pair], since: datetime) -> tuple[int, int]:
        for attempt in range(1, self.swap_attempts + 1):
            try:
                async with self.db.engine.begin() as conn:
                    return await self._swap_once(conn, pairs, since)
            except DBAPIError as exc:
                if not _is_lock_timeout(exc) or attempt == self.swap_attempts:
                    raise
                log.warning("rebuild swap: locks not granted in time, attempt %s", attempt)
                await asyncio.sleep(attempt)
        raise AssertionError("unreachable")

    async def _swap_once(self, conn: AsyncConnection, pairs: list[_Pair], since: datetime) -> tuple[int, int]:
        companies, jobs = Company.__tablename__, JobDocument.__tablename__
        await conn.execute(sa.text(f"SET LOCAL lock_timeout = {self.lock_timeout_ms}"))
        # the indexer's order: companies (read by the job handler, written by the company
        # handler) before job_documents; searches read job_documents only
        await conn.execute(sa.text(f"LOCK TABLE {companies} IN ACCESS EXCLUSIVE MODE"))
        await conn.execute(sa.text(f"LOCK TABLE {jobs} IN EXCLUSIVE MODE"))
        changed_companies = await self._carry_companies(conn)
        carried_jobs = await self._carry_jobs(conn, since)
        refresh = changed_companies | {company_id for _, company_id in carried_jobs if company_id}
        await self._put_companies_on_postings(conn, refresh)
        for pair in pairs:
            await conn.execute(sa.text(f"DROP TABLE {pair.live}"))
            await conn.execute(sa.text(f"ALTER TABLE {pair.shadow} RENAME TO {pair.live}"))
            for index in pair.indexes:
                if index.primary:
                    rename = f"RENAME CONSTRAINT {index.shadow_name} TO {index.live_name}"
                    await conn.execute(sa.text(f"ALTER TABLE {pair.live} {rename}"))
                else:
                    await conn.execute(
                        sa.text(f"ALTER INDEX {index.shadow_name} RENAME TO {index.live_name}")
                    )
        return len(carried_jobs), len(changed_companies)

    async def _carry_companies(self, conn: AsyncConnection) -> set[uuid.UUID]:
        """Companies whose live row is newer than the export's (or that the export did
        not have): their ``company.updated`` arrived during the rebuild."""
        live, shadow = Company.__table__, self.companies_shadow
        columns = [c.name for c in live.columns]
        stmt = insert(shadow).from_select(columns, sa.select(*live.columns))
        stmt = stmt.on_conflict_do_update(
            index_elements=[shadow.c.company_id],
            set_={name: stmt.excluded[name] for name in columns if name != "company_id"},
            where=shadow.c.version < stmt.excluded.version,
        ).returning(shadow.c.company_id)
        return set((await conn.execute(stmt)).scalars())

    async def _carry_jobs(
        self, conn: AsyncConnection, since: datetime
    ) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
        """Postings whose live row is newer than the export's, and postings the export
        did not have that were indexed after the rebuild started."""
        live, shadow = JobDocument.__table__, self.jobs_shadow
        columns = [c.name for c in live.columns if c.computed is None]
        held = shadow.alias("held")
        changed = (
            sa.select(*(live.c[name] for name in columns))
            .select_from(live.outerjoin(held, held.c.job_id == live.c.job_id))
            .where(
                sa.or_(
                    held.c.version < live.c.version,
                    sa.and_(held.c.job_id.is_(None), live.c.indexed_at >= since),
                )
            )
        )
        stmt = insert(shadow).from_select(columns, changed)
        stmt = stmt.on_conflict_do_update(
            index_elements=[shadow.c.job_id],
            set_={name: stmt.excluded[name] for name in columns if name != "job_id"},
            where=shadow.c.version < stmt.excluded.version,
        ).returning(shadow.c.job_id, shadow.c.company_id)
        return [(row.job_id, row.company_id) for row in await conn.execute(stmt)]

    async def _put_companies_on_postings(self, conn: AsyncConnection, company_ids: set[uuid.UUID]) -> None:
        """What ``company.updated`` does to the postings of a company, in the shadow."""
        if not company_ids:
            return
        docs, companies = self.jobs_shadow, self.companies_shadow
        await conn.execute(
            sa.update(docs)
            .where(docs.c.company_id == companies.c.company_id, companies.c.company_id.in_(company_ids))
            .values(
                company_name=companies.c.name,
                company_size=companies.c.size,
                company_verified=companies.c.verified,
                indexed_at=datetime.now(UTC),
            )
        )


async def _indexes_of(session: AsyncSession, live: str, shadow: str) -> list[_Index]:
    rows = await session.execute(
        sa.text(
            "SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition, "
            "x.indisprimary AS primary, "
            "EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) AS constrained "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = CAST(:table AS regclass) ORDER BY i.relname"
        ),
        {"table": live},
    )
    indexes = []
    for number, row in enumerate(rows):
        if row.constrained and not row.primary:
            raise RebuildError(f"{live}: index {row.name} backs a constraint other than the primary key")
        match = _INDEX_DEF.match(row.definition)
        if match is None:
            raise RebuildError(f"{live}: cannot read the definition of index {row.name}")
        create, _, on, table, rest = match.groups()
        schema = table.rpartition(".")[0]
        shadow_name = f"{shadow}_{number}"
        create_sql = f"{create}{shadow_name}{on}{f'{schema}.' if schema else ''}{shadow}{rest}"
        indexes.append(_Index(row.name, shadow_name, create_sql, bool(row.primary)))
    return indexes


async def _create_index(session: AsyncSession, pair: _Pair, index: _Index) -> None:
    await session.execute(sa.text(index.create_sql))
    if index.primary:
        name = index.shadow_name
        await session.execute(
            sa.text(f"ALTER TABLE {pair.shadow} ADD CONSTRAINT {name} PRIMARY KEY USING INDEX {name}")
        )


def _upsert(table: sa.Table, key: str, sample: dict[str, Any]) -> Any:
    """Insert, or replace an older version of the same key (a stream may repeat one)."""
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c[key]],
        set_={name: stmt.excluded[name] for name in sample if name != key},
        where=table.c.version < stmt.excluded.version,
    )


def _newest(rows: Iterable[dict[str, Any]], *, key: str) -> list[dict[str, Any]]:
    """One row per key, the highest version (one statement may not touch a row twice)."""
    newest: dict[Any, dict[str, Any]] = {}
    for row in rows:
        held = newest.get(row[key])
        if held is None or held["version"] < row["version"]:
            newest[row[key]] = row
    return list(newest.values())


async def _batches(items: AsyncIterator[Item], size: int) -> AsyncIterator[list[Item]]:
    batch: list[Item] = []
    async for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _is_lock_timeout(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "55P03" or "lock timeout" in str(exc.orig)


# ---------------------------------------------------------------- OpenSearch


async def rebuild_opensearch(backend: OpenSearchBackend, source: ExportSource) -> RebuildResult:
    """Companies first (so every loaded posting gets its company's profile), then a new
    versioned index behind the alias."""
    started = time.monotonic()
    companies = 0
    async for company in source.companies():
        await backend.company_updated(company)
        companies += 1
    jobs = 0

    async def counted() -> AsyncIterator[JobPostingSnapshot]:
        nonlocal jobs
        async for job in source.jobs():
            jobs += 1
            yield job

    await backend.rebuild(counted())
    return RebuildResult(
        backend="opensearch",
        jobs=jobs,
        companies=companies,
        caught_up_jobs=0,
        caught_up_companies=0,
        seconds=time.monotonic() - started,
    )


# ---------------------------------------------------------------- the command


async def rebuild(settings: SearchSettings, source: ExportSource) -> RebuildResult:
    """Rebuilds the configured backend's index from ``source``, then invalidates the
    service's result cache (same Redis, same prefix)."""
    cache = SearchCache.from_url(
        settings.redis_url, ttl_seconds=settings.search_cache_ttl_seconds, prefix=settings.search_cache_prefix
    )
    try:
        if settings.search_backend == "opensearch":
            backend = OpenSearchBackend.from_url(
                settings.opensearch_url or "http://127.0.0.1:9200",
                prefix=settings.opensearch_index_prefix,
                companies=settings.opensearch_companies_index,
            )
            try:
                await backend.ensure_ready()
                result = await rebuild_opensearch(backend, source)
            finally:
                await backend.aclose()
        else:
            db = Database(settings.database_url, pool_size=2)
            try:
                result = await PostgresRebuild(db).run(source)
            finally:
                await db.dispose()
        await cache.invalidate()
    finally:
        await cache.aclose()
    return result


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs-url",
        required=True,
        help="the jobs service (http://jobs:8002) or the gateway (https://api.example), up to the host",
    )
    parser.add_argument("--page-size", type=int, default=500, help="postings per export page (at most 1000)")


async def rebuild_command(args: argparse.Namespace, settings: SearchSettings | None = None) -> int:
    """The CLI: the index settings (DATABASE_URL, SEARCH_BACKEND, ...) from the
    environment as the service reads them, the admin token from SEARCH_REBUILD_TOKEN."""
    token = os.environ.get(TOKEN_ENV)
    if not token:
        print(f"rebuild: set {TOKEN_ENV} to an admin access token (the jobs export is admin only).")
        return 2
    settings = settings or get_settings()
    source = JobsExport(args.jobs_url, token, page_size=args.page_size)
    try:
        result = await rebuild(settings, source)
    except RebuildError as exc:
        print(f"rebuild: {exc}; the live index is unchanged.")
        return 1
    finally:
        await source.aclose()
    print(result.summary())
    return 0
