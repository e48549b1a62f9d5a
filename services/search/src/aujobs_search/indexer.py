"""Feeds the index from job and company events, idempotently: the inbox drops
redeliveries, and the version guards drop events older than what the index holds
(per posting for job snapshots, per company for ``company.updated``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.events import (
    JOB_SNAPSHOT_EVENTS,
    CloudEvent,
    CompanyUpdated,
    JobLocation,
    JobPostingSnapshot,
    SalaryPeriod,
    SalaryRange,
)
from aujobs_common.reference import find_locality, localities_for_postcode
from aujobs_common.skills import skill_key

from .models import Company, JobDocument

JOB_EVENTS = ["au.jobs.job.*.v1"]
COMPANY_EVENTS = [CompanyUpdated.event_type]
_SNAPSHOT_TYPES = frozenset(e.event_type for e in JOB_SNAPSHOT_EVENTS)

# The jobs service's annualisation rule (38 h x 52 weeks, 5 days x 52 weeks, ...), used
# only when a snapshot from an older producer lacks the annual figures.
_PERIODS_PER_YEAR = {
    SalaryPeriod.hourly: 1976,
    SalaryPeriod.daily: 260,
    SalaryPeriod.weekly: 52,
    SalaryPeriod.monthly: 12,
    SalaryPeriod.annual: 1,
}
# The snippet marks are sentinels in SQL (see pg_backend); the text must not hold them.
_SENTINELS = re.compile("[\x02\x03]")


def benefit_key(text: str) -> str:
    """Benefits are free text; they are compared case- and spacing-insensitively."""
    return " ".join(text.split()).casefold()


async def index_job_event(session: AsyncSession, event: CloudEvent) -> bool:
    """Applies a job snapshot; whether the index changed (False for an older version or
    an event that carries no posting)."""
    if event.type not in _SNAPSHOT_TYPES:
        return False  # e.g. job.expiry_reminder: meant for the owner, not the index
    job = JobPostingSnapshot.model_validate(event.data)
    values = await _document_values(session, job)
    stmt = insert(JobDocument).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[JobDocument.job_id],
        set_={k: stmt.excluded[k] for k in values if k != "job_id"},
        where=JobDocument.version < stmt.excluded.version,
    ).returning(JobDocument.job_id)
    return (await session.execute(stmt)).first() is not None


async def index_company_event(session: AsyncSession, event: CloudEvent) -> bool:
    """Keeps the companies table and puts the company's name, size and verified flag on
    every document of that company, unless a newer company version is already held.
    Whether the index changed."""
    if event.type != CompanyUpdated.event_type:
        return False
    company = CompanyUpdated.model_validate(event.data)
    values = company_values(company)
    stmt = insert(Company).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Company.company_id],
        set_={k: stmt.excluded[k] for k in values if k != "company_id"},
        where=Company.version < stmt.excluded.version,
    ).returning(Company.company_id)
    if (await session.execute(stmt)).first() is None:
        return False  # an older (or the same) company version: nothing changes
    await session.execute(
        sa.update(JobDocument)
        .where(JobDocument.company_id == company.company_id)
        .values(
            company_name=company.name,
            company_size=values["size"],
            company_verified=company.verified,
            indexed_at=datetime.now(UTC),
        )
    )
    return True


def company_values(company: CompanyUpdated) -> dict[str, Any]:
    """The ``companies`` row of a company profile (the event indexer and the rebuild)."""
    return {
        "company_id": company.company_id,
        "version": company.version,
        "name": company.name,
        "size": company.size.value if company.size else None,
        "verified": company.verified,
        "updated_at": company.updated_at,
    }


async def _document_values(session: AsyncSession, job: JobPostingSnapshot) -> dict[str, Any]:
    company = await session.get(Company, job.company_id) if job.company_id is not None else None
    return document_values(job, company)


def document_values(job: JobPostingSnapshot, company: Company | None) -> dict[str, Any]:
    """The ``job_documents`` row of a posting (the event indexer and the rebuild both
    write it). ``company``: the posting's row of the companies table, if held."""
    company_name, company_size, company_verified = job.company_name, None, job.company_verified
    if company is not None:
        # The company events are the authority on the company (a snapshot may carry a
        # name from before a rename that was already indexed).
        company_name, company_size, company_verified = company.name, company.size, company.verified
    latitude, longitude = coordinates(job.location)
    annual_min, annual_max = _annual(job.salary)
    salary = job.salary
    skills = [s.strip() for s in job.skills if s.strip()]
    return {
        "job_id": job.job_id,
        "version": job.version,
        "status": job.status.value,
        "title": job.title,
        "description_text": _SENTINELS.sub(" ", job.description_text or job.description),
        "company_id": job.company_id,
        "company_name": company_name,
        "company_size": company_size,
        "company_verified": company_verified,
        "classification": job.classification,
        "sub_classification": job.sub_classification,
        "work_type": job.work_type.value,
        "work_arrangement": job.work_arrangement.value,
        "skills": skills,
        "skills_text": " ".join(skills),
        "skill_keys": sorted({skill_key(s) for s in skills} - {""}),
        "benefits": job.benefits,
        "benefit_keys": sorted({benefit_key(b) for b in job.benefits} - {""}),
        "suburb": job.location.suburb,
        "state": job.location.state,
        "postcode": job.location.postcode,
        "latitude": latitude,
        "longitude": longitude,
        "salary_min_cents": salary.minimum_cents if salary else None,
        "salary_max_cents": salary.maximum_cents if salary else None,
        "salary_period": salary.period.value if salary else None,
        "salary_annual_min_cents": annual_min,
        "salary_annual_max_cents": annual_max,
        "featured_from": job.featured_from,
        "featured_until": job.featured_until,
        "published_at": job.published_at,
        "expires_at": job.expires_at,
        "closing_date": job.closing_date,
        "updated_at": job.updated_at,
        "indexed_at": datetime.now(UTC),
    }


def coordinates(location: JobLocation) -> tuple[float | None, float | None]:
    """The posting's own coordinates, else its locality's from the postcode data, so
    radius search finds postings whose producer sent none."""
    if location.latitude is not None and location.longitude is not None:
        return location.latitude, location.longitude
    known = find_locality(location.suburb, location.state, location.postcode) or find_locality(
        location.suburb, location.state
    )
    if known is None:
        in_postcode = localities_for_postcode(location.postcode)
        known = in_postcode[0] if in_postcode else None
    return (known.latitude, known.longitude) if known else (None, None)


def _annual(salary: SalaryRange | None) -> tuple[int | None, int | None]:
    if salary is None:
        return None, None
    if salary.annual_minimum_cents is not None and salary.annual_maximum_cents is not None:
        return salary.annual_minimum_cents, salary.annual_maximum_cents
    per_year = _PERIODS_PER_YEAR[salary.period]
    return salary.minimum_cents * per_year, salary.maximum_cents * per_year
