"""Resumes (/api/v1/resumes): upload, list, read, update, delete; versions and their
files.

Only job seekers with a verified email address add resumes; a user only ever reaches
their own (anyone else gets 404; admins may read). Uploads are read as they stream in
(see :mod:`.uploads`) and checked from the bytes (``aujobs_common.documents``) before
anything is stored.

``GET /{id}/versions/{version_id}`` and ``GET /{id}/versions/{version_id}/file`` are a
contract with the applications service: keep their paths and field names."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import Counter

from aujobs_common.app import ServiceRuntime, runtime_of
from aujobs_common.documents import DocumentKind, DocumentRejected, inspect_document
from aujobs_common.errors import PROBLEM_RESPONSES, ProblemError
from aujobs_common.idempotency import run_idempotent
from aujobs_common.pagination import Page, PageParams, page_params
from aujobs_common.security import CurrentPrincipal
from aujobs_common.uploads import download_headers, etag_matches

from . import service
from .models import ResumeSource
from .schemas import ResumeDetail, ResumeOut, ResumeUpdate, VersionDetail, VersionOut
from .settings import ResumesSettings
from .uploads import Upload, display_filename, read_upload, title_from_filename

router = APIRouter(prefix="/api/v1/resumes", tags=["resumes"], responses={**PROBLEM_RESPONSES})

UPLOADS = Counter(
    "aujobs_resume_uploads_total",
    "Resume uploads by outcome (accepted, or the problem type that refused them)",
    ["outcome"],
)
# Checking a document may inflate a DOCX's parts: a few at a time.
_INSPECT_SLOTS = asyncio.Semaphore(4)

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "A PDF or DOCX, ≤ 10 MB",
                        },
                        "title": {"type": "string", "maxLength": 200},
                        "tags": {
                            "type": "array",
                            "items": {"type": "string", "maxLength": 30},
                            "description": "Repeat the field, or separate with commas; ≤ 10",
                        },
                    },
                }
            }
        },
    }
}


# ---------------------------------------------------------------- helpers


def settings_of(runtime: ServiceRuntime) -> ResumesSettings:
    settings = runtime.settings
    assert isinstance(settings, ResumesSettings)
    return settings


def clock_of(runtime: ServiceRuntime) -> Callable[[], datetime]:
    return runtime.extras.get("clock", service.utcnow)


def wake_parser(runtime: ServiceRuntime) -> None:
    parser = runtime.extras.get("parser")
    if parser is not None:
        parser.notify()


def _outcome(problem: ProblemError) -> str:
    return problem.type.rsplit("/", 1)[-1] if "/" in problem.type else str(problem.status)


async def checked_upload(request: Request, settings: ResumesSettings) -> tuple[Upload, DocumentKind]:
    """The upload read as it streams in and its bytes checked (a problem otherwise)."""
    upload = await read_upload(request, max_bytes=settings.upload_max_bytes)
    try:
        async with _INSPECT_SLOTS:
            kind = await asyncio.to_thread(inspect_document, upload.data, max_bytes=settings.upload_max_bytes)
    except DocumentRejected as exc:
        raise ProblemError(exc.status, exc.detail, type_=exc.code) from exc
    return upload, kind


@contextlib.asynccontextmanager
async def counted_upload() -> AsyncIterator[None]:
    """Counts an upload by outcome: accepted, or the type of the problem that refused it."""
    try:
        yield
    except ProblemError as problem:
        UPLOADS.labels(_outcome(problem)).inc()
        raise
    UPLOADS.labels("accepted").inc()


def file_headers(
    filename: str, *, etag: str | None = None, cache: str = "private, no-cache"
) -> dict[str, str]:
    """A resume file's download headers (``aujobs_common.uploads.download_headers``):
    revalidated by ETag by default; shared and generated files pass ``private, no-store``."""
    return download_headers(filename, cache=cache, etag=etag, default="resume")


# ---------------------------------------------------------------- collection


@router.post(
    "",
    status_code=201,
    response_model=ResumeDetail,
    summary="Upload a resume (job seekers with a verified email)",
    description=(
        "multipart/form-data: `file` (PDF or DOCX, checked from the bytes, ≤ 10 MB), optional "
        "`title` (default: from the file name) and `tags`. Creates the resume with version 1; "
        "parsing runs in the background (`parse_status`). The user's first resume is primary. "
        "At most 20 resumes per user (409 `resume-limit-reached`). Accepts `Idempotency-Key`."
    ),
    openapi_extra=UPLOAD_BODY,
)
async def upload_resume(
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    service.require_creator(principal)
    runtime = runtime_of(request)
    settings = settings_of(runtime)
    async with counted_upload():
        upload, kind = await checked_upload(request, settings)
        filename = display_filename(upload.filename, kind)
        title = service.clean_title(upload.title) if upload.title and upload.title.strip() else None
        title = title or title_from_filename(filename)
        tags = service.normalise_tags(upload.tags) or []
        now = clock_of(runtime)()
        async with runtime.db.transaction() as session:

            async def create() -> tuple[int, Any]:
                resume = await service.create_with_version(
                    session=session,
                    owner_id=principal.user_id,
                    title=title,
                    tags=tags,
                    source=ResumeSource.upload,
                    data=upload.data,
                    kind=kind,
                    filename=filename,
                    now=now,
                    settings=settings,
                )
                return 201, await service.resume_detail(session, resume)

            response = await run_idempotent(
                session,
                key=idempotency_key,
                principal=str(principal.user_id),
                request=request,
                body={"sha256": upload.sha256, "filename": filename, "title": title, "tags": tags},
                create=create,
            )
    wake_parser(runtime)
    return response


@router.get("", response_model=Page[ResumeOut], summary="Your resumes, newest first")
async def list_resumes(
    request: Request,
    principal: CurrentPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    tag: Annotated[list[str] | None, Query(description="Only resumes with every one of these tags")] = None,
    owner_id: Annotated[uuid.UUID | None, Query(description="Another user's resumes (admins)")] = None,
) -> Page[ResumeOut]:
    owner = principal.user_id
    if owner_id is not None and owner_id != principal.user_id:
        if not principal.is_admin:
            raise ProblemError(403, "Only admins list other users' resumes.", type_="forbidden")
        owner = owner_id
    tags = service.normalise_tags(tag, field="query.tag") if tag else None
    async with runtime_of(request).db.session() as session:
        rows, next_cursor = await service.list_resumes(session=session, owner_id=owner, page=page, tags=tags)
        items = await service.present(session, rows)
    return Page[ResumeOut](items=items, next_cursor=next_cursor)


# ---------------------------------------------------------------- one resume


@router.get("/{resume_id}", response_model=ResumeDetail, summary="A resume with its versions")
async def get_resume(resume_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> ResumeDetail:
    async with runtime_of(request).db.session() as session:
        resume = await service.get_resume(
            session=session, resume_id=resume_id, principal=principal, allow_admin=True
        )
        return await service.resume_detail(session, resume)


@router.patch(
    "/{resume_id}",
    response_model=ResumeDetail,
    summary="Rename, tag, or make primary",
    description=(
        "`tags` replaces the list (trimmed, lower-cased, ≤ 10 of ≤ 30 characters). `is_primary: true` "
        "makes this the one primary resume; the primary cannot be unset directly (422 "
        "`primary-resume-required`): make another one primary instead."
    ),
)
async def update_resume(
    resume_id: uuid.UUID, body: ResumeUpdate, request: Request, principal: CurrentPrincipal
) -> ResumeDetail:
    title = service.clean_title(body.title)
    tags = service.normalise_tags(body.tags)
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        if body.is_primary is not None:
            # The user's lock before the resume row (as DELETE does): a primary change also
            # updates the other primary row, and taking the two locks in opposite orders
            # deadlocked against a concurrent DELETE of that primary.
            await service.lock_owner(session, principal.user_id)
        resume = await service.get_resume(
            session=session, resume_id=resume_id, principal=principal, for_update=True
        )
        await service.update_resume(
            session=session,
            resume=resume,
            title=title,
            tags=tags,
            is_primary=body.is_primary,
            now=clock_of(runtime)(),
        )
        return await service.resume_detail(session, resume)


@router.delete(
    "/{resume_id}",
    status_code=204,
    summary="Delete a resume with its versions, files and share links",
    description="Deleting the primary resume makes the newest other one primary.",
)
async def delete_resume(resume_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> Response:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        # The user's lock first, then the row: the same order as PATCH is_primary (see there).
        await service.lock_owner(session, principal.user_id)
        resume = await service.get_resume(
            session=session, resume_id=resume_id, principal=principal, for_update=True
        )
        await service.delete_resume(session=session, resume=resume, now=clock_of(runtime)())
    return Response(status_code=204)


# ---------------------------------------------------------------- versions


@router.post(
    "/{resume_id}/versions",
    status_code=201,
    response_model=VersionOut,
    summary="Upload a new version of a resume",
    description=(
        "multipart/form-data with `file` (as for a new resume). At most 50 versions per resume "
        "(409 `version-limit-reached`). Accepts `Idempotency-Key`."
    ),
    openapi_extra=UPLOAD_BODY,
)
async def upload_version(
    resume_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    service.require_creator(principal)
    runtime = runtime_of(request)
    settings = settings_of(runtime)
    async with runtime.db.session() as session:  # 404 before a byte is read
        await service.get_resume(session=session, resume_id=resume_id, principal=principal)
    async with counted_upload():
        upload, kind = await checked_upload(request, settings)
        if upload.title is not None or upload.tags is not None:
            raise ProblemError(
                422,
                "A new version takes only a file; change the title and tags with PATCH.",
                type_="validation-error",
            )
        filename = display_filename(upload.filename, kind)
        now = clock_of(runtime)()
        async with runtime.db.transaction() as session:

            async def create() -> tuple[int, Any]:
                resume = await service.get_resume(
                    session=session, resume_id=resume_id, principal=principal, for_update=True
                )
                version = await service.add_version(
                    session=session,
                    resume=resume,
                    data=upload.data,
                    kind=kind,
                    filename=filename,
                    now=now,
                    max_versions=settings.versions_per_resume_max,
                )
                return 201, service.version_out(version)

            response = await run_idempotent(
                session,
                key=idempotency_key,
                principal=str(principal.user_id),
                request=request,
                body={"sha256": upload.sha256, "filename": filename},
                create=create,
            )
    wake_parser(runtime)
    return response


@router.get(
    "/{resume_id}/versions/{version_id}",
    response_model=VersionDetail,
    summary="A version: its file's metadata, parse status and the parsed resume",
)
async def get_version(
    resume_id: uuid.UUID, version_id: uuid.UUID, request: Request, principal: CurrentPrincipal
) -> VersionDetail:
    async with runtime_of(request).db.session() as session:
        resume = await service.get_resume(
            session=session, resume_id=resume_id, principal=principal, allow_admin=True
        )
        version = await service.get_version(session=session, resume=resume, version_id=version_id)
        return service.version_detail(version)


@router.get(
    "/{resume_id}/versions/{version_id}/file",
    response_class=Response,
    responses={
        200: {
            "content": {DocumentKind.pdf.media_type: {}, DocumentKind.docx.media_type: {}},
            "description": "The file as uploaded (or generated)",
        },
        304: {"description": "Not modified (If-None-Match)"},
    },
    summary="Download a version's file",
)
async def download_version(
    resume_id: uuid.UUID,
    version_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    async with runtime_of(request).db.session() as session:
        resume = await service.get_resume(
            session=session, resume_id=resume_id, principal=principal, allow_admin=True
        )
        version = await service.get_version(session=session, resume=resume, version_id=version_id)
        etag = f'"{version.sha256}"'
        headers = file_headers(version.filename, etag=etag)
        if etag_matches(if_none_match, etag):
            return Response(status_code=304, headers=headers)
        data = await service.read_file(session, version)
    return Response(content=data, media_type=version.content_type, headers=headers)
