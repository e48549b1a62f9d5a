"""The resume builder, export and review (/api/v1/resumes/…).

The builder turns structured data (:class:`~.document.ResumeDocument`) into a generated
PDF version that is ``parsed`` at once (its data is what was typed, no parsing needed).
Export renders any parsed or built version with a template as PDF or Word. Review
scores a version, optionally against a job from the service's own job view."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from aujobs_common.app import runtime_of
from aujobs_common.documents import DocumentKind
from aujobs_common.errors import PROBLEM_RESPONSES, FieldError, ProblemError
from aujobs_common.idempotency import run_idempotent
from aujobs_common.security import CurrentPrincipal

from . import export, jobs_view, review, service
from .api import clock_of, file_headers, settings_of
from .document import ResumeDocument
from .models import ParseStatus, Resume, ResumeSource, ResumeVersion
from .schemas import BuilderCreate, DocumentSave, ResumeDetail, ReviewRequest, TemplateOut, VersionDetail
from .uploads import clean_text

router = APIRouter(prefix="/api/v1/resumes", tags=["resume builder"], responses={**PROBLEM_RESPONSES})

DEFAULT_TEMPLATE = "classic"
# Rendering is CPU-bound: a few at a time, off the event loop.
_RENDER_SLOTS = asyncio.Semaphore(2)


def _check_template(template: str, field: str = "template") -> str:
    if template not in export.TEMPLATES:
        raise ProblemError(
            422,
            f"Unknown template {template[:50]!r}; see GET /api/v1/resumes/templates.",
            type_="unknown-template",
            errors=[FieldError(field=field, message="unknown template")],
        )
    return template


def _default_template(*candidates: str | None) -> str:
    for candidate in candidates:
        if candidate and candidate in export.TEMPLATES:
            return candidate
    if DEFAULT_TEMPLATE in export.TEMPLATES or not export.TEMPLATES:
        return DEFAULT_TEMPLATE
    return next(iter(export.TEMPLATES))


async def _render(kind: DocumentKind, document: ResumeDocument, template: str) -> bytes:
    render = export.render_pdf if kind is DocumentKind.pdf else export.render_docx
    async with _RENDER_SLOTS:
        try:
            return await asyncio.to_thread(render, document, template)
        except export.ExportTooLargeError as exc:
            raise ProblemError(
                422,
                f"{exc} Shorten the resume (a few pages read best) and try again.",
                type_="document-too-long",
            ) from None


def _generated_filename(title: str, kind: DocumentKind) -> str:
    stem = clean_text(title).replace("/", "-").replace("\\", "-")[:180] or "resume"
    return f"{stem}.{kind.value}"


def not_parsed(version: ResumeVersion) -> ProblemError:
    if version.parse_status == ParseStatus.failed.value:
        detail = "This version could not be read, so it has no structured data; upload another file."
    else:
        detail = "This version is still being read; try again in a moment."
    return ProblemError(409, detail, type_="resume-not-parsed")


def _parsed_document(version: ResumeVersion) -> ResumeDocument:
    if version.parse_status != ParseStatus.parsed.value or version.document is None:
        raise not_parsed(version)
    return ResumeDocument.model_validate(version.document)


# ---------------------------------------------------------------- templates


@router.get("/templates", response_model=list[TemplateOut], summary="The builder's templates")
async def list_templates(principal: CurrentPrincipal) -> list[TemplateOut]:
    return [TemplateOut(name=name, description=description) for name, description in export.TEMPLATES.items()]


# ---------------------------------------------------------------- builder


@router.post(
    "/builder",
    status_code=201,
    response_model=ResumeDetail,
    summary="Create a resume from structured data (job seekers with a verified email)",
    description=(
        "Version 1 is a PDF generated with `template` from `document`, `parsed` at once. "
        "Unknown template: 422 `unknown-template`. Accepts `Idempotency-Key`."
    ),
)
async def build_resume(
    body: BuilderCreate,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    service.require_creator(principal)
    runtime = runtime_of(request)
    settings = settings_of(runtime)
    template = _check_template(body.template)
    title = service.clean_title(body.title) or "Resume"
    tags = service.normalise_tags(body.tags) or []
    data = await _render(DocumentKind.pdf, body.document, template)
    now = clock_of(runtime)()
    async with runtime.db.transaction() as session:

        async def create() -> tuple[int, Any]:
            resume = await service.create_with_version(
                session=session,
                owner_id=principal.user_id,
                title=title,
                tags=tags,
                source=ResumeSource.builder,
                data=data,
                kind=DocumentKind.pdf,
                filename=_generated_filename(title, DocumentKind.pdf),
                now=now,
                settings=settings,
                document=body.document,
                template=template,
            )
            return 201, await service.resume_detail(session, resume)

        response = await run_idempotent(
            session,
            key=idempotency_key,
            principal=str(principal.user_id),
            request=request,
            body=body.model_dump(mode="json"),
            create=create,
        )
    runtime.events_committed()
    return response


@router.put(
    "/{resume_id}/document",
    status_code=201,
    response_model=VersionDetail,
    summary="Save edited structured data as a new generated version",
    description=(
        "The new version is a PDF generated with `template` (default: the resume's current one), "
        "`parsed` at once. Accepts `Idempotency-Key`."
    ),
)
async def save_document(
    resume_id: uuid.UUID,
    body: DocumentSave,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    runtime = runtime_of(request)
    settings = settings_of(runtime)
    async with runtime.db.session() as session:
        resume: Resume = await service.get_resume(session=session, resume_id=resume_id, principal=principal)
    service.require_creator(principal)
    template = _check_template(body.template) if body.template else _default_template(resume.template)
    _check_template(template)
    data = await _render(DocumentKind.pdf, body.document, template)
    now = clock_of(runtime)()
    async with runtime.db.transaction() as session:

        async def create() -> tuple[int, Any]:
            resume = await service.get_resume(
                session=session, resume_id=resume_id, principal=principal, for_update=True
            )
            version = await service.add_version(
                session=session,
                resume=resume,
                data=data,
                kind=DocumentKind.pdf,
                filename=_generated_filename(resume.title, DocumentKind.pdf),
                now=now,
                max_versions=settings.versions_per_resume_max,
                document=body.document,
                template=template,
            )
            resume.template = template
            return 201, service.version_detail(version)

        response = await run_idempotent(
            session,
            key=idempotency_key,
            principal=str(principal.user_id),
            request=request,
            body={"document": body.document.model_dump(mode="json"), "template": template},
            create=create,
        )
    runtime.events_committed()
    return response


# ---------------------------------------------------------------- export


@router.get(
    "/{resume_id}/versions/{version_id}/export",
    response_class=Response,
    responses={
        200: {
            "content": {DocumentKind.pdf.media_type: {}, DocumentKind.docx.media_type: {}},
            "description": "The version's structured data rendered with the template",
        }
    },
    summary="Export a parsed or built version as PDF or Word with a template",
    description="409 `resume-not-parsed` while the version has no structured data; 422 for an "
    "unknown format or template.",
)
async def export_version(
    resume_id: uuid.UUID,
    version_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    format: Annotated[Literal["pdf", "docx"], Query()] = "pdf",
    template: Annotated[str | None, Query(max_length=50)] = None,
) -> Response:
    async with runtime_of(request).db.session() as session:
        resume = await service.get_resume(
            session=session, resume_id=resume_id, principal=principal, allow_admin=True
        )
        version = await service.get_version(session=session, resume=resume, version_id=version_id)
    chosen = (
        _check_template(template, "query.template")
        if template
        else _default_template(version.template, resume.template)
    )
    _check_template(chosen, "query.template")
    document = _parsed_document(version)
    kind = DocumentKind(format)
    data = await _render(kind, document, chosen)
    headers = file_headers(_generated_filename(resume.title, kind), cache="private, no-store")
    return Response(content=data, media_type=kind.media_type, headers=headers)


# ---------------------------------------------------------------- review


@router.post(
    "/{resume_id}/review",
    response_model=review.ResumeReview,
    summary="Score a version and suggest improvements, optionally against a job",
    description=(
        "`version_id` defaults to the latest. Give `job_id` (a listed job; 404 `job-not-found` "
        "otherwise) or an inline `job`, not both. 409 `resume-not-parsed` while the version is "
        "being read."
    ),
)
async def review_version(
    resume_id: uuid.UUID, body: ReviewRequest, request: Request, principal: CurrentPrincipal
) -> review.ResumeReview:
    if body.job_id is not None and body.job is not None:
        raise ProblemError(
            422,
            "Give job_id or job, not both.",
            type_="validation-error",
            errors=[FieldError(field="job", message="not together with job_id")],
        )
    async with runtime_of(request).db.session() as session:
        resume = await service.get_resume(
            session=session, resume_id=resume_id, principal=principal, allow_admin=True
        )
        if body.version_id is not None:
            version = await service.get_version(session=session, resume=resume, version_id=body.version_id)
        else:
            version = await service.latest_version(session=session, resume=resume)
        document = _parsed_document(version)
        text = await session.scalar(sa.select(ResumeVersion.text).where(ResumeVersion.id == version.id))
        job: review.JobContext | None = None
        if body.job_id is not None:
            job = await jobs_view.job_context(session=session, job_id=body.job_id)
        elif body.job is not None:
            job = review.JobContext(**body.job.model_dump())
    return await asyncio.to_thread(review.review_resume, document, text=text, job=job)
