"""Feeds the index from job events, idempotently: the inbox drops redeliveries, and
the version guard drops events older than what the index holds."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.events import CloudEvent, JobPostingSnapshot

from .models import JobDocument

JOB_EVENTS = ["au.jobs.job.*.v1"]


async def index_job_event(session: AsyncSession, event: CloudEvent) -> None:
    job = JobPostingSnapshot.model_validate(event.data)
    salary = job.salary
    values = {
        "job_id": job.job_id,
        "version": job.version,
        "status": job.status.value,
        "title": job.title,
        "description": job.description,
        "company_name": job.company_name,
        "classification": job.classification,
        "sub_classification": job.sub_classification,
        "work_type": job.work_type.value,
        "suburb": job.location.suburb,
        "state": job.location.state,
        "postcode": job.location.postcode,
        "latitude": job.location.latitude,
        "longitude": job.location.longitude,
        "salary_min_cents": salary.minimum_cents if salary else None,
        "salary_max_cents": salary.maximum_cents if salary else None,
        "salary_period": salary.period.value if salary else None,
        "published_at": job.published_at,
        "updated_at": job.updated_at,
        "indexed_at": datetime.now(UTC),
    }
    stmt = insert(JobDocument).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[JobDocument.job_id],
        set_={k: stmt.excluded[k] for k in values if k != "job_id"},
        where=JobDocument.version < stmt.excluded.version,
    )
    await session.execute(stmt)
