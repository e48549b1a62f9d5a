"""Company media (/api/v1/companies/{company_id}/logo, /images, /media/...).

Uploads are ``multipart/form-data`` with the picture in the field ``file`` (and, for
images, an optional ``alt_text`` of at most 200 characters). The body is parsed here,
as it streams in, rather than by FastAPI: the caller's permission is checked before a
byte is read, and reading stops as soon as the file passes ``media_max_bytes``."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, FieldError, ProblemError
from aujobs_common.idempotency import run_idempotent
from aujobs_common.pagination import Page
from aujobs_common.security import Principal, require_roles

from . import companies, media
from .settings import JobsSettings

router = APIRouter(prefix="/api/v1/companies", tags=["media"], responses={**PROBLEM_RESPONSES})

EmployerOrAdmin = Annotated[Principal, Depends(require_roles("employer", "admin"))]

# Room for the multipart boundaries and part headers around the file itself.
FORM_OVERHEAD = 16 * 1024
TEXT_FIELD_MAX_BYTES = 4 * 1024
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


# ---------------------------------------------------------------- streaming multipart


def _invalid_form(message: str, field_name: str = "file") -> ProblemError:
    return ProblemError(
        422,
        "The upload must be multipart/form-data with the picture in the field 'file'.",
        type_="validation-error",
        errors=[FieldError(field=field_name, message=message)],
    )


def _too_large(max_bytes: int) -> ProblemError:
    return ProblemError(
        413, f"The file is larger than {max_bytes // (1024 * 1024)} MiB.", type_="file-too-large"
    )


@dataclass
class _FormReader:
    """python-multipart callbacks that keep one file (up to ``max_bytes``) and a few
    short text fields. Problems are noted, not raised, inside the callbacks and raised
    by ``check`` between chunks."""

    max_bytes: int
    text_fields: frozenset[str]
    file: bytearray | None = None
    fields: dict[str, str] = field(default_factory=dict)
    problem: ProblemError | None = None
    _headers: dict[bytes, bytes] = field(default_factory=dict)
    _header_name: bytes = b""
    _header_value: bytes = b""
    _part: str | None = None
    _text: bytearray = field(default_factory=bytearray)

    def _fail(self, problem: ProblemError) -> None:
        self.problem = self.problem or problem

    def on_part_begin(self) -> None:
        self._headers, self._part, self._text = {}, None, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name == "file":
            if self.file is not None:
                self._fail(_invalid_form("send exactly one file"))
            self.file = bytearray()
        elif name in self.text_fields:
            if name in self.fields:
                self._fail(_invalid_form("send this field once", name))
        else:
            self._fail(_invalid_form(f"unknown form field {name!r}", name or "body"))
        self._part = name

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.problem is not None:
            return
        chunk = data[start:end]
        if self._part == "file" and self.file is not None:
            if len(self.file) + len(chunk) > self.max_bytes:
                self._fail(_too_large(self.max_bytes))
                return
            self.file += chunk
        else:
            if len(self._text) + len(chunk) > TEXT_FIELD_MAX_BYTES:
                self._fail(_invalid_form("too long", self._part or "body"))
                return
            self._text += chunk

    def on_part_end(self) -> None:
        if self._part in self.text_fields and self.problem is None:
            self.fields[self._part] = self._text.decode("utf-8", "replace")

    def check(self) -> None:
        if self.problem is not None:
            raise self.problem


@dataclass(frozen=True)
class Upload:
    data: bytes
    fields: dict[str, str]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


async def read_upload(
    request: Request, *, max_bytes: int, text_fields: frozenset[str] = frozenset()
) -> Upload:
    """The uploaded file and text fields, read from the body as it arrives; stops at
    ``max_bytes`` + 1 bytes of file with a 413 (or before reading, when the declared
    Content-Length already says so)."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise _invalid_form("expected a multipart/form-data body")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + FORM_OVERHEAD:
        raise _too_large(max_bytes)
    reader = _FormReader(max_bytes=max_bytes, text_fields=text_fields)
    callbacks = {
        name: getattr(reader, name)
        for name in (
            "on_part_begin",
            "on_part_data",
            "on_part_end",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            reader.check()
        parser.finalize()
    except FormParserError as exc:
        raise _invalid_form("the multipart body is malformed") from exc
    reader.check()
    if reader.file is None:
        raise _invalid_form("a file is required")
    if not reader.file:
        raise media.unsupported()
    return Upload(data=bytes(reader.file), fields=reader.fields)


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


async def _process(upload: Upload, kind: media.MediaKind, settings: JobsSettings) -> media.ProcessedImage:
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
    upload = await read_upload(request, max_bytes=settings.media_max_bytes)
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
    upload = await read_upload(
        request, max_bytes=settings.media_max_bytes, text_fields=frozenset({"alt_text"})
    )
    alt_text = media.clean_alt_text(upload.fields.get("alt_text"))
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
            method="POST",
            path=request.url.path,
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


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


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
        if _etag_matches(if_none_match, etag):
            return Response(status_code=304, headers=headers)
        content = await media.rendition_content(session=session, rendition=found)
    extension = found.content_type.rsplit("/", 1)[-1]
    headers["Content-Disposition"] = f'inline; filename="company-{media_id}-{rendition}.{extension}"'
    return Response(content=content, media_type=found.content_type, headers=headers)
