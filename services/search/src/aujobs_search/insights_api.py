"""Search insights: the click-through beacon (public) and the admins' figures.

Both need the :class:`~aujobs_search.querylog.QueryLog` at ``runtime.extras["querylog"]``
(see :func:`~aujobs_search.querylog.query_log_hooks`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES
from aujobs_common.security import Principal, require_roles

from .querylog import EXTRA_KEY, MAX_POSITION, QueryLog, SearchInsights, search_insights

router = APIRouter(prefix="/api/v1/search", tags=["search"], responses={**PROBLEM_RESPONSES})

MAX_INSIGHT_DAYS = 365


class ClickIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query_id: uuid.UUID = Field(description="The query_id of the results page the job was shown on")
    job_id: uuid.UUID
    position: int = Field(ge=1, le=MAX_POSITION, description="1-based rank of the job in the results")


def _query_log(request: Request) -> QueryLog:
    return runtime_of(request).extras[EXTRA_KEY]


@router.post(
    "/clicks",
    status_code=202,
    response_class=Response,
    summary="Record a click on a search result",
    description=(
        "Anonymous allowed. Recorded asynchronously: a query_id the service does not know "
        "(never issued, or older than the log keeps) is accepted and ignored."
    ),
)
async def record_click(request: Request, click: ClickIn) -> Response:
    _query_log(request).click(click.query_id, click.job_id, click.position)
    return Response(status_code=202)


@router.get(
    "/insights",
    response_model=SearchInsights,
    response_model_by_alias=True,
    summary="Search insights (admins)",
    description=(
        "Popular and zero-result queries, latency percentiles and click-through over the "
        "last `days` days. Searches of the last few seconds may not be written yet."
    ),
)
async def insights(
    request: Request,
    _admin: Annotated[Principal, Depends(require_roles("admin"))],
    days: Annotated[int, Query(ge=1, le=MAX_INSIGHT_DAYS)] = 7,
) -> SearchInsights:
    async with runtime_of(request).db.session() as session:
        return await search_insights(session, days=days)
