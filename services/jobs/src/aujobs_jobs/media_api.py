"""Company media (/api/v1/companies/{company_id}/logo, /images, /media/...).

Uploads are ``multipart/form-data`` with the picture in the field ``file`` (and, for
images, an optional ``alt_text`` of at most 200 characters). The body is parsed as it
streams in (``aujobs_common.uploads``), not by FastAPI: the caller's permission is
checked before a byte is read, and reading stops as soon as the file passes
``media_max_bytes``."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse

from aujobs_common import uploads
from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, FieldError, ProblemError
from aujobs_common.idempotency import run_idempotent
from aujobs_common.pagination import Page
from aujobs_common.security import Principal, require_roles

from . import companies, media
from .settings import JobsSettings

router = APIRouter(prefix="/api/v1/companies", tags=["media"], responses={**PROBLEM_RESPONSES})

EmployerOrAdmin = Annotated[Principal, Depends(require_roles("employer", "admin"))]

CACHE_FOREVER = "public, max-age=31536000, immutable"
_DECODE_SLOTS = asyncio.Semaphore(2)


def _upload_body(*, with_alt_text: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "file": {"type": "string", "format": "binary", "description": "A JPEG, PNG or WebP picture"}
    }
    if with_alt_text:
        properties["alt_text"] = {"type": "string", "maxLength": media.ALT_TEXT_MAX}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "required": ["file"], "properties": properties}
                }
            },
        }
    }


# ---------------------------------------------------------------- the form

LOGO_FORM = uploads.UploadForm(
    invalid_detail="The upload must be multipart/form-data with the picture in the field 'file'."
)
IMAGE_FORM = dataclasses.replace(LOGO_FORM, text_fields={"alt_text": 1})


async def read_upload(request: Request, form: uploads.UploadForm, *, max_bytes: int) -> uploads.Upload:
    """The picture and text fields, read as the body streams in (a 413 as soon as the
    file passes ``max_bytes``); an empty file is not a picture (415)."""
    upload = await uploads.read_upload(request, form, max_bytes=max_bytes)
    if not upload.data:
        raise media.unsupported()
    return upload


# ---------------------------------------------------------------- helpers


def _settings(request: Request) -> JobsSettings:
    settings = runtime_of(request).settings
    assert isinstance(settings, JobsSettings)
    return settings


async def _authorise(request: Request, company_id: uuid.UUID, principal: Principal) -> None:
    """404 for an unknown company, 403 for anyone but its owners, recruiters and admins —
    before the body is read."""
    async with runtime_of(request).db.session() as session:
        await companies.get_company(session=session, company_id=company_id)
        await companies.require_member(
            session=session, company_id=company_id, principal=principal, allow_admin=True
        )


async def _process(
    upload: uploads.Upload, kind: media.MediaKind, settings: JobsSettings
) -> media.ProcessedImage:
    """Decode and resize in a worker thread, a few uploads at a time: a picture at the
    pixel limit takes several hundred MB while it is being processed."""
    async with _DECODE_SLOTS:
        return await asyncio.to_thread(
            media.process_image, upload.data, kind=kind, max_pixels=settings.media_max_pixels
        )


# ---------------------------------------------------------------- logo


@router.put(
    "/{company_id}/logo",
    response_model=media.MediaOut,
    summary="Upload or replace the company logo (owner, recruiter or admin)",
    description=(
        "multipart/form-data, field `file`: a JPEG, PNG or WebP of at most `media_max_bytes` "
        "(5 MiB) and `media_max_pixels` (40 M) pixels; animated pictures keep their first frame. "
        "Stored as WebP squares of 64, 128 and 256 px (fitted, padded transparent — white for "
        "JPEG). The previous logo and its URLs are gone."
    ),
    openapi_extra=_upload_body(with_alt_text=False),
)
async def put_logo(company_id: uuid.UUID, request: Request, principal: EmployerOrAdmin) -> media.MediaOut:
    settings = _settings(request)
    await _authorise(request, company_id, principal)
    upload = await read_upload(request, LOGO_FORM, max_bytes=settings.media_max_bytes)
    processed = await _process(upload, "logo", settings)
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        await companies.require_member(
            session=session, company_id=company_id, principal=principal, allow_admin=True
        )
        return await media.replace_logo(
            session=session, company_id=company_id, processed=processed, created_by=principal.user_id
        )


@router.get("/{company_id}/logo", response_model=media.MediaOut, summary="The company logo (public)")
async def get_logo(company_id: uuid.UUID, request: Request) -> media.MediaOut:
    async with runtime_of(request).db.session() as session:
        await companies.get_company(session=session, company_id=company_id)
        return await media.get_logo(session=session, company_id=company_id)


@router.delete(
    "/{company_id}/logo", status_code=204, summary="Remove the company logo (owner, recruiter or admin)"
)
async def delete_logo(company_id: uuid.UUID, request: Request, principal: EmployerOrAdmin) -> Response:
    async with runtime_of(request).db.transaction() as session:
        await companies.get_company(session=session, company_id=company_id)
        await companies.require_member(
            session=session, company_id=company_id, principal=principal, allow_admin=True
        )
        await media.delete_media(session=session, company_id=company_id, kind="logo")
    return Response(status_code=204)


# ---------------------------------------------------------------- images


@router.post(
    "/{company_id}/images",
    status_code=201,
    response_model=media.MediaOut,
    summary="Add a gallery image (owner, recruiter or admin)",
    description=(
        "multipart/form-data, field `file` (as for the logo) and optional `alt_text` (≤ 200 "
        "characters). At most `company_images_max` (12) images per company: 409 "
        "`image-limit-reached` beyond. Stored as WebP 480, 1024 and 1600 px wide, never "
        "upscaled. Accepts `Idempotency-Key`."
    ),
    openapi_extra=_upload_body(with_alt_text=True),
)
async def add_image(
    company_id: uuid.UUID,
    request: Request,
    principal: EmployerOrAdmin,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    settings = _settings(request)
    await _authorise(request, company_id, principal)
    upload = await read_upload(request, IMAGE_FORM, max_bytes=settings.media_max_bytes)
    alt_text = media.clean_alt_text(upload.first("alt_text"))
    if alt_text is not None and len(alt_text) > media.ALT_TEXT_MAX:
        raise ProblemError(
            422,
            f"Alt text is at most {media.ALT_TEXT_MAX} characters.",
            type_="validation-error",
            errors=[FieldError(field="alt_text", message=f"at most {media.ALT_TEXT_MAX} characters")],
        )
    processed = await _process(upload, "image", settings)
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        await companies.require_member(
            session=session, company_id=company_id, principal=principal, allow_admin=True
        )

        async def create() -> tuple[int, Any]:
            return 201, await media.add_image(
                session=session,
                company_id=company_id,
                processed=processed,
                alt_text=alt_text,
                created_by=principal.user_id,
                max_images=settings.company_images_max,
            )

        return await run_idempotent(
            session,
            key=idempotency_key,
            principal=str(principal.user_id),
            request=request,
            body={"sha256": upload.sha256, "alt_text": alt_text},
            create=create,
        )


@router.get(
    "/{company_id}/images",
    response_model=Page[media.MediaOut],
    summary="A company's gallery images, in upload order (public; always one page)",
)
async def list_images(company_id: uuid.UUID, request: Request) -> Page[media.MediaOut]:
    async with runtime_of(request).db.session() as session:
        await companies.get_company(session=session, company_id=company_id)
        items = await media.list_images(session=session, company_id=company_id)
    return Page[media.MediaOut](items=items, next_cursor=None)


@router.delete(
    "/{company_id}/images/{image_id}",
    status_code=204,
    summary="Delete a gallery image (owner, recruiter or admin)",
)
async def delete_image(
    company_id: uuid.UUID, image_id: uuid.UUID, request: Request, principal: EmployerOrAdmin
) -> Response:
    async with runtime_of(request).db.transaction() as session:
        await companies.get_company(session=session, company_id=company_id)
        await companies.require_member(
            session=session, company_id=company_id, principal=principal, allow_admin=True
        )
        await media.delete_media(session=session, company_id=company_id, kind="image", media_id=image_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- the bytes


@router.get(
    "/{company_id}/media/{media_id}/{rendition}",
    response_class=Response,
    responses={200: {"content": {"image/webp": {}}, "description": "The picture"}, 304: {}},
    summary="A logo or image rendition (public, cached forever: URLs change with the content)",
)
async def get_rendition(
    company_id: uuid.UUID,
    media_id: uuid.UUID,
    rendition: str,
    request: Request,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    async with runtime_of(request).db.session() as session:
        found = await media.get_rendition(
            session=session, company_id=company_id, media_id=media_id, name=rendition
        )
        etag = f'"{found.sha256}"'
        headers = {"ETag": etag, "Cache-Control": CACHE_FOREVER, "X-Content-Type-Options": "nosniff"}
        if uploads.etag_matches(if_none_match, etag):
            return Response(status_code=304, headers=headers)
        content = await media.rendition_content(session=session, rendition=found)
    extension = found.content_type.rsplit("/", 1)[-1]
    headers["Content-Disposition"] = f'inline; filename="company-{media_id}-{rendition}.{extension}"'
    return Response(content=content, media_type=found.content_type, headers=headers)
