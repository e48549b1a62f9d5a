"""Per-posting analytics (/api/v1/jobs/{job_id}/analytics) and the public apply-start
beacon (/api/v1/jobs/{job_id}/apply-start)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, ProblemError
from aujobs_common.security import CurrentPrincipal, Principal

from . import analytics, companies
from .models import JobPosting

router = APIRouter(prefix="/api/v1/jobs", tags=["analytics"], responses={**PROBLEM_RESPONSES})

PUBLIC_STATUSES = ("active", "closed", "expired")


async def _job_for_analytics(session: AsyncSession, job_id: uuid.UUID, principal: Principal) -> JobPosting:
    """The posting when the caller is an owner or recruiter of its company (or, for a
    posting without a company, its creator) or an admin. Others get 404 for postings the
    public cannot see and 403 for the rest."""
    job = await session.get(JobPosting, job_id)
    if job is None:
        raise ProblemError(404, "No such job.", type_="job-not-found")
    try:
        if job.company_id is None:
            if job.owner_id != principal.user_id and not principal.is_admin:
                raise ProblemError(403, "Only the job's owner may see its analytics.", type_="not-job-owner")
        else:
            await companies.require_member(
                session=session, company_id=job.company_id, principal=principal, allow_admin=True
            )
    except ProblemError:
        if job.status not in PUBLIC_STATUSES:
            raise ProblemError(404, "No such job.", type_="job-not-found") from None
        raise
    return job


@router.get(
    "/{job_id}/analytics",
    response_model=analytics.JobAnalytics,
    summary="Views, apply starts and applications per day (company owner, recruiter or admin)",
    description=(
        "Days are Australia/Sydney calendar days; `from`/`to` (YYYY-MM-DD, both included, at "
        "most 366 days; default the last 30 days). Every day of the range is listed, zeros "
        "included. `apply_rate` = applications / views, null when there were no views."
    ),
)
async def job_analytics(
    job_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    start: Annotated[date | None, Query(alias="from", description="First day (Sydney), YYYY-MM-DD")] = None,
    end: Annotated[date | None, Query(alias="to", description="Last day (Sydney), YYYY-MM-DD")] = None,
) -> analytics.JobAnalytics:
    runtime = runtime_of(request)
    tally: analytics.ViewTally | None = runtime.extras.get("view_tally")
    if tally is not None:
        await tally.flush()  # what this replica has counted, so the figures are current
    async with runtime.db.session() as session:
        job = await _job_for_analytics(session, job_id, principal)
        first, last = analytics.check_range(start, end)
        return await analytics.job_analytics(session=session, job=job, start=first, end=last)


@router.post(
    "/{job_id}/apply-start",
    status_code=204,
    summary="Count a click on 'apply' (public; active postings only)",
    description="404 for a posting that is not public, 409 once it is closed or expired.",
)
async def apply_start(job_id: uuid.UUID, request: Request) -> Response:
    async with runtime_of(request).db.transaction() as session:
        await analytics.record_apply_start(session=session, job_id=job_id)
    return Response(status_code=204)
