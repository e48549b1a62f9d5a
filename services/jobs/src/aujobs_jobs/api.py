from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, ProblemError
from aujobs_common.idempotency import run_idempotent
from aujobs_common.pagination import Page, PageParams, page_params
from aujobs_common.security import OptionalPrincipal, Principal, require_roles

from . import service
from .schemas import JobCreate, JobOut, JobUpdate

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], responses=PROBLEM_RESPONSES)

Employer = Annotated[Principal, Depends(require_roles("employer", "admin"))]


@router.post("", status_code=201, response_model=JobOut, summary="Create a job posting (draft)")
async def create_job(
    body: JobCreate,
    request: Request,
    employer: Employer,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:

        async def create() -> tuple[int, Any]:
            job = await service.create_job(session=session, owner=employer, data=body)
            return 201, service.to_out(job)

        return await run_idempotent(
            session,
            key=idempotency_key,
            principal=str(employer.user_id),
            method="POST",
            path=request.url.path,
            body=body.model_dump(mode="json"),
            create=create,
        )


@router.get("", response_model=Page[JobOut], summary="List active jobs, or your own with mine=true")
async def list_jobs(
    request: Request,
    principal: OptionalPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    mine: Annotated[bool, Query(description="Only my postings, in every status")] = False,
) -> Page[JobOut]:
    if mine and principal is None:
        raise ProblemError(401, "Sign in to list your own jobs.", type_="authentication-required")
    async with runtime_of(request).db.session() as session:
        rows, next_cursor = await service.list_jobs(
            session=session, page=page, owner=principal if mine else None
        )
    return Page[JobOut](items=[service.to_out(j) for j in rows], next_cursor=next_cursor)


@router.get("/{job_id}", response_model=JobOut, summary="A job posting")
async def get_job(job_id: uuid.UUID, request: Request, principal: OptionalPrincipal) -> JobOut:
    async with runtime_of(request).db.session() as session:
        job = await service.get_visible_job(session=session, job_id=job_id, principal=principal)
    return service.to_out(job)


@router.patch("/{job_id}", response_model=JobOut, summary="Change a job posting (owner only)")
async def update_job(job_id: uuid.UUID, body: JobUpdate, request: Request, employer: Employer) -> JobOut:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        job = await service.get_owned_job(session=session, job_id=job_id, principal=employer)
        job = await service.update_job(session=session, job=job, data=body)
        out = service.to_out(job)
    runtime.events_committed()
    return out


@router.post("/{job_id}/publish", response_model=JobOut, summary="Publish a draft (owner only)")
async def publish_job(job_id: uuid.UUID, request: Request, employer: Employer) -> JobOut:
    if not employer.email_verified:
        raise ProblemError(
            403,
            "Verify your email address before publishing jobs.",
            type_="email-not-verified",
        )
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        job = await service.get_owned_job(session=session, job_id=job_id, principal=employer)
        job = await service.publish_job(session=session, job=job)
        out = service.to_out(job)
    runtime.events_committed()
    return out


@router.post("/{job_id}/close", response_model=JobOut, summary="Close an active job (owner only)")
async def close_job(job_id: uuid.UUID, request: Request, employer: Employer) -> JobOut:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        job = await service.get_owned_job(session=session, job_id=job_id, principal=employer)
        job = await service.close_job(session=session, job=job)
        out = service.to_out(job)
    runtime.events_committed()
    return out
