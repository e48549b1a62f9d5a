"""Share links (/api/v1/resumes/…/share, /shares, and the public /shared/{token}).

The owner creates a link to one version, lists and revokes them; anyone holding a live
link reads that version without signing in. Every failure of the public path is the
same 404 (see :mod:`.sharing`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from aujobs_common.app import runtime_of
from aujobs_common.documents import DocumentKind
from aujobs_common.errors import PROBLEM_RESPONSES, ProblemError
from aujobs_common.security import CurrentPrincipal

from . import service, sharing
from .api import clock_of, file_headers, settings_of
from .document import ResumeDocument
from .models import ParseStatus
from .schemas import ShareCreate, ShareCreated, ShareOut

router = APIRouter(prefix="/api/v1/resumes", tags=["resume sharing"], responses={**PROBLEM_RESPONSES})


@router.get(
    "/shared/{token}",
    response_class=Response,
    responses={
        200: {
            "content": {
                DocumentKind.pdf.media_type: {},
                DocumentKind.docx.media_type: {},
                "application/json": {},
            },
            "description": "The shared version's file, or with format=json its structured data",
        }
    },
    summary="A shared resume (public: no sign-in; the token is the permission)",
    description=(
        "Unknown, expired and revoked links are all 404 `share-link-not-found`. With "
        "`format=json`: the structured resume (409 `resume-not-parsed` when there is none)."
    ),
)
async def open_shared(
    token: str,
    request: Request,
    format: Annotated[Literal["file", "json"], Query()] = "file",
) -> Response:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        version = await sharing.open_share(session=session, token=token, now=clock_of(runtime)())
        if format == "json":
            if version.parse_status != ParseStatus.parsed.value or version.document is None:
                raise ProblemError(
                    409,
                    "This resume has no structured data yet.",
                    type_="resume-not-parsed",
                    headers=sharing.PUBLIC_HEADERS,
                )
            document = ResumeDocument.model_validate(version.document)
            return JSONResponse(document.model_dump(mode="json"), headers=dict(sharing.PUBLIC_HEADERS))
        data = await service.read_file(session, version)
    headers = {**file_headers(version.filename, cache="private, no-store"), **sharing.PUBLIC_HEADERS}
    return Response(content=data, media_type=version.content_type, headers=headers)


@router.post(
    "/{resume_id}/versions/{version_id}/share",
    status_code=201,
    response_model=ShareCreated,
    summary="Create a share link to a version",
    description=(
        "`expires_in_days` 1-90 (default 14). The token is in the answer only: it is stored "
        "hashed. At most 20 live links per resume (409 `share-limit-reached`)."
    ),
)
async def create_share(
    resume_id: uuid.UUID,
    version_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    body: Annotated[ShareCreate | None, Body()] = None,
) -> ShareCreated:
    runtime = runtime_of(request)
    settings = settings_of(runtime)
    days = body.expires_in_days if body and body.expires_in_days else settings.share_default_days
    days = min(days, settings.share_max_days)
    async with runtime.db.transaction() as session:
        resume = await service.get_resume(
            session=session, resume_id=resume_id, principal=principal, for_update=True
        )
        version = await service.get_version(session=session, resume=resume, version_id=version_id)
        return await sharing.create_share(
            session=session,
            resume=resume,
            version=version,
            days=days,
            now=clock_of(runtime)(),
            max_links=settings.share_links_per_resume_max,
        )


@router.get(
    "/{resume_id}/shares",
    response_model=list[ShareOut],
    summary="A resume's share links, newest first (without tokens)",
)
async def list_shares(resume_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> list[ShareOut]:
    runtime = runtime_of(request)
    now = clock_of(runtime)()
    async with runtime.db.session() as session:
        resume = await service.get_resume(session=session, resume_id=resume_id, principal=principal)
        return [
            sharing.share_out(link, now) for link in await sharing.list_shares(session=session, resume=resume)
        ]


@router.delete("/{resume_id}/shares/{share_id}", status_code=204, summary="Revoke a share link")
async def revoke_share(
    resume_id: uuid.UUID, share_id: uuid.UUID, request: Request, principal: CurrentPrincipal
) -> Response:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        resume = await service.get_resume(session=session, resume_id=resume_id, principal=principal)
        await sharing.revoke_share(session=session, resume=resume, share_id=share_id, now=clock_of(runtime)())
    return Response(status_code=204)
