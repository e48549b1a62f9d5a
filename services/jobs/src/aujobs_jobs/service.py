"""Job-posting use cases. Every state change bumps ``version`` and writes the full
posting to the outbox in the caller's transaction (DESIGN.md §3)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.errors import FieldError, ProblemError
from aujobs_common.events import (
    JobClosed,
    JobLocation,
    JobPostingSnapshot,
    JobPublished,
    JobStatus,
    JobUpdated,
    SalaryRange,
)
from aujobs_common.ids import uuid7
from aujobs_common.outbox import enqueue
from aujobs_common.pagination import PageParams, encode_cursor
from aujobs_common.reference import is_classification
from aujobs_common.security import Principal

from .locations import resolve_location
from .models import JobPosting
from .schemas import JobCreate, JobOut, JobUpdate, LocationIn, LocationOut, SalaryIn, SalaryOut

SOURCE = "/services/jobs"


def _resolve_location(location: LocationIn, job: JobPosting) -> None:
    found = resolve_location(location)
    job.suburb, job.state, job.postcode = found.suburb, found.state, found.postcode
    job.latitude, job.longitude = found.latitude, found.longitude


def _apply_salary(salary: SalaryIn | None, job: JobPosting) -> None:
    if salary is None:
        job.salary_min_cents = job.salary_max_cents = job.salary_period = None
    else:
        job.salary_min_cents = salary.minimum_cents
        job.salary_max_cents = salary.maximum_cents
        job.salary_currency = salary.currency
        job.salary_period = salary.period.value


def to_out(job: JobPosting) -> JobOut:
    salary = None
    if job.salary_min_cents is not None and job.salary_max_cents is not None:
        salary = SalaryOut(
            minimum_cents=job.salary_min_cents,
            maximum_cents=job.salary_max_cents,
            currency=job.salary_currency,
            period=job.salary_period or "annual",
        )
    return JobOut(
        id=job.id,
        owner_id=job.owner_id,
        company_name=job.company_name,
        title=job.title,
        description=job.description,
        location=LocationOut(
            suburb=job.suburb,
            state=job.state,
            postcode=job.postcode,
            latitude=job.latitude,
            longitude=job.longitude,
        ),
        salary=salary,
        work_type=job.work_type,
        classification=job.classification,
        sub_classification=job.sub_classification,
        status=job.status,
        version=job.version,
        created_at=job.created_at,
        updated_at=job.updated_at,
        published_at=job.published_at,
        closed_at=job.closed_at,
    )


def snapshot(job: JobPosting, event: type[JobPostingSnapshot]) -> JobPostingSnapshot:
    out = to_out(job)
    return event(
        job_id=job.id,
        version=job.version,
        owner_id=job.owner_id,
        company_name=job.company_name,
        title=job.title,
        description=job.description,
        location=JobLocation(**out.location.model_dump()),
        salary=SalaryRange(**out.salary.model_dump()) if out.salary else None,
        work_type=job.work_type,
        classification=job.classification,
        sub_classification=job.sub_classification,
        status=job.status,
        created_at=job.created_at,
        updated_at=job.updated_at,
        published_at=job.published_at,
        closed_at=job.closed_at,
    )


async def _emit(session: AsyncSession, job: JobPosting, event: type[JobPostingSnapshot]) -> None:
    await enqueue(session, snapshot(job, event).to_event(source=SOURCE, subject=str(job.id)))


async def create_job(
    *, session: AsyncSession, owner: Principal, data: JobCreate, now: datetime | None = None
) -> JobPosting:
    now = now or datetime.now(UTC)
    job = JobPosting(
        id=uuid7(),
        owner_id=owner.user_id,
        company_name=data.company_name,
        title=data.title.strip(),
        description=data.description.strip(),
        work_type=data.work_type.value,
        classification=data.classification,
        sub_classification=data.sub_classification,
        status=JobStatus.draft.value,
        version=1,
        created_at=now,
        updated_at=now,
    )
    _resolve_location(data.location, job)
    _apply_salary(data.salary, job)
    session.add(job)
    await session.flush()
    return job


def _not_found() -> ProblemError:
    return ProblemError(404, "No such job.", type_="job-not-found")


async def get_visible_job(
    *, session: AsyncSession, job_id: uuid.UUID, principal: Principal | None
) -> JobPosting:
    """Active and closed postings are public; drafts only to their owner and admins
    (others get 404, so a draft's existence is not revealed)."""
    job = await session.get(JobPosting, job_id)
    if job is None:
        raise _not_found()
    if job.status == JobStatus.draft.value and not (
        principal and (principal.user_id == job.owner_id or principal.is_admin)
    ):
        raise _not_found()
    return job


async def get_owned_job(*, session: AsyncSession, job_id: uuid.UUID, principal: Principal) -> JobPosting:
    """The posting, locked for update, when ``principal`` may change it."""
    job = await session.get(JobPosting, job_id, with_for_update=True)
    if job is None:
        raise _not_found()
    if job.owner_id != principal.user_id and not principal.is_admin:
        if job.status == JobStatus.draft.value:
            raise _not_found()
        raise ProblemError(403, "Only the employer who owns this job may change it.", type_="not-job-owner")
    return job


def _touch(job: JobPosting, now: datetime) -> None:
    job.version += 1
    job.updated_at = now


async def update_job(
    *, session: AsyncSession, job: JobPosting, data: JobUpdate, now: datetime | None = None
) -> JobPosting:
    now = now or datetime.now(UTC)
    if job.status in (JobStatus.closed.value, JobStatus.expired.value):
        raise ProblemError(409, f"A {job.status} job cannot be changed.", type_="job-not-editable")
    sent = data.model_dump(exclude_unset=True)
    for name in ("title", "description", "company_name", "sub_classification"):
        if name in sent:
            value = sent[name]
            setattr(job, name, value.strip() if isinstance(value, str) else value)
    if data.work_type is not None:
        job.work_type = data.work_type.value
    if data.classification is not None:
        job.classification = data.classification
    if not is_classification(job.classification, job.sub_classification):
        raise ProblemError(
            422,
            "classification/sub_classification is not a known pair.",
            type_="unknown-classification",
            errors=[FieldError(field="classification", message="unknown classification")],
        )
    if data.location is not None:
        _resolve_location(data.location, job)
    if "salary" in sent:
        _apply_salary(data.salary, job)
    _touch(job, now)
    if job.status == JobStatus.active.value:
        await _emit(session, job, JobUpdated)
    return job


async def publish_job(*, session: AsyncSession, job: JobPosting, now: datetime | None = None) -> JobPosting:
    now = now or datetime.now(UTC)
    if job.status != JobStatus.draft.value:
        raise ProblemError(
            409, f"Only a draft can be published; this job is {job.status}.", type_="invalid-transition"
        )
    job.status = JobStatus.active.value
    job.published_at = now
    _touch(job, now)
    await _emit(session, job, JobPublished)
    return job


async def close_job(*, session: AsyncSession, job: JobPosting, now: datetime | None = None) -> JobPosting:
    now = now or datetime.now(UTC)
    if job.status != JobStatus.active.value:
        raise ProblemError(
            409, f"Only an active job can be closed; this job is {job.status}.", type_="invalid-transition"
        )
    job.status = JobStatus.closed.value
    job.closed_at = now
    _touch(job, now)
    await _emit(session, job, JobClosed)
    return job


async def list_jobs(
    *, session: AsyncSession, page: PageParams, owner: Principal | None = None
) -> tuple[list[JobPosting], str | None]:
    """Active jobs, newest first; or, with ``owner``, every job of that owner.
    Keyset pagination on (timestamp, id) for a stable order."""
    if owner is not None:
        order_col = JobPosting.created_at
        query = sa.select(JobPosting).where(JobPosting.owner_id == owner.user_id)
    else:
        order_col = JobPosting.published_at
        query = sa.select(JobPosting).where(JobPosting.status == JobStatus.active.value)
    if page.cursor:
        try:
            after_ts = datetime.fromisoformat(page.cursor["t"])
            after_id = uuid.UUID(page.cursor["id"])
        except (KeyError, ValueError, TypeError) as exc:
            raise ProblemError(400, "The cursor is not valid.", type_="invalid-cursor") from exc
        query = query.where(
            sa.tuple_(order_col, JobPosting.id) < sa.tuple_(sa.literal(after_ts), sa.literal(after_id))
        )
    query = query.order_by(order_col.desc(), JobPosting.id.desc()).limit(page.limit + 1)
    rows = list((await session.scalars(query)).all())
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        last = rows[-1]
        ts = last.created_at if owner is not None else last.published_at
        next_cursor = encode_cursor({"t": ts.isoformat(), "id": str(last.id)})
    return rows, next_cursor
