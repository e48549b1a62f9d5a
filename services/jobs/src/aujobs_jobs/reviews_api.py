"""Company reviews (/api/v1/companies/{company_id}/reviews...), the author's own
reviews and the admin moderation queue (/api/v1/companies/reviews/...)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from aujobs_common.app import runtime_of
from aujobs_common.clientip import client_ip, parse_networks
from aujobs_common.errors import PROBLEM_RESPONSES, ProblemError
from aujobs_common.idempotency import run_idempotent
from aujobs_common.pagination import Page, PageParams, page_params
from aujobs_common.security import CurrentPrincipal, OptionalPrincipal, Principal, require_roles

from . import companies, reviews
from .review_schemas import (
    CompanyResponseIn,
    CompanyResponseOut,
    EmploymentStatus,
    ModerationDecision,
    ModerationItem,
    RatingSummaryOut,
    ReportCreate,
    ReportOut,
    ReviewCreate,
    ReviewOut,
    ReviewSort,
    VoteOut,
)
from .settings import JobsSettings

router = APIRouter(prefix="/api/v1/companies", tags=["reviews"], responses={**PROBLEM_RESPONSES})

JobSeeker = Annotated[Principal, Depends(require_roles("job_seeker"))]
Employer = Annotated[Principal, Depends(require_roles("employer"))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]


def _settings(request: Request) -> JobsSettings:
    return runtime_of(request).settings  # type: ignore[return-value]


def _client_ip(request: Request) -> str | None:
    """The caller's address; forwarded headers count only from TRUSTED_PROXIES peers
    (parsed once per app and kept on the runtime)."""
    extras = runtime_of(request).extras
    networks = extras.get("trusted_proxies")
    if networks is None:
        networks = extras["trusted_proxies"] = parse_networks(_settings(request).trusted_proxies)
    return client_ip(request, networks)


# ---------------------------------------------------------------- fixed paths first


@router.get(
    "/reviews/mine", response_model=Page[ReviewOut], summary="Your own reviews in any status (signed in)"
)
async def my_reviews(
    request: Request, principal: CurrentPrincipal, page: Annotated[PageParams, Depends(page_params)]
) -> Page[ReviewOut]:
    async with runtime_of(request).db.session() as session:
        rows, next_cursor = await reviews.list_mine(session=session, author_id=principal.user_id, page=page)
        items = await reviews.outs(session=session, reviews=rows, viewer=principal)
    return Page[ReviewOut](items=items, next_cursor=next_cursor)


@router.get(
    "/reviews/moderation",
    response_model=Page[ModerationItem],
    summary="Pending and held reviews, oldest first (admin only)",
)
async def moderation_queue(
    request: Request, admin: Admin, page: Annotated[PageParams, Depends(page_params)]
) -> Page[ModerationItem]:
    async with runtime_of(request).db.session() as session:
        rows, reports, next_cursor = await reviews.moderation_queue(session=session, page=page)
        responses = await reviews.responses_for(session=session, review_ids=[r.id for r in rows])
    items = [
        reviews.moderation_item(r, moderator=admin, response=responses.get(r.id), reports=reports[r.id])
        for r in rows
    ]
    return Page[ModerationItem](items=items, next_cursor=next_cursor)


@router.post(
    "/reviews/{review_id}/moderation",
    response_model=ModerationItem,
    summary="Publish or reject a pending or held review (admin only)",
)
async def decide(
    review_id: uuid.UUID, body: ModerationDecision, request: Request, admin: Admin
) -> ModerationItem:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        review = await reviews.decide(
            session=session, review_id=review_id, moderator=admin, approve=body.approve, reason=body.reason
        )
        responses = await reviews.responses_for(session=session, review_ids=[review.id])
        item = reviews.moderation_item(review, moderator=admin, response=responses.get(review.id), reports=[])
    runtime.events_committed()
    return item


# ---------------------------------------------------------------- per company


@router.post(
    "/{company_id}/reviews",
    status_code=201,
    response_model=ReviewOut,
    summary="Review a company (job seeker with a verified email); waits for moderation",
)
async def create_review(
    company_id: uuid.UUID,
    body: ReviewCreate,
    request: Request,
    seeker: JobSeeker,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    if not seeker.email_verified:
        raise ProblemError(
            403, "Verify your email address before writing a review.", type_="email-not-verified"
        )
    async with runtime_of(request).db.transaction() as session:

        async def create() -> tuple[int, Any]:
            review = await reviews.create_review(
                session=session,
                company_id=company_id,
                author=seeker,
                data=body,
                settings=_settings(request),
                client_ip=_client_ip(request),
            )
            return 201, reviews.to_out(review, viewer=seeker)

        return await run_idempotent(
            session,
            key=idempotency_key,
            principal=str(seeker.user_id),
            request=request,
            body=body.model_dump(mode="json"),
            create=create,
        )


@router.get(
    "/{company_id}/reviews",
    response_model=Page[ReviewOut],
    summary="Published reviews of a company (public)",
)
async def list_reviews(
    company_id: uuid.UUID,
    request: Request,
    viewer: OptionalPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
    sort: ReviewSort = ReviewSort.newest,
    min_rating: Annotated[int | None, Query(ge=1, le=5)] = None,
    max_rating: Annotated[int | None, Query(ge=1, le=5)] = None,
    employment_status: EmploymentStatus | None = None,
) -> Page[ReviewOut]:
    async with runtime_of(request).db.session() as session:
        rows, next_cursor = await reviews.list_reviews(
            session=session,
            company_id=company_id,
            page=page,
            sort=sort,
            min_rating=min_rating,
            max_rating=max_rating,
            employment_status=employment_status,
        )
        items = await reviews.outs(session=session, reviews=rows, viewer=viewer)
    return Page[ReviewOut](items=items, next_cursor=next_cursor)


@router.get(
    "/{company_id}/reviews/summary",
    response_model=RatingSummaryOut,
    summary="Average ratings, count and distribution, with schema.org JSON-LD (public)",
)
async def summary(company_id: uuid.UUID, request: Request) -> RatingSummaryOut:
    async with runtime_of(request).db.session() as session:
        company = await companies.get_company(session=session, company_id=company_id)
        found = await reviews.rating_summary(session=session, company_id=company_id)
    return RatingSummaryOut(**found.model_dump(), json_ld=reviews.employer_aggregate_rating(company, found))


@router.get(
    "/{company_id}/reviews/{review_id}",
    response_model=ReviewOut,
    summary="One review (public when published; the author and admins see it in any status)",
)
async def get_review(
    company_id: uuid.UUID, review_id: uuid.UUID, request: Request, viewer: OptionalPrincipal
) -> ReviewOut:
    async with runtime_of(request).db.session() as session:
        review = await reviews.get_review(
            session=session, company_id=company_id, review_id=review_id, viewer=viewer
        )
        return (await reviews.outs(session=session, reviews=[review], viewer=viewer))[0]


@router.delete(
    "/{company_id}/reviews/{review_id}", status_code=204, summary="Delete your own review (its author)"
)
async def withdraw(
    company_id: uuid.UUID, review_id: uuid.UUID, request: Request, principal: CurrentPrincipal
) -> Response:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        await reviews.withdraw(session=session, company_id=company_id, review_id=review_id, author=principal)
    runtime.events_committed()
    return Response(status_code=204)


async def _vote(
    request: Request, company_id: uuid.UUID, review_id: uuid.UUID, voter: Principal, helpful: bool
) -> VoteOut:
    async with runtime_of(request).db.transaction() as session:
        review = await reviews.vote(
            session=session, company_id=company_id, review_id=review_id, voter=voter, helpful=helpful
        )
        return VoteOut(review_id=review.id, helpful_count=review.helpful_count, voted=helpful)


@router.put(
    "/{company_id}/reviews/{review_id}/vote",
    response_model=VoteOut,
    summary="Mark a published review helpful, once (signed in; not your own)",
)
async def vote(
    company_id: uuid.UUID, review_id: uuid.UUID, request: Request, principal: CurrentPrincipal
) -> VoteOut:
    return await _vote(request, company_id, review_id, principal, True)


@router.delete(
    "/{company_id}/reviews/{review_id}/vote",
    response_model=VoteOut,
    summary="Take back your helpful vote (signed in)",
)
async def unvote(
    company_id: uuid.UUID, review_id: uuid.UUID, request: Request, principal: CurrentPrincipal
) -> VoteOut:
    return await _vote(request, company_id, review_id, principal, False)


@router.post(
    "/{company_id}/reviews/{review_id}/reports",
    status_code=201,
    response_model=ReportOut,
    summary="Report a published review to moderators, once (signed in; not your own)",
)
async def report(
    company_id: uuid.UUID,
    review_id: uuid.UUID,
    body: ReportCreate,
    request: Request,
    principal: CurrentPrincipal,
) -> ReportOut:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        row = await reviews.report(
            session=session,
            company_id=company_id,
            review_id=review_id,
            reporter=principal,
            reason=body.reason,
        )
        out = ReportOut(user_id=row.user_id, reason=row.reason, created_at=row.created_at)
    runtime.events_committed()
    return out


@router.put(
    "/{company_id}/reviews/{review_id}/response",
    response_model=CompanyResponseOut,
    summary="Set the company's public response to a review (company owner or recruiter)",
)
async def respond(
    company_id: uuid.UUID, review_id: uuid.UUID, body: CompanyResponseIn, request: Request, employer: Employer
) -> CompanyResponseOut:
    async with runtime_of(request).db.transaction() as session:
        await companies.get_company(session=session, company_id=company_id)
        await companies.require_member(session=session, company_id=company_id, principal=employer)
        _, response = await reviews.respond(
            session=session, company_id=company_id, review_id=review_id, responder=employer, body=body.body
        )
        return CompanyResponseOut(
            body=response.body, created_at=response.created_at, updated_at=response.updated_at
        )


@router.delete(
    "/{company_id}/reviews/{review_id}/response",
    status_code=204,
    summary="Remove the company's response (company owner or recruiter)",
)
async def remove_response(
    company_id: uuid.UUID, review_id: uuid.UUID, request: Request, employer: Employer
) -> Response:
    async with runtime_of(request).db.transaction() as session:
        await companies.get_company(session=session, company_id=company_id)
        await companies.require_member(session=session, company_id=company_id, principal=employer)
        await reviews.remove_response(session=session, company_id=company_id, review_id=review_id)
    return Response(status_code=204)
