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
import re
import unicodedata
import uuid
from typing import Annotated, Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from aujobs_common import documents
from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, FieldError, ProblemError
from aujobs_common.idempotency import run_idempotent
from aujobs_common.security import CurrentPrincipal

from . import service
from .api import APPLICANT, VIEWERS, clock_of, settings_of
from .models import Attachment
from .schemas import AttachmentOut

router = APIRouter(prefix="/api/v1/applications", tags=["applications"], responses=PROBLEM_RESPONSES)

FORM_OVERHEAD = 16 * 1024
KINDS = ("cover_letter", "other")
EXTENSIONS = {"pdf": ".pdf", "docx": ".docx"}
_INSPECT_SLOTS = asyncio.Semaphore(4)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\\"]+")


def safe_filename(name: str | None, kind: documents.DocumentKind) -> str:
    """A display name that is safe in a Content-Disposition header: no path, no control
    characters or quotes, at most 150 characters, ending in the extension of the type
    the bytes really are."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = _UNSAFE.sub("_", base).strip(" .")[:150]
    extension = EXTENSIONS[kind.value]
    if base.lower().endswith(extension):
        stem = base[: -len(extension)]
    else:
        stem = base.rsplit(".", 1)[0] if "." in base else base
    return (stem.strip(" .") or "attachment") + extension


def download(content: bytes, *, filename: str, content_type: str) -> Response:
    filename = _UNSAFE.sub("_", filename) or "file"
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_")
    return Response(
        content,
        media_type=content_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def _invalid(message: str, field: str = "file") -> ProblemError:
    return ProblemError(
        422,
        "The upload must be multipart/form-data with the document in 'file' and 'kind'.",
        type_="validation-error",
        errors=[FieldError(field=field, message=message)],
    )


def _too_large(max_bytes: int) -> ProblemError:
    return ProblemError(
        413, f"The file is larger than {max_bytes // (1024 * 1024)} MiB.", type_="file-too-large"
    )


async def _read_upload(request: Request, max_bytes: int) -> tuple[bytes, str | None, str]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + FORM_OVERHEAD:
        raise _too_large(max_bytes)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise _invalid("expected a multipart/form-data body")
    # Read the body with a cap (a chunked upload declares no length), then let Starlette
    # parse it from memory: Request.stream() serves a body already read from ``_body``.
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > max_bytes + FORM_OVERHEAD:
            raise _too_large(max_bytes)
    request._body = bytes(received)
    try:
        form = await request.form(max_files=1, max_fields=4, max_part_size=4096)
    except Exception as exc:  # malformed multipart, too many parts
        raise _invalid("the multipart body is malformed") from exc
    try:
        upload = form.get("file")
        kind = form.get("kind")
        if not isinstance(upload, UploadFile):
            raise _invalid("a file is required")
        if not isinstance(kind, str) or kind not in KINDS:
            raise _invalid("cover_letter or other", "kind")
        data = await upload.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise _too_large(max_bytes)
        return data, upload.filename, kind
    finally:
        await form.close()


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
            method="POST",
            path=request.url.path,
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
    return download(content, filename=attachment.filename, content_type=attachment.content_type)


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
    return download(
        content, filename=application.resume_filename, content_type=application.resume_content_type
    )
