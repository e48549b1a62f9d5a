"""Hiring-pipeline figures for a job or a whole company.

* ``by_status``: applications by their current status (every status listed, zeros too).
* ``funnel``: applications that ever reached each pipeline stage (submitted … hired).
  Reaching a later stage counts as reaching the ones before it, skipped or not, and a
  rejection or withdrawal does not undo what was reached (``furthest_stage``).
* ``conversion``: ``"reviewed_to_shortlisted"`` = funnel[shortlisted] / funnel[reviewed],
  rounded to 4 places; null when nobody reached the earlier stage.
* time to first review: hours from submission to the company's first action on it (a
  review, any move, or a rejection), over the applications with one;
  time to hire: days from submission to hire, over the hired ones. Median and average,
  rounded to 2 places; null when there are none.

Computed in the database's memory over the selected applications' few columns; fine
for the thousands of applications a company has. Beyond that, keep daily aggregates.
"""

from __future__ import annotations

import statistics
import uuid
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.events import ApplicationStatus

from .models import Application
from .schemas import Durations, PipelineAnalytics
from .workflow import PIPELINE, stage_index


def _durations(values: list[float], unit_seconds: float) -> Durations:
    if not values:
        return Durations(count=0, median=None, average=None)
    scaled = [max(v, 0.0) / unit_seconds for v in values]
    return Durations(
        count=len(scaled),
        median=round(statistics.median(scaled), 2),
        average=round(statistics.fmean(scaled), 2),
    )


async def pipeline_analytics(
    *,
    session: AsyncSession,
    scope: Literal["job", "company"],
    job_id: uuid.UUID | None = None,
    company_id: uuid.UUID | None = None,
) -> PipelineAnalytics:
    query = sa.select(
        Application.status,
        Application.furthest_stage,
        Application.submitted_at,
        Application.first_reviewed_at,
        Application.hired_at,
    )
    if scope == "job":
        query = query.where(Application.job_id == job_id)
    else:
        query = query.where(Application.company_id == company_id)
    rows = (await session.execute(query)).all()

    by_status = {s.value: 0 for s in ApplicationStatus}
    reached = [0] * len(PIPELINE)
    review_seconds: list[float] = []
    hire_seconds: list[float] = []
    for status, furthest_stage, submitted_at, first_reviewed_at, hired_at in rows:
        by_status[status] = by_status.get(status, 0) + 1
        for i in range(stage_index(furthest_stage) + 1):
            reached[i] += 1
        if first_reviewed_at is not None:
            review_seconds.append((first_reviewed_at - submitted_at).total_seconds())
        if hired_at is not None:
            hire_seconds.append((hired_at - submitted_at).total_seconds())

    funnel = {stage.value: reached[i] for i, stage in enumerate(PIPELINE)}
    conversion: dict[str, float | None] = {}
    for i in range(len(PIPELINE) - 1):
        earlier, later = reached[i], reached[i + 1]
        key = f"{PIPELINE[i].value}_to_{PIPELINE[i + 1].value}"
        conversion[key] = round(later / earlier, 4) if earlier else None
    return PipelineAnalytics(
        scope=scope,
        job_id=job_id,
        company_id=company_id,
        total=len(rows),
        by_status=by_status,
        funnel=funnel,
        conversion=conversion,
        withdrawn=by_status[ApplicationStatus.withdrawn.value],
        rejected=by_status[ApplicationStatus.rejected.value],
        time_to_first_review_hours=_durations(review_seconds, 3600.0),
        time_to_hire_days=_durations(hire_seconds, 86400.0),
    )
