"""Rebuilding the PostgreSQL index from scratch while the service runs: the same answers
as the event-fed index, stale and stray rows fixed, nothing indexed meanwhile lost,
searches answered throughout, and the export read over HTTP from the jobs service."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from aujobs_common.db import Database
from aujobs_common.events import (
    CompanySize,
    CompanyUpdated,
    JobClosed,
    JobPostingSnapshot,
    JobStatus,
    JobUpdated,
    WorkArrangement,
    WorkType,
)
from aujobs_search.cache import SearchCache
from aujobs_search.rebuild import JobsExport, PostgresRebuild, RebuildError, rebuild, rebuild_command
from aujobs_search.settings import SearchSettings

from .search_support import SEARCH, company, hits, ids, pay, place, posting, publish, started_search

Hook = Callable[[], Awaitable[None]]


class FakeExport:
    """An export source from lists. ``each_job`` runs before each posting is handed over
    (the shadow is being filled); ``after_jobs`` once the last one is (the new index is
    built but not yet swapped in)."""

    def __init__(
        self,
        jobs: list[JobPostingSnapshot],
        companies: list[CompanyUpdated] = (),  # type: ignore[assignment]
        *,
        each_job: Hook | None = None,
        after_jobs: Hook | None = None,
    ) -> None:
        self._jobs, self._companies = list(jobs), list(companies)
        self._each_job, self._after_jobs = each_job, after_jobs

    async def companies(self) -> AsyncIterator[CompanyUpdated]:
        for item in self._companies:
            yield item

    async def jobs(self) -> AsyncIterator[JobPostingSnapshot]:
        for item in self._jobs:
            if self._each_job is not None:
                await self._each_job()
            yield item
        if self._after_jobs is not None:
            await self._after_jobs()


@pytest.fixture
async def search(fresh_database_url):
    async with started_search(fresh_database_url) as client:
        client.database_url = fresh_database_url  # type: ignore[attr-defined]
        yield client


@pytest.fixture
async def db(search):
    database = Database(search.database_url, pool_size=2)
    yield database
    await database.dispose()


def snapshot(job: JobPostingSnapshot) -> JobPostingSnapshot:
    """The export carries plain snapshots, not the event subclasses."""
    return JobPostingSnapshot.model_validate(job.model_dump())


def comparable(found: dict[str, Any]) -> dict[str, Any]:
    """A results page without what differs from one request to the next."""
    items = [{k: v for k, v in hit.items() if k != "score"} for hit in found["items"]]
    return {**{k: v for k, v in found.items() if k not in ("query_id", "items")}, "items": items}


QUERIES: list[dict[str, Any]] = [
    {},
    {"q": "nurse"},
    {"q": "software engineer"},
    {"q": "nurze"},  # the typo fallback
    {"q": "bright logistics"},  # the renamed company's new name
    {"company_size": "51-200"},
    {"location": "Sydney", "sort": "distance"},
    {"sort": "salary"},
    {"sort": "date", "limit": 2},
    {"salary_min": 95_000},
    {"skills": "Python"},
    {"work_arrangement": "remote"},
    {"state": "VIC"},
]


def corpus() -> tuple[list[Any], list[JobPostingSnapshot], list[CompanyUpdated]]:
    """The events in the order the service saw them, and the truth they lead to: the
    newest snapshot of every posting and the newest profile of every company."""
    logistics, health = uuid.uuid4(), uuid.uuid4()
    nurse = posting(title="Registered Nurse", company_id=health, company_name="Southern Cross Health")
    icu = posting(
        title="ICU Nurse",
        company_id=health,
        company_name="Southern Cross Health",
        days_ago=3,
        salary=pay(95_000, 110_000),
    )
    engineer = posting(
        title="Senior Software Engineer",
        company_name="Koala Tech",
        classification="Information & Communication Technology",
        skills=["Python", "PostgreSQL"],
        work_arrangement=WorkArrangement.remote,
        location=place("Sydney", "NSW", "2000"),
        salary=pay(150_000, 180_000),
        days_ago=1,
    )
    store = posting(
        title="Storeperson",
        company_id=logistics,
        company_name="Old Freight Pty Ltd",
        classification="Manufacturing, Transport & Logistics",
        work_type=WorkType.casual_vacation,
        location=place("Parramatta", "NSW", "2150"),
        salary=pay(30, 35, "hourly"),
    )
    driver_v2 = posting(
        title="Truck Driver",
        company_id=logistics,
        company_name="Old Freight Pty Ltd",
        location=place("Geelong", "VIC"),
    )
    driver_v3 = posting(
        JobUpdated,
        job_id=driver_v2.job_id,
        version=3,
        title="Heavy Rigid Truck Driver",
        company_id=logistics,
        company_name="Old Freight Pty Ltd",
        location=place("Geelong", "VIC"),
    )
    closed = posting(JobClosed, title="Night Nurse", company_id=health, status=JobStatus.closed, version=4)
    companies = [
        company(health, version=2, name="Southern Cross Health", size=CompanySize.large, verified=True),
        company(logistics, version=1, name="Old Freight Pty Ltd"),
        company(logistics, version=2, name="Bright Logistics", size=CompanySize.medium, verified=True),
    ]
    events = [
        nurse,
        icu,
        engineer,
        store,
        driver_v2,
        companies[0],
        companies[1],
        driver_v3,
        closed,
        companies[2],
    ]
    truth = [snapshot(j) for j in (nurse, icu, engineer, store, driver_v3, closed)]
    return events, truth, [companies[0], companies[2]]


async def answers(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return [comparable(await hits(client, **query)) for query in QUERIES]


async def index_names(db: Database) -> set[tuple[str, str]]:
    async with db.session() as session:
        rows = await session.execute(
            sa.text(
                "SELECT tablename, indexname FROM pg_indexes "
                "WHERE tablename IN ('job_documents', 'companies') AND schemaname = current_schema()"
            )
        )
        return {(row.tablename, row.indexname) for row in rows}


async def test_a_rebuilt_index_answers_exactly_as_the_event_fed_one(search, db, database_factory):
    events, truth, companies = corpus()
    await publish(search, *events)
    expected = await answers(search)
    assert expected[1]["total"] == 2 and expected[4]["total"] == 2  # the corpus means something

    # a second search service whose index never saw an event: built by the rebuild alone
    rebuilt_url = await database_factory("rebuilt")
    async with started_search(rebuilt_url) as rebuilt:
        other = Database(rebuilt_url, pool_size=2)
        try:
            assert (await hits(rebuilt))["total"] == 0
            result = await PostgresRebuild(other, batch_size=4).run(FakeExport(truth, companies))
        finally:
            await other.dispose()
        assert (result.jobs, result.companies) == (6, 2)
        assert await answers(rebuilt) == expected
        suggest = {"q": "nur"}
        assert (await rebuilt.get("/api/v1/search/suggest", params=suggest)).json() == (
            await search.get("/api/v1/search/suggest", params=suggest)
        ).json()


async def test_stale_missing_and_stray_rows_are_fixed_and_the_indexes_keep_their_names(search, db):
    acme = uuid.uuid4()
    stale = posting(title="Junior Baker", company_id=acme, company_name="Acme Bakery")
    stray = posting(title="Phantom Plumber")
    await publish(search, stale, stray, company(acme, version=1, name="Acme Bakery"))
    # the stray posting is not in the source any more, and was indexed long ago
    async with db.transaction() as session:
        await session.execute(
            sa.text("UPDATE job_documents SET indexed_at = :t WHERE job_id = :id"),
            {"t": datetime.now(UTC) - timedelta(days=2), "id": stray.job_id},
        )
    names_before = await index_names(db)
    missing = posting(title="Pastry Chef", company_id=acme, company_name="Acme Bakery")
    fresh = posting(JobUpdated, job_id=stale.job_id, version=3, title="Head Baker", company_id=acme)

    result = await PostgresRebuild(db).run(
        FakeExport(
            [snapshot(fresh), snapshot(missing)],
            [company(acme, version=2, name="Acme Bread Co", size=CompanySize.small)],
        )
    )

    assert (result.jobs, result.companies, result.caught_up_jobs) == (2, 1, 0)
    assert ids(await hits(search, q="head baker")) == [str(stale.job_id)]
    assert ids(await hits(search, q="junior")) == []
    assert ids(await hits(search, q="pastry")) == [str(missing.job_id)]
    assert ids(await hits(search, q="phantom plumber")) == []
    assert set(ids(await hits(search, company_size="11-50"))) == {str(stale.job_id), str(missing.job_id)}
    assert {h["company_name"] for h in (await hits(search))["items"]} == {"Acme Bread Co"}
    # later migrations find the indexes and keys by their names; nothing is left behind
    assert await index_names(db) == names_before
    async with db.session() as session:
        tables = set((await session.execute(sa.text("SELECT tablename FROM pg_tables"))).scalars())
    assert not {t for t in tables if t.endswith("_rebuild")}
    # the event indexer goes on writing the new table, version guard included
    await publish(search, posting(JobUpdated, job_id=stale.job_id, version=2, title="Ancient Title"))
    assert ids(await hits(search, q="ancient")) == []
    await publish(
        search, posting(JobUpdated, job_id=stale.job_id, version=4, title="Master Baker", company_id=acme)
    )
    found = (await hits(search, q="master baker"))["items"]
    assert [h["company_name"] for h in found] == ["Acme Bread Co"]


async def test_events_indexed_while_the_rebuild_runs_are_not_lost(search, db):
    acme = uuid.uuid4()
    exported = posting(title="Barista", company_id=acme, company_name="Acme Cafe", version=2)
    untouched = posting(title="Kitchen Hand", version=2)
    await publish(search, exported, untouched, company(acme, version=1, name="Acme Cafe"))
    created_meanwhile = posting(title="Sommelier", version=1)

    async def events_meanwhile() -> None:
        # the export already handed over version 2 and the company's version 1
        await publish(
            search,
            posting(JobUpdated, job_id=exported.job_id, version=3, title="Head Barista", company_id=acme),
            created_meanwhile,
            company(acme, version=2, name="Acme Coffee Roasters", size=CompanySize.small),
        )

    result = await PostgresRebuild(db).run(
        FakeExport(
            [snapshot(exported), snapshot(untouched)],
            [company(acme, version=1, name="Acme Cafe")],
            after_jobs=events_meanwhile,
        )
    )

    assert (result.caught_up_jobs, result.caught_up_companies) == (2, 1)
    assert ids(await hits(search, q="head barista")) == [str(exported.job_id)]
    assert ids(await hits(search, q="sommelier")) == [str(created_meanwhile.job_id)]
    assert ids(await hits(search, q="kitchen hand")) == [str(untouched.job_id)]
    hit = (await hits(search, q="barista"))["items"][0]
    assert hit["company_name"] == "Acme Coffee Roasters"
    assert ids(await hits(search, company_size="11-50")) == [str(exported.job_id)]


async def test_an_old_event_arriving_meanwhile_does_not_undo_the_export(search, db):
    job = posting(title="Electrician", version=2)
    await publish(search, job)
    newer = posting(JobUpdated, job_id=job.job_id, version=5, title="Senior Electrician")

    async def redelivered() -> None:
        await publish(
            search, posting(JobUpdated, job_id=job.job_id, version=3, title="Apprentice Electrician")
        )

    result = await PostgresRebuild(db).run(FakeExport([snapshot(newer)], after_jobs=redelivered))

    assert result.caught_up_jobs == 0
    assert [h["title"] for h in (await hits(search, q="electrician"))["items"]] == ["Senior Electrician"]


async def test_searches_keep_answering_while_the_index_is_rebuilt(search, db):
    old = posting(title="Landscape Gardener")
    await publish(search, old)
    new = [snapshot(posting(title=f"Arborist {n}")) for n in range(12)]
    during: list[list[str]] = []

    async def search_while_filling() -> None:
        during.append(ids(await hits(search, q="gardener")))

    answered: list[int] = []
    done = asyncio.Event()

    async def keep_searching() -> None:
        while not done.is_set():
            r = await search.get(SEARCH, params={"q": "gardener arborist"})
            answered.append(r.status_code)
            await asyncio.sleep(0)

    searcher = asyncio.create_task(keep_searching())
    try:
        await PostgresRebuild(db, batch_size=3).run(
            FakeExport([snapshot(old), *new], each_job=search_while_filling)
        )
    finally:
        done.set()
        await searcher
    # while the shadow filled, the live index answered as before
    assert during == [[str(old.job_id)]] * 13
    assert len(answered) > 13 and set(answered) == {200}
    assert (await hits(search, q="arborist"))["total"] == 12
    assert ids(await hits(search, q="gardener")) == [str(old.job_id)]


async def test_one_rebuild_at_a_time_and_a_failed_one_leaves_the_live_index(search, db):
    job = posting(title="Carpenter")
    await publish(search, job)
    second: list[BaseException] = []

    async def try_another() -> None:
        try:
            await PostgresRebuild(db).run(FakeExport([]))
        except RebuildError as exc:
            second.append(exc)

    await PostgresRebuild(db).run(FakeExport([snapshot(job)], each_job=try_another))
    assert len(second) == 1 and "another rebuild" in str(second[0])

    async def source_breaks() -> None:
        raise RebuildError("the jobs export answered 503")

    with pytest.raises(RebuildError):
        await PostgresRebuild(db).run(
            FakeExport([snapshot(posting(title="Plasterer"))], after_jobs=source_breaks)
        )
    assert ids(await hits(search, q="carpenter")) == [str(job.job_id)]
    assert (await hits(search, q="plasterer"))["total"] == 0
    # the leftovers are cleared, and the next rebuild works
    await PostgresRebuild(db).run(FakeExport([snapshot(job)]))
    assert ids(await hits(search, q="carpenter")) == [str(job.job_id)]


async def test_the_command_rebuilds_and_invalidates_the_result_cache(search, redis_url):
    job = posting(title="Welder")
    prefix = f"test-rebuild-{uuid.uuid4().hex}"
    settings = SearchSettings(
        database_url=search.database_url, redis_url=redis_url, search_cache_prefix=prefix
    )
    cache = SearchCache.from_url(redis_url, prefix=prefix)  # what the service reads
    await cache.redis.set(cache.generation_key, 7)
    try:
        result = await rebuild(settings, FakeExport([snapshot(job)]))
        assert int(await cache.redis.get(cache.generation_key)) == 8  # every cached answer is stale now
    finally:
        await cache.redis.delete(cache.generation_key)
        await cache.aclose()
    assert result.summary().startswith("rebuild (postgres): 1 postings and 0 companies indexed")
    assert ids(await hits(search, q="welder")) == [str(job.job_id)]


async def test_the_command_needs_a_token(monkeypatch, capsys):
    import argparse

    monkeypatch.delenv("SEARCH_REBUILD_TOKEN", raising=False)
    assert await rebuild_command(argparse.Namespace(jobs_url="http://jobs:8002", page_size=10)) == 2
    assert "SEARCH_REBUILD_TOKEN" in capsys.readouterr().out


# ---------------------------------------------------------------- over HTTP from the jobs service


@pytest.fixture
async def jobs_service(database_factory):
    jobs_app = pytest.importorskip("aujobs_jobs.app")
    from aujobs_common.testing.apps import service_under_test
    from aujobs_common.testing.tokens import TokenFactory
    from aujobs_jobs.settings import JobsSettings

    tokens = TokenFactory()
    settings = JobsSettings(database_url=await database_factory("jobs"), workflow_poll_interval_s=0)
    async with service_under_test(
        jobs_app.create_app, settings, migrations=jobs_app.MIGRATIONS, key_source=tokens.key_source
    ) as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        yield client


async def test_the_export_is_read_page_by_page_from_the_jobs_service(search, db, jobs_service):
    jobs, tokens = jobs_service, jobs_service.tokens
    owner = tokens.headers(uuid.uuid4(), roles=["employer"], email_verified=True)
    admin_token = tokens.token(uuid.uuid4(), roles=["admin"])
    r = await jobs.post(
        "/api/v1/companies", json={"name": "Wattle Builders", "size": "201-500"}, headers=owner
    )
    company_id = r.json()["id"]
    await jobs.post(f"/api/v1/companies/{company_id}/verification-request", headers=owner)
    r = await jobs.post(
        f"/api/v1/companies/{company_id}/verification",
        json={"approve": True},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert r.status_code == 200, r.text
    body = {
        "description": "<p>Build homes across Western Sydney.</p>",
        "location": {"suburb": "Penrith", "state": "NSW", "postcode": "2750"},
        "work_type": "full_time",
        "classification": "Construction",
        "company_id": company_id,
    }
    titles = ["Site Supervisor", "Bricklayer", "Roof Tiler"]
    published = []
    for title in titles:
        r = await jobs.post("/api/v1/jobs", json={**body, "title": title}, headers=owner)
        job_id = r.json()["id"]
        r = await jobs.post(f"/api/v1/jobs/{job_id}/publish", headers=owner)
        assert r.status_code == 200 and r.json()["status"] == "active", r.text
        published.append(job_id)
    await jobs.post(f"/api/v1/jobs/{published[2]}/close", headers=owner)

    refused = JobsExport("http://jobs", tokens.token(uuid.uuid4(), roles=["employer"]), client=jobs)
    with pytest.raises(RebuildError, match="403"):
        await PostgresRebuild(db).run(refused)

    export = JobsExport("http://jobs", admin_token, client=jobs, page_size=2)
    result = await PostgresRebuild(db).run(export)

    assert (result.jobs, result.companies) == (3, 1)
    found = await hits(search, q="bricklayer")
    assert ids(found) == [published[1]]
    assert found["items"][0]["company_name"] == "Wattle Builders" and found["items"][0]["company_verified"]
    assert set(ids(await hits(search, company_size="201-500"))) == set(published[:2])  # the closed one is not


async def test_events_keep_flowing_through_the_swap_and_none_is_lost(search, db):
    job = posting(title="Crane Operator", version=1)
    await publish(search, job)
    published: list[int] = []
    done = asyncio.Event()

    async def keep_updating() -> None:
        version = 1
        while not done.is_set():
            version += 1
            await publish(
                search, posting(JobUpdated, job_id=job.job_id, version=version, title=f"Crane Op v{version}")
            )
            published.append(version)

    updater = asyncio.create_task(keep_updating())
    try:
        await PostgresRebuild(db, batch_size=2).run(
            FakeExport([snapshot(job), *(snapshot(posting(title=f"Rigger {n}")) for n in range(6))])
        )
        await asyncio.sleep(0.1)  # a few more after the swap
    finally:
        done.set()
        await updater
    assert len(published) > 2
    found = (await hits(search, q="crane"))["items"]
    assert [h["title"] for h in found] == [f"Crane Op v{published[-1]}"]
    assert (await hits(search, q="rigger"))["total"] == 6


async def test_the_opensearch_index_is_rebuilt_behind_its_alias():
    from aujobs_search.opensearch_backend import OpenSearchBackend
    from aujobs_search.query import SearchQuery

    from .opensearch_stub import running_stub

    firm = uuid.uuid4()
    jobs = [
        snapshot(posting(title="Data Engineer", company_id=firm, company_name="Old Name")),
        snapshot(posting()),
    ]
    async with running_stub() as stub:
        settings = SearchSettings(search_backend="opensearch", opensearch_url=stub.url)
        result = await rebuild(
            settings,
            FakeExport(jobs, [company(firm, version=3, name="Numbat Analytics", size=CompanySize.small)]),
        )
        assert (result.backend, result.jobs, result.companies) == ("opensearch", 2, 1)
        assert stub.alias_targets("aujobs-jobs") == ["aujobs-jobs-v2"]
        backend = OpenSearchBackend.from_url(stub.url)
        try:
            found = await backend.search(SearchQuery(company_sizes=("11-50",)))
        finally:
            await backend.aclose()
    assert [(h.title, h.company_name) for h in found.items] == [("Data Engineer", "Numbat Analytics")]


async def test_a_stream_that_repeats_a_posting_or_company_keeps_the_newest(search, db):
    firm = uuid.uuid4()
    job_id = uuid.uuid4()
    versions = [posting(job_id=job_id, version=v, title=f"Tiler v{v}", company_id=firm) for v in (2, 5, 3)]
    profiles = [company(firm, version=v, name=f"Firm v{v}") for v in (1, 4, 2)]

    for batch_size in (10, 1):  # inside one batch (on an empty index), then across batches
        await PostgresRebuild(db, batch_size=batch_size).run(
            FakeExport([snapshot(j) for j in versions], profiles)
        )
        assert [(h["title"], h["company_name"]) for h in (await hits(search, q="tiler"))["items"]] == [
            ("Tiler v5", "Firm v4")
        ]
