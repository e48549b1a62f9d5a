"""The service's own read model of jobs (DESIGN.md §1: a service never reads another
one's database): fed by the jobs service's snapshot events, it holds what a review
against a job needs. The inbox makes a redelivery a no-op; the version guard drops a
snapshot older than the one held (events may arrive out of order)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.app import Subscription
from aujobs_common.errors import ProblemError
from aujobs_common.events import JOB_SNAPSHOT_EVENTS, CloudEvent, JobPostingSnapshot, JobStatus

from .models import JobView
from .review import JobContext

JOB_EVENTS = [e.event_type for e in JOB_SNAPSHOT_EVENTS]
_SNAPSHOT_TYPES = frozenset(JOB_EVENTS)
#: a job a job seeker may review against: one that is or was publicly listed
REVIEWABLE = frozenset({JobStatus.active.value, JobStatus.closed.value, JobStatus.expired.value})


async def apply_job_event(session: AsyncSession, event: CloudEvent) -> bool:
    """Upserts the job unless a newer version is held; whether the view changed."""
    if event.type not in _SNAPSHOT_TYPES:
        return False
    job = JobPostingSnapshot.model_validate(event.data)
    values = {
        "job_id": job.job_id,
        "version": job.version,
        "title": job.title,
        "skills": list(job.skills),
        "description_text": job.description_text,
        "status": job.status.value,
        "updated_at": job.updated_at,
    }
    stmt = insert(JobView).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[JobView.job_id],
        set_={k: stmt.excluded[k] for k in values if k != "job_id"},
        where=JobView.version < stmt.excluded.version,
    ).returning(JobView.job_id)
    return (await session.execute(stmt)).first() is not None


async def handle_job_event(session: AsyncSession, event: CloudEvent) -> None:
    await apply_job_event(session, event)


SUBSCRIPTION = Subscription(patterns=JOB_EVENTS, handler=handle_job_event, name="resumes.jobs")


async def job_context(*, session: AsyncSession, job_id: uuid.UUID) -> JobContext:
    """The job to review against; 404 ``job-not-found`` for a job never listed publicly
    (drafts and postings in moderation are not shown to job seekers)."""
    row = await session.scalar(sa.select(JobView).where(JobView.job_id == job_id))
    if row is None or row.status not in REVIEWABLE:
        raise ProblemError(404, "There is no such job.", type_="job-not-found")
    return JobContext(title=row.title, skills=list(row.skills or []), description_text=row.description_text)
