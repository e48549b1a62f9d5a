"""Company profiles, members, invitations and verification (/api/v1/companies)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, ProblemError
from aujobs_common.idempotency import run_idempotent
from aujobs_common.pagination import Page, PageParams, page_params
from aujobs_common.security import CurrentPrincipal, Principal, require_roles

from . import analytics, companies, media, reviews, service
from .models import Company
from .schemas import (
    CompanyCreate,
    CompanyOut,
    CompanyRating,
    CompanyStatistics,
    CompanyUpdate,
    InvitationCreate,
    InvitationOut,
    MemberOut,
    VerificationDecision,
)

router = APIRouter(prefix="/api/v1/companies", tags=["companies"], responses={**PROBLEM_RESPONSES})


async def present(session: AsyncSession, rows: list[Company]) -> list[CompanyOut]:
    """Profiles with their logo and review rating (one query for any number)."""
    ids = [c.id for c in rows]
    ratings = await reviews.rating_summaries(session=session, company_ids=ids)
    out = []
    for company in rows:
        profile = companies.to_out(company)
        profile.logo = media.logo_urls(company)
        summary = ratings.get(company.id)
        if summary is not None:
            profile.rating = CompanyRating(average=summary.averages.overall, count=summary.review_count)
        out.append(profile)
    return out


async def present_one(session: AsyncSession, company: Company) -> CompanyOut:
    return (await present(session, [company]))[0]


Employer = Annotated[Principal, Depends(require_roles("employer"))]
EmployerOrAdmin = Annotated[Principal, Depends(require_roles("employer", "admin"))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]


@router.post(
    "", status_code=201, response_model=CompanyOut, summary="Create a company (you become its owner)"
)
async def create_company(
    body: CompanyCreate,
    request: Request,
    employer: Employer,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    if not employer.email_verified:
        raise ProblemError(
            403, "Verify your email address before creating a company.", type_="email-not-verified"
        )
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:

        async def create() -> tuple[int, Any]:
            company = await companies.create_company(session=session, owner=employer, data=body)
            return 201, await present_one(session, company)

        response = await run_idempotent(
            session,
            key=idempotency_key,
            principal=str(employer.user_id),
            request=request,
            body=body.model_dump(mode="json"),
            create=create,
        )
    runtime.events_committed()
    return response


@router.get("", response_model=Page[CompanyOut], summary="List companies (public)")
async def list_companies(
    request: Request, page: Annotated[PageParams, Depends(page_params)]
) -> Page[CompanyOut]:
    async with runtime_of(request).db.session() as session:
        rows, next_cursor = await companies.list_companies(session=session, page=page)
        items = await present(session, rows)
    return Page[CompanyOut](items=items, next_cursor=next_cursor)


@router.post(
    "/invitations/{token}/accept",
    response_model=MemberOut,
    summary="Join a company with an invitation token (signed-in employer)",
)
async def accept_invitation(token: str, request: Request, employer: Employer) -> MemberOut:
    async with runtime_of(request).db.transaction() as session:
        member = await companies.accept_invitation(session=session, token=token, principal=employer)
        return companies.member_out(member)


@router.get("/{company_id}", response_model=CompanyOut, summary="A company profile (public)")
async def get_company(company_id: uuid.UUID, request: Request) -> CompanyOut:
    async with runtime_of(request).db.session() as session:
        company = await companies.get_company(session=session, company_id=company_id)
        return await present_one(session, company)


@router.get(
    "/{company_id}/statistics",
    response_model=CompanyStatistics,
    summary="Open and total jobs, applications, time to fill, rating (members and admins)",
)
async def company_statistics(
    company_id: uuid.UUID, request: Request, principal: CurrentPrincipal
) -> CompanyStatistics:
    async with runtime_of(request).db.session() as session:
        await companies.get_company(session=session, company_id=company_id)
        await companies.require_member(
            session=session, company_id=company_id, principal=principal, allow_admin=True
        )
        open_jobs, total_jobs = await service.company_job_counts(session=session, company_id=company_id)
        hiring = await analytics.company_hiring_figures(session=session, company_id=company_id)
        rating = await reviews.rating_summary(session=session, company_id=company_id)
    return CompanyStatistics(
        company_id=company_id,
        open_jobs=open_jobs,
        total_jobs=total_jobs,
        applications_received=hiring.applications_received,
        jobs_filled=hiring.jobs_filled,
        average_time_to_fill_days=hiring.average_time_to_fill_days,
        rating=CompanyRating(average=rating.averages.overall, count=rating.review_count),
    )


@router.patch(
    "/{company_id}", response_model=CompanyOut, summary="Change a company profile (owner or recruiter)"
)
async def update_company(
    company_id: uuid.UUID, body: CompanyUpdate, request: Request, principal: EmployerOrAdmin
) -> CompanyOut:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        company = await companies.get_company(session=session, company_id=company_id, for_update=True)
        await companies.require_member(
            session=session, company_id=company_id, principal=principal, allow_admin=True
        )
        company = await companies.update_company(session=session, company=company, data=body)
        out = await present_one(session, company)
    runtime.events_committed()
    return out


@router.get("/{company_id}/members", response_model=list[MemberOut], summary="Members (members only)")
async def list_members(
    company_id: uuid.UUID, request: Request, principal: CurrentPrincipal
) -> list[MemberOut]:
    async with runtime_of(request).db.session() as session:
        await companies.get_company(session=session, company_id=company_id)
        await companies.require_member(
            session=session, company_id=company_id, principal=principal, allow_admin=True
        )
        return [
            companies.member_out(m)
            for m in await companies.list_members(session=session, company_id=company_id)
        ]


@router.post(
    "/{company_id}/invitations",
    status_code=201,
    response_model=InvitationOut,
    summary="Invite a recruiter by email (owner only)",
)
async def invite_member(
    company_id: uuid.UUID, body: InvitationCreate, request: Request, employer: Employer
) -> InvitationOut:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        company = await companies.get_company(session=session, company_id=company_id)
        await companies.require_member(
            session=session, company_id=company_id, principal=employer, roles=("owner",)
        )
        out = await companies.invite_member(
            session=session, company=company, inviter=employer, email=body.email
        )
    runtime.events_committed()
    return out


@router.delete("/{company_id}/members/{user_id}", status_code=204, summary="Remove a member (owner only)")
async def remove_member(
    company_id: uuid.UUID, user_id: uuid.UUID, request: Request, employer: Employer
) -> Response:
    async with runtime_of(request).db.transaction() as session:
        company = await companies.get_company(session=session, company_id=company_id, for_update=True)
        await companies.require_member(
            session=session, company_id=company_id, principal=employer, roles=("owner",)
        )
        await companies.remove_member(session=session, company=company, user_id=user_id)
    return Response(status_code=204)


@router.post(
    "/{company_id}/verification-request",
    response_model=CompanyOut,
    summary="Ask an admin to verify the company (owner only)",
)
async def request_verification(company_id: uuid.UUID, request: Request, employer: Employer) -> CompanyOut:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        company = await companies.get_company(session=session, company_id=company_id, for_update=True)
        await companies.require_member(
            session=session, company_id=company_id, principal=employer, roles=("owner",)
        )
        company = await companies.request_verification(session=session, company=company)
        out = await present_one(session, company)
    runtime.events_committed()
    return out


@router.post(
    "/{company_id}/verification",
    response_model=CompanyOut,
    summary="Approve or reject a verification request (admin only)",
)
async def decide_verification(
    company_id: uuid.UUID, body: VerificationDecision, request: Request, admin: Admin
) -> CompanyOut:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        company = await companies.get_company(session=session, company_id=company_id, for_update=True)
        company = await companies.decide_verification(
            session=session,
            company=company,
            approve=body.approve,
            reason=body.reason,
            policy=runtime.extras.get("workflow_policy"),
        )
        out = await present_one(session, company)
    runtime.events_committed()
    return out
