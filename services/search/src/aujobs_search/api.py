from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, FieldError, ProblemError
from aujobs_common.events import WorkType
from aujobs_common.pagination import MAX_LIMIT, decode_cursor
from aujobs_common.reference import STATES, classifications

from .schemas import SearchResults
from .service import JobQuery, search_jobs

router = APIRouter(prefix="/api/v1/search", tags=["search"], responses=PROBLEM_RESPONSES)


@router.get("/jobs", response_model=SearchResults, summary="Search active jobs")
async def search(
    request: Request,
    q: Annotated[
        str | None, Query(max_length=200, description="Free text (title, company, description)")
    ] = None,
    classification: Annotated[str | None, Query(max_length=100)] = None,
    work_type: WorkType | None = None,
    state: Annotated[str | None, Query(max_length=3, description="State or territory code")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> SearchResults:
    if classification and classification not in classifications():
        raise ProblemError(
            400,
            f"Unknown classification {classification!r}.",
            type_="unknown-classification",
            errors=[FieldError(field="query.classification", message="not one of the 30 classifications")],
        )
    if state and state.upper() not in STATES:
        raise ProblemError(
            400,
            f"Unknown state {state!r}.",
            type_="unknown-state",
            errors=[FieldError(field="query.state", message=f"one of {', '.join(STATES)}")],
        )
    offset = 0
    if cursor:
        offset = decode_cursor(cursor).get("o", 0)
        if not isinstance(offset, int) or offset < 0:
            raise ProblemError(400, "The cursor is not valid.", type_="invalid-cursor")
    query = JobQuery(
        q=q.strip() if q and q.strip() else None,
        classification=classification,
        work_type=work_type.value if work_type else None,
        state=state.upper() if state else None,
        limit=limit,
        offset=offset,
    )
    async with runtime_of(request).db.session() as session:
        return await search_jobs(session, query)
