from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, ProblemError
from aujobs_common.pagination import PageParams, page_params
from aujobs_common.security import Principal, require_roles

from .models import EmailKind, EmailStatus
from .schemas import DeliveryDetail, DeliveryPage
from .service import get_delivery, list_deliveries

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"], responses=PROBLEM_RESPONSES)

Admin = Annotated[Principal, Depends(require_roles("admin"))]


@router.get(
    "/deliveries",
    response_model=DeliveryPage,
    summary="Email delivery log (admins)",
    description="Newest first. Subjects, statuses, attempts and times; never the bodies "
    "(they hold one-time links).",
)
async def deliveries(
    request: Request,
    _admin: Admin,
    page: Annotated[PageParams, Depends(page_params)],
    status: EmailStatus | None = None,
    kind: EmailKind | None = None,
    recipient: Annotated[str | None, Query(max_length=320, description="Exact address")] = None,
) -> DeliveryPage:
    async with runtime_of(request).db.session() as session:
        return await list_deliveries(
            session,
            status=status.value if status else None,
            kind=kind.value if kind else None,
            recipient=recipient,
            limit=page.limit,
            cursor=page.cursor,
        )


@router.get(
    "/deliveries/{message_id}",
    response_model=DeliveryDetail,
    summary="One email's delivery record with every attempt (admins)",
)
async def delivery(request: Request, _admin: Admin, message_id: uuid.UUID) -> DeliveryDetail:
    async with runtime_of(request).db.session() as session:
        found = await get_delivery(session, message_id)
    if found is None:
        raise ProblemError(404, "No email with this id.", type_="not-found")
    return found
