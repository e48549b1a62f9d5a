"""Job postings (/api/v1/jobs): create and edit, the publishing workflow, moderation,
featuring and templates."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.app import ServiceRuntime, runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, ProblemError
from aujobs_common.events import JobStatus
from aujobs_common.idempotency import run_idempotent
from aujobs_common.pagination import Page, PageParams, page_params
from aujobs_common.security import OptionalPrincipal, Principal, require_roles

from . import analytics, companies, media, service
from .models import JobPosting
from .schemas import (
    FeatureRequest,
    JobCreate,
    JobOut,
    JobUpdate,
    ModerationDecision,
    PublishRequest,
    TemplateCreate,
    TemplateOut,
)

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], responses=PROBLEM_RESPONSES)

Employer = Annotated[Principal, Depends(require_roles("employer", "admin"))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]


def clock_of(runtime: ServiceRuntime) -> Callable[[], datetime]:
    return runtime.extras.get("clock", service.utcnow)


def policy_of(runtime: ServiceRuntime) -> service.WorkflowPolicy:
    return runtime.extras.get("workflow_policy", service.WorkflowPolicy())


def presenter_of(runtime: ServiceRuntime) -> service.Presenter:
    return runtime.extras.get("presenter", service.Presenter())


async def present(
    session: AsyncSession, runtime: ServiceRuntime, jobs: list[JobPosting], *, private: bool | set[uuid.UUID]
) -> list[JobOut]:
    """``private``: True for all, or the ids of the postings the viewer manages."""
    owners = await service.companies_of(session, jobs)
    now = clock_of(runtime)()
    presenter = presenter_of(runtime)
    out = []
    for job in jobs:
        company = owners.get(job.company_id) if job.company_id else None
        logos = media.logo_urls(company) if company else None
        private_view = private if isinstance(private, bool) else job.id in private
        largest = list(logos.values())[-1] if logos else None
        out.append(presenter.out(job, company, private=private_view, logo=largest, now=now))
    return out


async def _change(
    request: Request,
    principal: Principal,
    job_id: uuid.UUID,
    change: Callable[[AsyncSession, JobPosting, datetime], Any],
    *,
    admin_only: bool = False,
) -> JobOut:
    """Runs ``change`` on the locked posting in one transaction and presents it."""
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        job = await service.get_managed_job(
            session=session, job_id=job_id, principal=principal, admin_only=admin_only
        )
        await change(session, job, clock_of(runtime)())
        (out,) = await present(session, runtime, [job], private=True)
    runtime.events_committed()
    return out


# ---------------------------------------------------------------- collection


@router.post("", status_code=201, response_model=JobOut, summary="Create a job posting (a draft)")
async def create_job(
    body: JobCreate,
    request: Request,
    employer: Employer,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:

        async def create() -> tuple[int, Any]:
            job = await service.create_job(
                session=session, principal=employer, data=body, now=clock_of(runtime)()
            )
            (out,) = await present(session, runtime, [job], private=True)
            return 201, out

        return await run_idempotent(
            session,
            key=idempotency_key,
            principal=str(employer.user_id),
            request=request,
            body=body.model_dump(mode="json"),
            create=create,
        )


@router.get(
    "",
    response_model=Page[JobOut],
    summary="Active jobs (optionally one company's), or with mine=true every job of your companies",
)
async def list_jobs(
    request: Request,
    principal: OptionalPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    mine: Annotated[bool, Query(description="The postings of my companies, in every status")] = False,
    company_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[JobStatus | None, Query(description="With mine=true: only this status")] = None,
) -> Page[JobOut]:
    if mine and principal is None:
        raise ProblemError(401, "Sign in to list your own jobs.", type_="authentication-required")
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        rows, next_cursor = await service.list_jobs(
            session=session,
            page=page,
            manager=principal if mine else None,
            company_id=company_id,
            status=status if mine else None,
        )
        items = await present(session, runtime, rows, private=mine)
    return Page[JobOut](items=items, next_cursor=next_cursor)


@router.get("/moderation", response_model=Page[JobOut], summary="Postings awaiting moderation (admin)")
async def moderation_queue(
    request: Request, admin: Admin, page: Annotated[PageParams, Depends(page_params)]
) -> Page[JobOut]:
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        rows, next_cursor = await service.moderation_queue(session=session, page=page)
        items = await present(session, runtime, rows, private=True)
    return Page[JobOut](items=items, next_cursor=next_cursor)


# ---------------------------------------------------------------- templates


@router.post(
    "/templates", status_code=201, response_model=TemplateOut, summary="Save a posting as a template"
)
async def save_template(body: TemplateCreate, request: Request, employer: Employer) -> TemplateOut:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        job = await service.get_managed_job(session=session, job_id=body.job_id, principal=employer)
        template = await service.save_template(
            session=session, job=job, name=body.name, principal=employer, now=clock_of(runtime)()
        )
        return service.template_out(template)


@router.get("/templates", response_model=list[TemplateOut], summary="A company's templates (members)")
async def list_templates(
    request: Request, employer: Employer, company_id: Annotated[uuid.UUID, Query()]
) -> list[TemplateOut]:
    async with runtime_of(request).db.session() as session:
        await companies.get_company(session=session, company_id=company_id)
        await companies.require_member(
            session=session, company_id=company_id, principal=employer, allow_admin=True
        )
        return [
            service.template_out(t)
            for t in await service.list_templates(session=session, company_id=company_id)
        ]


@router.delete("/templates/{template_id}", status_code=204, summary="Delete a template (members)")
async def delete_template(template_id: uuid.UUID, request: Request, employer: Employer) -> Response:
    async with runtime_of(request).db.transaction() as session:
        template = await service.get_template(session=session, template_id=template_id, principal=employer)
        await session.delete(template)
    return Response(status_code=204)


@router.post(
    "/templates/{template_id}/jobs",
    status_code=201,
    response_model=JobOut,
    summary="Create a draft from a template; the body overrides any of its fields",
)
async def create_from_template(
    template_id: uuid.UUID,
    request: Request,
    employer: Employer,
    overrides: Annotated[JobUpdate, Body()] = JobUpdate(),
) -> JobOut:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        template = await service.get_template(session=session, template_id=template_id, principal=employer)
        data = service.from_template(template, overrides.model_dump(mode="json", exclude_unset=True))
        job = await service.create_job(
            session=session, principal=employer, data=data, now=clock_of(runtime)()
        )
        (out,) = await present(session, runtime, [job], private=True)
    return out


# ---------------------------------------------------------------- one posting


@router.get("/{job_id}", response_model=JobOut, summary="A job posting")
async def get_job(job_id: uuid.UUID, request: Request, principal: OptionalPrincipal) -> JobOut:
    runtime = runtime_of(request)
    async with runtime.db.session() as session:
        job, managed = await service.get_visible_job(session=session, job_id=job_id, principal=principal)
        (out,) = await present(session, runtime, [job], private=managed)
    if not managed and job.status == JobStatus.active.value:
        tally: analytics.ViewTally = runtime.extras["view_tally"]
        tally.add(job.id, clock_of(runtime)())
    return out


@router.patch("/{job_id}", response_model=JobOut, summary="Change a job posting (company members)")
async def update_job(job_id: uuid.UUID, body: JobUpdate, request: Request, employer: Employer) -> JobOut:
    async def change(session: AsyncSession, job: JobPosting, now: datetime) -> None:
        await service.update_job(session=session, job=job, data=body, now=now)

    return await _change(request, employer, job_id, change)


@router.post(
    "/{job_id}/publish",
    response_model=JobOut,
    summary="Publish a draft: now, or at publish_at; to moderation first when the company is "
    "unverified or the content is flagged",
)
async def publish_job(
    job_id: uuid.UUID,
    request: Request,
    employer: Employer,
    body: Annotated[PublishRequest | None, Body()] = None,
) -> JobOut:
    if not employer.email_verified:
        raise ProblemError(
            403, "Verify your email address before publishing jobs.", type_="email-not-verified"
        )
    policy = policy_of(runtime_of(request))

    async def change(session: AsyncSession, job: JobPosting, now: datetime) -> None:
        publish_at = body.publish_at if body else None
        await service.publish_job(session=session, job=job, publish_at=publish_at, policy=policy, now=now)

    return await _change(request, employer, job_id, change)


@router.post(
    "/{job_id}/moderation",
    response_model=JobOut,
    summary="Approve a pending posting, or send it back to draft with a reason (admin)",
)
async def moderate_job(job_id: uuid.UUID, body: ModerationDecision, request: Request, admin: Admin) -> JobOut:
    policy = policy_of(runtime_of(request))

    async def change(session: AsyncSession, job: JobPosting, now: datetime) -> None:
        await service.moderate_job(
            session=session, job=job, approve=body.approve, reason=body.reason, policy=policy, now=now
        )

    return await _change(request, admin, job_id, change, admin_only=True)


@router.post(
    "/{job_id}/withdraw", response_model=JobOut, summary="Take a pending or scheduled job back to draft"
)
async def withdraw_job(job_id: uuid.UUID, request: Request, employer: Employer) -> JobOut:
    async def change(session: AsyncSession, job: JobPosting, now: datetime) -> None:
        await service.withdraw_job(session=session, job=job, now=now)

    return await _change(request, employer, job_id, change)


@router.post("/{job_id}/close", response_model=JobOut, summary="Close an active job")
async def close_job(job_id: uuid.UUID, request: Request, employer: Employer) -> JobOut:
    async def change(session: AsyncSession, job: JobPosting, now: datetime) -> None:
        await service.close_job(session=session, job=job, now=now)

    return await _change(request, employer, job_id, change)


@router.post(
    "/{job_id}/renew", response_model=JobOut, summary="Another full lifetime for an active or expired job"
)
async def renew_job(job_id: uuid.UUID, request: Request, employer: Employer) -> JobOut:
    policy = policy_of(runtime_of(request))

    async def change(session: AsyncSession, job: JobPosting, now: datetime) -> None:
        await service.renew_job(session=session, job=job, policy=policy, now=now)

    return await _change(request, employer, job_id, change)


@router.put("/{job_id}/featured", response_model=JobOut, summary="Feature a job for a time window (admin)")
async def feature_job(job_id: uuid.UUID, body: FeatureRequest, request: Request, admin: Admin) -> JobOut:
    async def change(session: AsyncSession, job: JobPosting, now: datetime) -> None:
        await service.set_featured(
            session=session,
            job=job,
            featured_from=body.featured_from,
            featured_until=body.featured_until,
            now=now,
        )

    return await _change(request, admin, job_id, change, admin_only=True)


@router.delete("/{job_id}/featured", response_model=JobOut, summary="Stop featuring a job (admin)")
async def unfeature_job(job_id: uuid.UUID, request: Request, admin: Admin) -> JobOut:
    async def change(session: AsyncSession, job: JobPosting, now: datetime) -> None:
        await service.set_featured(session=session, job=job, featured_from=None, featured_until=None, now=now)

    return await _change(request, admin, job_id, change, admin_only=True)
