"""The index fed by job and company events (idempotent, version-guarded), and the
migration that builds it."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from alembic import command

from aujobs_common.events import (
    CompanySize,
    JobExpiryReminder,
    JobLocation,
    JobUpdated,
    SalaryPeriod,
    SalaryRange,
)
from aujobs_common.migrations import alembic_config, upgrade
from aujobs_search.app import MIGRATIONS

from .search_support import company, hits, ids, posting, publish, started_search


@pytest.fixture
async def search(fresh_database_url):
    async with started_search(fresh_database_url) as client:
        yield client


async def test_company_update_renames_the_company_on_its_postings(search):
    company_id = uuid.uuid4()
    job = posting(title="Storeperson", company_id=company_id, company_name="Old Name Pty Ltd")
    await publish(search, job)
    assert ids(await hits(search, q="old name")) == [str(job.job_id)]

    await publish(
        search,
        company(company_id, version=2, name="Bright Logistics", size=CompanySize.medium, verified=True),
    )
    assert ids(await hits(search, q="bright logistics")) == [str(job.job_id)]
    assert ids(await hits(search, q="old name")) == []
    hit = (await hits(search, company="bright logistics"))["items"][0]
    assert hit["company_name"] == "Bright Logistics" and hit["company_verified"] is True
    assert ids(await hits(search, company_size="51-200")) == [str(job.job_id)]
    assert ids(await hits(search, company_size=["1-10", "11-50"])) == []

    # an older company event changes nothing
    await publish(search, company(company_id, version=1, name="Ancient Name"))
    assert ids(await hits(search, company="bright logistics")) == [str(job.job_id)]
    # a posting update carrying the name from before the rename keeps the company's name
    await publish(
        search,
        posting(
            JobUpdated,
            job_id=job.job_id,
            version=3,
            title="Storeperson",
            company_id=company_id,
            company_name="Old Name Pty Ltd",
        ),
    )
    assert ids(await hits(search, company="Bright Logistics")) == [str(job.job_id)]
    # a new posting of the company gets the company's current profile
    second = posting(title="Driver", company_id=company_id, company_name="Old Name Pty Ltd")
    await publish(search, second)
    assert set(ids(await hits(search, company_size="51-200"))) == {str(job.job_id), str(second.job_id)}


async def test_company_events_for_companies_without_postings_are_kept_for_later(search):
    company_id = uuid.uuid4()
    await publish(search, company(company_id, version=4, name="Early Bird Co", size=CompanySize.tiny))
    job = posting(title="Baker", company_id=company_id, company_name="Early Bird")
    await publish(search, job)
    hit = (await hits(search, q="baker"))["items"][0]
    assert hit["company_name"] == "Early Bird Co"
    assert ids(await hits(search, company_size="1-10")) == [str(job.job_id)]


async def test_older_job_event_never_overwrites_newer(search):
    job_id = uuid.uuid4()
    await publish(
        search, posting(JobUpdated, job_id=job_id, version=5, title="Head Chef", skills=["Cooking"])
    )
    await publish(search, posting(job_id=job_id, version=4, title="Sous Chef"))
    assert titles_of(await hits(search)) == ["Head Chef"]
    assert ids(await hits(search, q="sous")) == []


def titles_of(result):
    return [h["title"] for h in result["items"]]


async def test_postings_without_coordinates_or_annual_figures_are_completed(search):
    job = posting(
        title="Truck Driver",
        location=JobLocation(suburb="Westmead", state="NSW", postcode="2145"),
        salary=SalaryRange(minimum_cents=3_000, maximum_cents=3_500, period=SalaryPeriod.hourly),
    )
    await publish(search, job)
    assert ids(await hits(search, location="Parramatta", radius_km=5)) == [str(job.job_id)]
    salary = (await hits(search, salary_min=60_000))["items"][0]["salary"]
    assert salary["annual_minimum_cents"] == 3_000 * 1976 and salary["annual_maximum_cents"] == 3_500 * 1976


async def test_events_that_are_not_snapshots_are_ignored(search):
    job = posting(title="Cleaner")
    await publish(search, job)
    reminder = JobExpiryReminder(
        job_id=job.job_id, owner_id=job.owner_id, title="Other", expires_at=job.updated_at
    )
    await publish(search, reminder)
    assert titles_of(await hits(search)) == ["Cleaner"]


async def test_migration_upgrades_existing_rows_and_downgrades(fresh_database_url):
    """Rows indexed under 0001 keep working after 0002 (plain text, annual salary
    backfilled); 0002 can be undone and redone."""
    dsn = fresh_database_url.replace("+asyncpg", "")
    await asyncio.to_thread(upgrade, MIGRATIONS, fresh_database_url, "0001")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "INSERT INTO job_documents (job_id, version, status, title, description, classification,"
            " work_type, suburb, state, postcode, salary_min_cents, salary_max_cents, salary_period,"
            " updated_at)"
            " VALUES ($1, 1, 'active', 'Welder', 'Weld steel frames', 'Trades & Services', 'full_time',"
            " 'Penrith', 'NSW', '2750', 4000, 4500, 'hourly', now())",
            uuid.uuid4(),
        )
        await asyncio.to_thread(upgrade, MIGRATIONS, fresh_database_url)
        row = await conn.fetchrow(
            "SELECT description_text, salary_annual_min_cents, salary_annual_max_cents,"
            " document @@ websearch_to_tsquery('english', 'frames') AS found FROM job_documents"
        )
        assert dict(row) == {
            "description_text": "Weld steel frames",
            "salary_annual_min_cents": 4000 * 1976,
            "salary_annual_max_cents": 4500 * 1976,
            "found": True,
        }
        config = alembic_config(MIGRATIONS, fresh_database_url)
        await asyncio.to_thread(command.downgrade, config, "0001")
        assert (
            await conn.fetchval("SELECT count(*) FROM job_documents WHERE description = 'Weld steel frames'")
            == 1
        )
        await asyncio.to_thread(upgrade, MIGRATIONS, fresh_database_url)
        assert (
            await conn.fetchval("SELECT count(*) FROM job_documents WHERE document @@ 'weld'::tsquery") == 1
        )
    finally:
        await conn.close()
