"""Files of an application: attachments the applicant adds (a cover letter file,
certificates, a portfolio) and the copy of the resume version it was sent with.

* Uploads: ``multipart/form-data`` with the document in ``file`` and ``kind``
  (``cover_letter`` | ``other``), by the applicant while the application is still
  *submitted* (once the company has looked at it, what it reviewed stays what it got), at
  most ``attachments_max`` (5) per application. The bytes must be a PDF or DOCX
  (``aujobs_common.documents.inspect_document``): the type comes from the content,
  never from the name or the declared content type.
* Downloads (the applicant, the hiring company, admins) are sent as attachments with
  ``nosniff`` and the type found at upload, so a browser never renders them inline.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response

from aujobs_common import documents, uploads
from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, ProblemError
from aujobs_common.idempotency import run_idempotent
from aujobs_common.security import CurrentPrincipal

from . import service
from .api import APPLICANT, VIEWERS, clock_of, settings_of
from .models import Attachment
from .schemas import AttachmentOut

router = APIRouter(prefix="/api/v1/applications", tags=["applications"], responses=PROBLEM_RESPONSES)

KINDS = ("cover_letter", "other")
EXTENSIONS = {"pdf": ".pdf", "docx": ".docx"}
FORM = uploads.UploadForm(
    invalid_detail="The upload must be multipart/form-data with the document in 'file' and 'kind'.",
    text_fields={"kind": 1},
)
_INSPECT_SLOTS = asyncio.Semaphore(4)


def safe_filename(name: str | None, kind: documents.DocumentKind) -> str:
    """The display name kept for an attachment (``aujobs_common.uploads.clean_filename``):
    no path or control characters, at most 200 characters, ending in the extension of
    the type the bytes really are."""
    return uploads.clean_filename(name, extension=EXTENSIONS[kind.value], default="attachment")


async def _read_upload(request: Request, max_bytes: int) -> tuple[bytes, str | None, str]:
    """The file, its client-side name and ``kind``, read as the body streams in."""
    upload = await uploads.read_upload(request, FORM, max_bytes=max_bytes)
    kind = upload.first("kind")
    if kind is None or kind not in KINDS:
        raise FORM.invalid("cover_letter or other", "kind")
    return upload.data, upload.filename, kind


async def _inspect(data: bytes, max_bytes: int) -> documents.DocumentKind:
    """The document checks, in a worker thread (a PDF's object walk is CPU work), a few
    at a time."""
    try:
        async with _INSPECT_SLOTS:
            return await asyncio.to_thread(documents.inspect_document, data, max_bytes=max_bytes)
    except documents.DocumentRejected as exc:
        raise ProblemError(exc.status, exc.detail, type_=exc.code) from None


def _attachment_out(a: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=a.id,
        kind=a.kind,  # type: ignore[arg-type]
        filename=a.filename,
        content_type=a.content_type,
        size_bytes=a.size_bytes,
        created_at=a.created_at,
    )


async def _check_can_attach(session: Any, application: Any, limit: int) -> None:
    if application.status != "submitted":
        raise ProblemError(
            409,
            "Files can only be added while the application is submitted (not yet reviewed).",
            type_="application-not-editable",
        )
    count = await session.scalar(
        sa.select(sa.func.count()).select_from(Attachment).where(Attachment.application_id == application.id)
    )
    if count >= limit:
        raise ProblemError(
            409, f"An application carries at most {limit} attachments.", type_="attachment-limit-reached"
        )


@router.post(
    "/{application_id}/attachments",
    status_code=201,
    response_model=AttachmentOut,
    summary="Add a file to my application (while it is submitted; PDF or DOCX)",
    description="multipart/form-data: `file` and `kind` (cover_letter | other). Accepts `Idempotency-Key`.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "kind"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "kind": {"type": "string", "enum": list(KINDS)},
                        },
                    }
                }
            },
        }
    },
)
async def add_attachment(
    application_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    runtime = runtime_of(request)
    settings = settings_of(runtime)
    limit = settings.attachments_max
    if idempotency_key is None:
        # Refuse before reading the body (a retry with a key must still replay).
        async with runtime.db.session() as session:
            application, _ = await service.get_visible(
                session, principal, application_id, allowed_access=APPLICANT
            )
            await _check_can_attach(session, application, limit)
    else:
        async with runtime.db.session() as session:
            await service.get_visible(session, principal, application_id, allowed_access=APPLICANT)
    data, filename, kind = await _read_upload(request, settings.attachment_max_bytes)
    document_kind = await _inspect(data, settings.attachment_max_bytes)
    name = safe_filename(filename, document_kind)
    async with runtime.db.transaction() as session:

        async def create() -> tuple[int, Any]:
            application, _ = await service.get_visible(
                session, principal, application_id, allowed_access=APPLICANT, for_update=True
            )
            await _check_can_attach(session, application, limit)
            stored = await runtime.extras["blobs"].put(session, data)
            attachment = Attachment(
                application_id=application.id,
                kind=kind,
                filename=name,
                content_type=document_kind.media_type,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                uploaded_by=principal.user_id,
                created_at=clock_of(runtime)(),
            )
            session.add(attachment)
            await session.flush()
            return 201, _attachment_out(attachment)

        return await run_idempotent(
            session,
            key=idempotency_key,
            principal=str(principal.user_id),
            request=request,
            body={"kind": kind, "filename": name, "sha256": hashlib.sha256(data).hexdigest()},
            create=create,
        )


@router.get(
    "/{application_id}/attachments/{attachment_id}",
    summary="Download an attachment (the applicant, the hiring company, admins)",
    response_class=Response,
)
async def get_attachment(
    application_id: uuid.UUID, attachment_id: uuid.UUID, request: Request, principal: CurrentPrincipal
) -> Response:
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        application, _ = await service.get_visible(session, principal, application_id, allowed_access=VIEWERS)
        attachment = await session.get(Attachment, attachment_id)
        if attachment is None or attachment.application_id != application.id:
            raise ProblemError(404, "No such attachment.", type_="attachment-not-found")
        content = await runtime.extras["blobs"].get(session, attachment.sha256)
    if content is None:
        raise ProblemError(404, "No such attachment.", type_="attachment-not-found")
    return uploads.download(content, filename=attachment.filename, content_type=attachment.content_type)


@router.get(
    "/{application_id}/resume",
    summary="Download the resume version the application was sent with (applicant, hiring company, admins)",
    response_class=Response,
)
async def get_resume(application_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> Response:
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        application, _ = await service.get_visible(session, principal, application_id, allowed_access=VIEWERS)
        content = await runtime.extras["blobs"].get(session, application.resume_sha256)
    if content is None:
        raise ProblemError(404, "The resume copy is missing.", type_="resume-not-found")
    return uploads.download(
        content, filename=application.resume_filename, content_type=application.resume_content_type
    )
