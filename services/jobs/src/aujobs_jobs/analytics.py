"""Per-posting analytics (views, apply starts, applications per Australia/Sydney day)
and the company hiring figures derived from them.

* Days are calendar days in Australia/Sydney (AEST/AEDT), whatever the server's zone:
  an event at 23:30 UTC counts for the next Sydney day.
* Counters are upserted with ``x = x + n`` (one row per posting per day) so concurrent
  bumps never lose a count; a bump for an unknown posting is ignored.
* Page views are tallied in memory (:class:`ViewTally`) and written every few seconds in
  one transaction, so showing a posting costs no database write; a process that dies
  loses at most that interval of views (they are a statistic, not a record).
* ``apply_rate`` = applications / views, rounded to 4 places, ``null`` when there were no
  views. It can exceed 1: views by the company's own members are not counted, and an
  application can be sent from a page viewed on an earlier day or from outside.
* Time to fill = the first hire (earliest ``changed_at`` of a status change to
  ``hired`` — robust to out-of-order delivery) - ``published_at``, in days.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.app import Subscription
from aujobs_common.db import Database
from aujobs_common.errors import FieldError, ProblemError
from aujobs_common.events import (
    ApplicationStatus,
    ApplicationStatusChanged,
    ApplicationSubmitted,
    CloudEvent,
)
from aujobs_common.sydney import sydney_day
from aujobs_common.worker import BackgroundWorker

from .analytics_models import JobDailyStats, JobHire
from .models import JobPosting

log = logging.getLogger(__name__)

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
Counter = Literal["views", "apply_starts", "applications"]


async def _bump(
    session: AsyncSession, *, job_id: uuid.UUID, day: date, counter: Counter, amount: int = 1
) -> None:
    """+amount on one counter; INSERT … SELECT so a posting that does not exist is skipped
    instead of failing the caller (an event consumer would otherwise dead-letter)."""
    table = JobDailyStats.__table__
    source = sa.select(
        JobPosting.id,
        sa.literal(day, sa.Date),
        *(sa.literal(amount if name == counter else 0) for name in ("views", "apply_starts", "applications")),
    ).where(JobPosting.id == job_id)
    statement = insert(table).from_select(["job_id", "day", "views", "apply_starts", "applications"], source)
    statement = statement.on_conflict_do_update(
        index_elements=["job_id", "day"], set_={counter: table.c[counter] + amount}
    )
    await session.execute(statement)


class ViewTally(BackgroundWorker):
    """Views of posting pages, counted in memory and written every ``interval`` seconds
    (and on shutdown). A failed write keeps the counts for the next round."""

    task_name = "jobs-view-tally"

    def __init__(self, db: Database, *, interval: float = 5.0) -> None:
        self.db = db
        self.interval = interval
        self._counts: collections.Counter[tuple[uuid.UUID, date]] = collections.Counter()
        self._lock = asyncio.Lock()
        super().__init__()

    def add(self, job_id: uuid.UUID, now: datetime) -> None:
        self._counts[(job_id, sydney_day(now))] += 1

    async def flush(self) -> int:
        """Writes what has been counted; the number of views written."""
        async with self._lock:
            counts, self._counts = self._counts, collections.Counter()
            if not counts:
                return 0
            try:
                async with self.db.transaction() as session:
                    for (job_id, day), amount in sorted(counts.items()):
                        await _bump(session, job_id=job_id, day=day, counter="views", amount=amount)
            except Exception:
                self._counts.update(counts)
                raise
            return sum(counts.values())

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)
            try:
                await self.flush()
            except Exception:  # kept for the next round
                log.exception("writing page views failed")
        # Views counted while the last round was being written are not lost on stop.
        try:
            await self.flush()
        except Exception:
            log.exception("writing page views failed")


async def record_view(*, session: AsyncSession, job_id: uuid.UUID, now: datetime | None = None) -> None:
    """Count one view of a posting's page (call it for visitors who are not members of
    the company, inside a write transaction)."""
    await _bump(session, job_id=job_id, day=sydney_day(now or datetime.now(UTC)), counter="views")


async def record_apply_start(
    *, session: AsyncSession, job_id: uuid.UUID, now: datetime | None = None
) -> None:
    """Count one click on "apply" for an active posting: 404 for a posting the public
    cannot see (unknown, draft, pending, scheduled), 409 once it is closed or expired."""
    job = await session.get(JobPosting, job_id)
    if job is None or job.status in ("draft", "pending", "scheduled"):
        raise ProblemError(404, "No such job.", type_="job-not-found")
    if job.status != "active":
        raise ProblemError(
            409, f"This job is {job.status}: it no longer takes applications.", type_="job-not-active"
        )
    await _bump(session, job_id=job_id, day=sydney_day(now or datetime.now(UTC)), counter="apply_starts")


async def record_hire(
    *, session: AsyncSession, job_id: uuid.UUID, application_id: uuid.UUID, hired_at: datetime
) -> None:
    """Keep the earliest hire of a posting; later (or redelivered) hires change nothing."""
    table = JobHire.__table__
    source = sa.select(
        JobPosting.id,
        sa.literal(application_id, table.c.application_id.type),
        sa.literal(hired_at, table.c.hired_at.type),
    ).where(JobPosting.id == job_id)
    statement = insert(table).from_select(["job_id", "application_id", "hired_at"], source)
    statement = statement.on_conflict_do_update(
        index_elements=["job_id"],
        set_={"application_id": statement.excluded.application_id, "hired_at": statement.excluded.hired_at},
        where=statement.excluded.hired_at < table.c.hired_at,
    )
    await session.execute(statement)


# ---------------------------------------------------------------- events


async def handle_application_event(session: AsyncSession, event: CloudEvent) -> None:
    """Consumer of the applications service's events; runs inside the inbox transaction,
    so a redelivered event id counts once."""
    if event.type == ApplicationSubmitted.event_type:
        submitted = ApplicationSubmitted.model_validate(event.data)
        await _bump(
            session, job_id=submitted.job_id, day=sydney_day(submitted.submitted_at), counter="applications"
        )
    elif event.type == ApplicationStatusChanged.event_type:
        changed = ApplicationStatusChanged.model_validate(event.data)
        if changed.status == ApplicationStatus.hired:
            await record_hire(
                session=session,
                job_id=changed.job_id,
                application_id=changed.application_id,
                hired_at=changed.changed_at,
            )


SUBSCRIPTION = Subscription(
    patterns=[ApplicationSubmitted.event_type, ApplicationStatusChanged.event_type],
    handler=handle_application_event,
    name="jobs.applications",
)


# ---------------------------------------------------------------- reading


class DayFigures(BaseModel):
    views: int = 0
    apply_starts: int = 0
    applications: int = 0
    #: applications / views, null when views = 0
    apply_rate: float | None = None


class DayPoint(DayFigures):
    day: date


class JobAnalytics(BaseModel):
    job_id: uuid.UUID
    timezone: str = "Australia/Sydney"
    from_: date = Field(serialization_alias="from")
    to: date
    totals: DayFigures
    days: list[DayPoint]
    published_at: datetime | None
    first_hired_at: datetime | None
    time_to_fill_days: float | None


class CompanyHiringFigures(BaseModel):
    #: applications received over every posting of the company
    applications_received: int
    #: postings with at least one hire
    jobs_filled: int
    #: mean of (first hire - published_at) over the postings with a hire; null when none
    average_time_to_fill_days: float | None


def _rate(applications: int, views: int) -> float | None:
    return round(applications / views, 4) if views else None


def _figures(views: int, apply_starts: int, applications: int) -> DayFigures:
    return DayFigures(
        views=views,
        apply_starts=apply_starts,
        applications=applications,
        apply_rate=_rate(applications, views),
    )


def _days(seconds: float) -> float:
    return round(max(seconds, 0.0) / 86400, 2)


def check_range(start: date | None, end: date | None, *, now: datetime | None = None) -> tuple[date, date]:
    """The requested Sydney-day range; by default the last 30 days up to today. 422 when
    ``from`` is after ``to`` or the range is longer than 366 days."""
    end = end or sydney_day(now or datetime.now(UTC))
    start = start or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        raise ProblemError(
            422,
            "'from' must not be after 'to'.",
            type_="validation-error",
            errors=[FieldError(field="query.from", message="must not be after 'to'")],
        )
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ProblemError(
            422,
            f"A range covers at most {MAX_RANGE_DAYS} days.",
            type_="validation-error",
            errors=[FieldError(field="query.to", message=f"at most {MAX_RANGE_DAYS} days after 'from'")],
        )
    return start, end


async def job_analytics(*, session: AsyncSession, job: JobPosting, start: date, end: date) -> JobAnalytics:
    """Totals and a day-by-day series over ``start``..``end`` (Sydney days, both
    included), every day present, zeros included."""
    rows = (
        await session.scalars(
            sa.select(JobDailyStats).where(
                JobDailyStats.job_id == job.id, JobDailyStats.day >= start, JobDailyStats.day <= end
            )
        )
    ).all()
    by_day = {row.day: row for row in rows}
    points = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        row = by_day.get(day)
        figures = _figures(row.views, row.apply_starts, row.applications) if row else DayFigures()
        points.append(DayPoint(day=day, **figures.model_dump()))
    totals = _figures(
        sum(p.views for p in points), sum(p.apply_starts for p in points), sum(p.applications for p in points)
    )
    hire = await session.get(JobHire, job.id)
    hired_at = hire.hired_at if hire else None
    time_to_fill = (
        _days((hired_at - job.published_at).total_seconds()) if hired_at and job.published_at else None
    )
    return JobAnalytics(
        job_id=job.id,
        from_=start,
        to=end,
        totals=totals,
        days=points,
        published_at=job.published_at,
        first_hired_at=hired_at,
        time_to_fill_days=time_to_fill,
    )


async def company_hiring_figures(*, session: AsyncSession, company_id: uuid.UUID) -> CompanyHiringFigures:
    """Applications received over all the company's postings and the average time to
    fill (postings without ``published_at`` are left out of the average)."""
    applications = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(JobDailyStats.applications), 0))
        .join(JobPosting, JobPosting.id == JobDailyStats.job_id)
        .where(JobPosting.company_id == company_id)
    )
    seconds = sa.func.greatest(sa.extract("epoch", JobHire.hired_at - JobPosting.published_at), 0)
    filled, average = (
        await session.execute(
            sa.select(sa.func.count(JobHire.job_id), sa.func.avg(seconds))
            .join(JobPosting, JobPosting.id == JobHire.job_id)
            .where(JobPosting.company_id == company_id, JobPosting.published_at.is_not(None))
        )
    ).one()
    return CompanyHiringFigures(
        applications_received=int(applications or 0),
        jobs_filled=int(filled or 0),
        average_time_to_fill_days=_days(float(average)) if average is not None else None,
    )
