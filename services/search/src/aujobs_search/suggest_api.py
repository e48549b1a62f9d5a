"""Search suggest endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, FieldError, ProblemError

from .api import reject_control_characters
from .query import Suggestion
from .suggest import suggest

router = APIRouter(prefix="/api/v1/search", tags=["search"], responses={**PROBLEM_RESPONSES})

MAX_SUGGESTIONS = 20


@router.get(
    "/suggest",
    response_model=list[Suggestion],
    summary="Suggest titles, skills, companies and locations for what has been typed",
)
async def get_suggestions(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=100, description="What has been typed so far")],
    limit: Annotated[int, Query(ge=1, le=MAX_SUGGESTIONS)] = 10,
) -> list[Suggestion]:
    """Public. Best first, kinds mixed, each text once; titles and companies come from
    active postings, skills from the skills catalogue, locations from the postcode data
    ("melb" → "Melbourne VIC 3000", "vic" → "VIC")."""
    reject_control_characters(request)
    if not q.strip():
        raise ProblemError(
            422,
            "Type at least one letter or digit.",
            type_="validation-error",
            errors=[FieldError(field="query.q", message="must not be blank")],
        )
    async with runtime_of(request).db.session() as session:
        return await suggest(session, q, limit=limit)
