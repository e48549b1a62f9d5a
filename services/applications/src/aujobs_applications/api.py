"""Applications (/api/v1/applications) and the employer pipeline of a job
(/api/v1/jobs/{job_id}/applications, routed here by the gateway).

Writes run in one transaction (``runtime.db.transaction()``) and wake the outbox relay
after commit. Who sees what is decided in :mod:`.service` (404 for anyone who may not
see a thing, never a 403 that would confirm it exists; callers without the employer or
admin role get 403 from the employer endpoints before any lookup)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.app import ServiceRuntime, runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, FieldError, ProblemError
from aujobs_common.events import ApplicationStatus
from aujobs_common.idempotency import run_idempotent
from aujobs_common.pagination import Page, PageParams, page_params
from aujobs_common.security import CurrentPrincipal, Principal, require_roles

from . import service
from .analytics import pipeline_analytics
from .models import Application, ApplicationNote
from .resumes_client import ResumeNotFound, ResumesClient, ResumesUnavailable, ResumeVersion
from .schemas import (
    ApplicationCreate,
    ApplicationOut,
    ApplicationSummary,
    AttachmentOut,
    BulkItemResult,
    BulkResult,
    BulkStatusChange,
    HistoryEntry,
    NoteCreate,
    NoteOut,
    PipelineAnalytics,
    ResumeOut,
    ReviewRequest,
    StatusChange,
    WithdrawRequest,
)
from .settings import ApplicationsSettings
from .workflow import Actor

router = APIRouter(prefix="/api/v1/applications", tags=["applications"], responses=PROBLEM_RESPONSES)
jobs_router = APIRouter(prefix="/api/v1/jobs", tags=["applications"], responses=PROBLEM_RESPONSES)

Employer = Annotated[Principal, Depends(require_roles("employer", "admin"))]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="ETag of the application (its version)")]

APPLICANT = frozenset({service.Access.applicant})
VIEWERS = frozenset({service.Access.applicant, service.Access.manager, service.Access.reader})
MANAGERS = frozenset({service.Access.manager})
COMPANY = frozenset({service.Access.manager, service.Access.reader})


def clock_of(runtime: ServiceRuntime) -> Callable[[], datetime]:
    return runtime.extras.get("clock", service.utcnow)


def settings_of(runtime: ServiceRuntime) -> ApplicationsSettings:
    settings = runtime.settings
    assert isinstance(settings, ApplicationsSettings)
    return settings


def resumes_of(runtime: ServiceRuntime) -> ResumesClient:
    return runtime.extras["resumes"]


# ---------------------------------------------------------------- presenting


def _history(rows: list[Any], *, employer: bool) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            from_status=ApplicationStatus(row.from_status) if row.from_status else None,
            status=ApplicationStatus(row.to_status),
            changed_at=row.changed_at,
            message=row.message,
            changed_by=row.changed_by if employer else None,
        )
        for row in rows
    ]


async def present_many(
    session: AsyncSession, applications: list[Application], access: service.Access
) -> list[ApplicationOut]:
    """The applications in full (history and attachments fetched in one query each). The
    company's view adds the applicant, who changed what, the match score and the time of
    first review. Notes are never included (they have their own endpoint)."""
    employer = access is not service.Access.applicant
    ids = [a.id for a in applications]
    histories = await service.history_of(session, ids)
    attachments = await service.attachments_of(session, ids)
    return [
        ApplicationOut(
            id=application.id,
            job_id=application.job_id,
            company_id=application.company_id,
            job_title=application.job_title,
            company_name=application.company_name,
            status=ApplicationStatus(application.status),
            version=application.version,
            cover_letter=application.cover_letter,
            answers=application.answers,
            resume=ResumeOut(
                resume_id=application.resume_id,
                version_id=application.resume_version_id,
                filename=application.resume_filename,
                content_type=application.resume_content_type,
                size_bytes=application.resume_size_bytes,
                sha256=application.resume_sha256,
            ),
            attachments=[
                AttachmentOut(
                    id=a.id,
                    kind=a.kind,  # type: ignore[arg-type]
                    filename=a.filename,
                    content_type=a.content_type,
                    size_bytes=a.size_bytes,
                    created_at=a.created_at,
                )
                for a in attachments[application.id]
            ],
            submitted_at=application.submitted_at,
            updated_at=application.updated_at,
            history=_history(histories[application.id], employer=employer),
            applicant_id=application.applicant_id if employer else None,
            match_score=application.match_score if employer else None,
            first_reviewed_at=application.first_reviewed_at if employer else None,
            hired_at=application.hired_at,
        )
        for application in applications
    ]


async def present(session: AsyncSession, application: Application, access: service.Access) -> ApplicationOut:
    (out,) = await present_many(session, [application], access)
    return out


def _with_etag(out: ApplicationOut, status_code: int = 200) -> JSONResponse:
    return JSONResponse(
        out.model_dump(mode="json"), status_code=status_code, headers={"ETag": f'"{out.version}"'}
    )


# ---------------------------------------------------------------- applying


async def _fetch_resume(
    runtime: ServiceRuntime, data: ApplicationCreate, authorization: str, applicant_id: uuid.UUID
) -> tuple[ResumeVersion, bytes]:
    """The chosen version and its bytes, asked for with the applicant's own token. Only
    the applicant's own resume will do: the resumes service lets admins read anyone's,
    and an admin may be a job seeker too."""
    client = resumes_of(runtime)
    settings = settings_of(runtime)
    try:
        version = await client.get_version(
            data.resume_id, data.resume_version_id, authorization=authorization
        )
        if version.owner_id != applicant_id:
            raise ResumeNotFound
        if version.size_bytes > settings.resume_max_bytes:
            raise ProblemError(
                422, "This resume is larger than an application may carry.", type_="resume-too-large"
            )
        content = await client.get_file(
            data.resume_id,
            data.resume_version_id,
            authorization=authorization,
            max_bytes=settings.resume_max_bytes,
        )
    except ResumeNotFound:
        raise ProblemError(
            422,
            "No such resume version among your resumes.",
            type_="resume-not-found",
            errors=[FieldError(field="resume_version_id", message="not one of your resume versions")],
        ) from None
    except ResumesUnavailable:
        raise ProblemError(
            503,
            "Your resume could not be fetched just now; please try again in a moment.",
            type_="resumes-unavailable",
            headers={"Retry-After": "5"},
        ) from None
    if hashlib.sha256(content).hexdigest() != version.sha256.lower():
        raise ProblemError(
            503,
            "Your resume could not be fetched intact; please try again in a moment.",
            type_="resumes-unavailable",
            headers={"Retry-After": "5"},
        )
    return version, content


@router.post(
    "",
    status_code=201,
    response_model=ApplicationOut,
    summary="Apply for a job (job seekers with a verified email)",
    description=(
        "Copies the chosen resume version from the resumes service (asked with the caller's own "
        "token), checks the answers against the job's screening questions, and sends "
        "`application.submitted`. One application per job per person (409 `already-applied`, with "
        "`application_id`). Accepts `Idempotency-Key`."
    ),
)
async def apply(
    body: ApplicationCreate,
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    service.check_applicant(principal)
    runtime = runtime_of(request)
    settings = settings_of(runtime)
    now = clock_of(runtime)()
    allow_reapply = settings.allow_reapply_after_withdraw

    async def replayable() -> bool:
        async with runtime.db.session() as session:
            return await service.stored_idempotent_result(session, principal, idempotency_key)

    resume: tuple[ResumeVersion, bytes] | None = None
    if not await replayable():
        try:
            async with runtime.db.session() as session:
                await service.precheck(
                    session=session, principal=principal, data=body, now=now, allow_reapply=allow_reapply
                )
        except ProblemError:
            # The first request with this key may have finished meanwhile: replay it.
            if not await replayable():
                raise
        else:
            resume = await _fetch_resume(runtime, body, request.headers["authorization"], principal.user_id)

    async with runtime.db.transaction() as session:

        async def create() -> tuple[int, Any]:
            if resume is None:  # the stored result vanished: ask for a fresh attempt
                raise ProblemError(409, "Please send the application again.", type_="conflict")
            application = await service.submit(
                session=session,
                principal=principal,
                data=body,
                resume=resume[0],
                content=resume[1],
                blobs=runtime.extras["blobs"],
                now=now,
                allow_reapply=allow_reapply,
            )
            return 201, await present(session, application, service.Access.applicant)

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


# ---------------------------------------------------------------- the applicant's own


@router.get(
    "",
    response_model=Page[ApplicationSummary],
    summary="My applications, newest first",
)
async def my_applications(
    request: Request,
    principal: CurrentPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[list[ApplicationStatus] | None, Query(description="Only these statuses")] = None,
) -> Page[ApplicationSummary]:
    async with runtime_of(request).db.session() as session:
        query = sa.select(Application).where(Application.applicant_id == principal.user_id)
        if status:
            query = query.where(Application.status.in_([s.value for s in status]))
        query = service.keyset(
            query, sort="submitted_at", descending=True, cursor=page.cursor, limit=page.limit
        )
        rows = list((await session.scalars(query)).all())
        cursor = service.next_cursor(rows, sort="submitted_at", descending=True, limit=page.limit)
        rows = rows[: page.limit]
        histories = await service.history_of(session, [r.id for r in rows])
        items = [
            ApplicationSummary(
                id=r.id,
                job_id=r.job_id,
                job_title=r.job_title,
                company_name=r.company_name,
                status=ApplicationStatus(r.status),
                submitted_at=r.submitted_at,
                updated_at=r.updated_at,
                history=_history(histories[r.id], employer=False),
            )
            for r in rows
        ]
    return Page[ApplicationSummary](items=items, next_cursor=cursor)


@router.get(
    "/{application_id}",
    response_model=ApplicationOut,
    summary="One application: the applicant's own, or one sent to your company (admins: any)",
)
async def get_application(
    application_id: uuid.UUID, request: Request, principal: CurrentPrincipal
) -> JSONResponse:
    async with runtime_of(request).db.session() as session:
        application, access = await service.get_visible(
            session, principal, application_id, allowed_access=VIEWERS
        )
        return _with_etag(await present(session, application, access))


@router.post(
    "/{application_id}/withdraw",
    response_model=ApplicationOut,
    summary="Withdraw my application (from any open status)",
)
async def withdraw(
    application_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    body: Annotated[WithdrawRequest | None, Body()] = None,
    if_match: IfMatch = None,
) -> JSONResponse:
    body = body or WithdrawRequest()
    return await _move(
        request,
        principal,
        application_id,
        allowed_access=APPLICANT,
        target=ApplicationStatus.withdrawn,
        actor=Actor.applicant,
        message=body.reason,
        expected=_expected(if_match, body.expected_version),
    )


async def _move(
    request: Request,
    principal: Principal,
    application_id: uuid.UUID,
    *,
    allowed_access: Any,
    target: ApplicationStatus,
    actor: Actor,
    message: str | None = None,
    expected: int | None = None,
    only_from: ApplicationStatus | None = None,
) -> JSONResponse:
    """One status change in one transaction (the application locked, its event in the
    outbox), answered with the caller's view and its ETag. ``only_from``: change nothing
    unless the application is in that status (review is idempotent)."""
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        application, access = await service.get_visible(
            session, principal, application_id, allowed_access=allowed_access, for_update=True
        )
        if only_from is None or application.status == only_from.value:
            await service.change_status(
                session=session,
                application=application,
                target=target,
                actor=actor,
                by=principal.user_id,
                now=clock_of(runtime)(),
                message=message,
                expected_version=expected,
            )
        out = await present(session, application, access)
    runtime.events_committed()
    return _with_etag(out)


def _expected(if_match: str | None, in_body: int | None) -> int | None:
    header = service.parse_if_match(if_match)
    if header is not None and in_body is not None and header != in_body:
        raise ProblemError(400, "If-Match and expected_version disagree.", type_="invalid-if-match")
    return header if header is not None else in_body


# ---------------------------------------------------------------- the company's pipeline


@router.post(
    "/{application_id}/review",
    response_model=ApplicationOut,
    summary="Mark a submitted application reviewed (hiring company)",
    description=(
        "Records the time of first review. Changes nothing when the application is already past submitted."
    ),
)
async def review(
    application_id: uuid.UUID,
    request: Request,
    principal: Employer,
    body: Annotated[ReviewRequest | None, Body()] = None,
    if_match: IfMatch = None,
) -> JSONResponse:
    return await _move(
        request,
        principal,
        application_id,
        allowed_access=MANAGERS,
        target=ApplicationStatus.reviewed,
        actor=Actor.employer,
        expected=_expected(if_match, body.expected_version if body else None),
        only_from=ApplicationStatus.submitted,
    )


@router.post(
    "/{application_id}/status",
    response_model=ApplicationOut,
    summary="Move an application along the pipeline, or reject it (hiring company)",
    description=(
        "Forward moves (stages may be skipped) and rejection from any open status; never "
        "backwards, never out of hired/rejected/withdrawn (409 `invalid-transition`). "
        '`If-Match: "<version>"` or `expected_version`: 412 when the application changed meanwhile.'
    ),
)
async def set_status(
    application_id: uuid.UUID,
    body: StatusChange,
    request: Request,
    principal: Employer,
    if_match: IfMatch = None,
) -> JSONResponse:
    return await _move(
        request,
        principal,
        application_id,
        allowed_access=MANAGERS,
        target=body.status,
        actor=Actor.employer,
        message=body.message,
        expected=_expected(if_match, body.expected_version),
    )


# ---------------------------------------------------------------- notes


def _note_out(note: ApplicationNote) -> NoteOut:
    return NoteOut(
        id=note.id,
        application_id=note.application_id,
        author_id=note.author_id,
        text=note.text,
        created_at=note.created_at,
    )


@router.post(
    "/{application_id}/notes",
    status_code=201,
    response_model=NoteOut,
    summary="Add a private note (hiring company; never shown to the applicant)",
)
async def add_note(
    application_id: uuid.UUID, body: NoteCreate, request: Request, principal: Employer
) -> NoteOut:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        application, _ = await service.get_visible(
            session, principal, application_id, allowed_access=MANAGERS
        )
        text = body.text.strip()
        if not text:
            raise ProblemError(
                422,
                "A note needs some text.",
                type_="validation-error",
                errors=[FieldError(field="text", message="must not be blank")],
            )
        note = ApplicationNote(
            application_id=application.id,
            author_id=principal.user_id,
            text=text,
            created_at=clock_of(runtime)(),
        )
        session.add(note)
        await session.flush()
        return _note_out(note)


@router.get(
    "/{application_id}/notes",
    response_model=list[NoteOut],
    summary="The company's private notes on an application, oldest first (hiring company, admins)",
)
async def list_notes(application_id: uuid.UUID, request: Request, principal: Employer) -> list[NoteOut]:
    async with runtime_of(request).db.session() as session:
        application, _ = await service.get_visible(session, principal, application_id, allowed_access=COMPANY)
        notes = await session.scalars(
            sa.select(ApplicationNote)
            .where(ApplicationNote.application_id == application.id)
            .order_by(ApplicationNote.created_at, ApplicationNote.id)
        )
        return [_note_out(n) for n in notes]


@router.delete(
    "/{application_id}/notes/{note_id}", status_code=204, summary="Delete a note you wrote (hiring company)"
)
async def delete_note(
    application_id: uuid.UUID, note_id: uuid.UUID, request: Request, principal: Employer
) -> Response:
    async with runtime_of(request).db.transaction() as session:
        application, _ = await service.get_visible(
            session, principal, application_id, allowed_access=MANAGERS
        )
        note = await session.get(ApplicationNote, note_id)
        if note is None or note.application_id != application.id:
            raise ProblemError(404, "No such note.", type_="note-not-found")
        if note.author_id != principal.user_id:
            raise ProblemError(403, "Only the author may delete a note.", type_="forbidden")
        await session.delete(note)
    return Response(status_code=204)


# ---------------------------------------------------------------- analytics


@router.get(
    "/analytics/companies/{company_id}",
    response_model=PipelineAnalytics,
    summary="Hiring-pipeline figures over all of a company's jobs (members, admins)",
)
async def company_analytics(
    company_id: uuid.UUID, request: Request, principal: Employer
) -> PipelineAnalytics:
    async with runtime_of(request).db.session() as session:
        await service.require_company_reader(session, principal, company_id)
        return await pipeline_analytics(session=session, scope="company", company_id=company_id)


@jobs_router.get(
    "/{job_id}/applications/analytics",
    response_model=PipelineAnalytics,
    summary="Hiring-pipeline figures of one job (hiring company, admins)",
)
async def job_analytics(job_id: uuid.UUID, request: Request, principal: Employer) -> PipelineAnalytics:
    async with runtime_of(request).db.session() as session:
        job = await service.get_job_for_employer(session, principal, job_id)
        return await pipeline_analytics(session=session, scope="job", job_id=job.job_id)


# ---------------------------------------------------------------- a job's applicants


@jobs_router.get(
    "/{job_id}/applications",
    response_model=Page[ApplicationOut],
    summary="The applications to a job (hiring company, admins)",
    description=(
        "Filters: `status` (repeatable), `submitted_after` / `submitted_before`, `min_match_score`, and "
        "`answer.<question_id>=<value>` (yes/no questions: yes|no; choice questions: an option — a "
        "multi-choice answer matches when it includes it; free text: a case-insensitive substring). "
        "Sort: `sort=submitted_at|match_score|status` with `order=asc|desc` (ties broken by id; no "
        "score sorts as the lowest). The caller's own application (a member who applied to their "
        "company's job) is never listed: they see it only as the applicant."
    ),
)
async def job_applications(
    job_id: uuid.UUID,
    request: Request,
    principal: Employer,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[list[ApplicationStatus] | None, Query()] = None,
    submitted_after: Annotated[datetime | None, Query()] = None,
    submitted_before: Annotated[datetime | None, Query()] = None,
    min_match_score: Annotated[int | None, Query(ge=0, le=100)] = None,
    sort: Annotated[Literal["submitted_at", "match_score", "status"], Query()] = "submitted_at",
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> Page[ApplicationOut]:
    async with runtime_of(request).db.session() as session:
        job = await service.get_job_for_employer(session, principal, job_id)
        answer_params = [
            (key.removeprefix("answer."), value)
            for key, value in request.query_params.multi_items()
            if key.startswith("answer.")
        ]
        # The caller's own application (a member who applied to their company's job) is
        # theirs only as the applicant: never in the company's view of it.
        query = sa.select(Application).where(
            Application.job_id == job.job_id, Application.applicant_id != principal.user_id
        )
        for clause in service.answer_filters(job, answer_params):
            query = query.where(clause)
        if status:
            query = query.where(Application.status.in_([s.value for s in status]))
        if submitted_after is not None:
            query = query.where(Application.submitted_at >= submitted_after)
        if submitted_before is not None:
            query = query.where(Application.submitted_at < submitted_before)
        if min_match_score is not None:
            query = query.where(Application.match_score >= min_match_score)
        descending = order == "desc"
        query = service.keyset(query, sort=sort, descending=descending, cursor=page.cursor, limit=page.limit)
        rows = list((await session.scalars(query)).all())
        cursor = service.next_cursor(rows, sort=sort, descending=descending, limit=page.limit)
        items = await present_many(session, rows[: page.limit], service.Access.manager)
    return Page[ApplicationOut](items=items, next_cursor=cursor)


@jobs_router.post(
    "/{job_id}/applications/bulk-status",
    response_model=BulkResult,
    summary="Change the status of up to 200 applications to a job (hiring company)",
    description=(
        "Each application changes in its own transaction (one event each): the result per id is "
        "`changed`, `invalid-transition` (unchanged) or `not-found` (not an application to this job "
        "that the caller manages: another company's, another job's, or the caller's own — the cases "
        "where the single status change answers 404)."
    ),
)
async def bulk_status(
    job_id: uuid.UUID, body: BulkStatusChange, request: Request, principal: Employer
) -> BulkResult:
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        await service.get_job_for_employer(session, principal, job_id, write=True)
    results: list[BulkItemResult] = []
    changed = 0
    for application_id in dict.fromkeys(body.application_ids):
        async with runtime.db.transaction() as session:
            application = await service.load(session, application_id, for_update=True)
            # The same decision as the single status change (service.access_to): only an
            # application the caller manages, and not their own, is found; anything else
            # (another company's, another job's, their own) is "not-found", as it is 404 there.
            if (
                application is None
                or application.job_id != job_id
                or await service.access_to(session, principal, application) is not service.Access.manager
            ):
                results.append(BulkItemResult(application_id=application_id, result="not-found"))
                continue
            try:
                await service.change_status(
                    session=session,
                    application=application,
                    target=body.status,
                    actor=Actor.employer,
                    by=principal.user_id,
                    now=clock_of(runtime)(),
                    message=body.message,
                )
            except ProblemError as exc:
                if exc.status != 409:
                    raise
                results.append(
                    BulkItemResult(
                        application_id=application_id,
                        result="invalid-transition",
                        status=ApplicationStatus(application.status),
                    )
                )
                continue
            results.append(
                BulkItemResult(application_id=application_id, result="changed", status=body.status)
            )
            changed += 1
    if changed:
        runtime.events_committed()
    return BulkResult(results=results, changed=changed)
