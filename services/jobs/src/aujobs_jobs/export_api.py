"""The export the search index is rebuilt from (admin only): every posting as the
``JobPostingSnapshot`` its events carry, and every company as its ``CompanyUpdated``
payload, keyset-paged by id.

Which postings: every status but ``draft``. Only active postings are searchable, but
the index keeps closed, expired, pending and scheduled ones too, as version guards (a
late, older "active" event must not bring a closed posting back). A draft is the
employer's unpublished work and never searchable, so it is left out.

Paging is by id ascending (ids are time-ordered UUIDs, so postings created during an
export land on a later page); a posting changed after its page was read reaches the
index through its event, which a rebuild keeps (see ``aujobs_search.rebuild``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request

from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES
from aujobs_common.events import CompanyLocation, CompanyUpdated, JobPostingSnapshot, JobStatus
from aujobs_common.pagination import Page, PageParams, cursor_uuid, decode_cursor, encode_cursor
from aujobs_common.security import Principal, require_roles

from . import companies, service
from .api import clock_of
from .models import Company, JobPosting

router = APIRouter(prefix="/api/v1/jobs/export", tags=["export"], responses=PROBLEM_RESPONSES)

Admin = Annotated[Principal, Depends(require_roles("admin"))]

#: larger pages than the public lists: the reader is a batch job, not a screen
MAX_EXPORT_LIMIT = 1000
DEFAULT_EXPORT_LIMIT = 500


def export_page(
    limit: Annotated[
        int, Query(ge=1, le=MAX_EXPORT_LIMIT, description="Items per page")
    ] = DEFAULT_EXPORT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=512, description="next_cursor of the previous page")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=decode_cursor(cursor) if cursor else None)


ExportPage = Annotated[PageParams, Depends(export_page)]


@router.get(
    "",
    response_model=Page[JobPostingSnapshot],
    summary="Every posting but drafts, as its event snapshot, by id (admin; rebuilds the search index)",
)
async def export_jobs(request: Request, admin: Admin, page: ExportPage) -> Page[JobPostingSnapshot]:
    runtime = runtime_of(request)
    now = clock_of(runtime)()
    async with runtime.db.session() as session:
        query = sa.select(JobPosting).where(JobPosting.status != JobStatus.draft.value)
        rows = list((await session.scalars(_after(query, JobPosting.id, page))).all())
        rows, next_cursor = _page(rows, page)
        owners = await service.companies_of(session, rows)
        items = [
            service.snapshot(job, owners.get(job.company_id) if job.company_id else None, now=now)
            for job in rows
        ]
    return Page[JobPostingSnapshot](items=items, next_cursor=next_cursor)


@router.get(
    "/companies",
    response_model=Page[CompanyUpdated],
    summary="Every company, as its company.updated payload, by id (admin; rebuilds the search index)",
)
async def export_companies(request: Request, admin: Admin, page: ExportPage) -> Page[CompanyUpdated]:
    async with runtime_of(request).db.session() as session:
        rows = list((await session.scalars(_after(sa.select(Company), Company.id, page))).all())
        rows, next_cursor = _page(rows, page)
    return Page[CompanyUpdated](items=[company_payload(c) for c in rows], next_cursor=next_cursor)


def company_payload(company: Company) -> CompanyUpdated:
    """The payload ``company.updated`` carries for this version of the company."""
    out = companies.to_out(company)
    return CompanyUpdated(
        company_id=company.id,
        **out.model_dump(exclude={"id", "locations", "logo", "rating"}),
        locations=[CompanyLocation(**loc.model_dump()) for loc in out.locations],
    )


def _after(query: sa.Select[Any], id_column: Any, page: PageParams) -> sa.Select[Any]:
    """One page past the cursor's id, plus one row to tell whether another page follows."""
    after = cursor_uuid(page)
    if after is not None:
        query = query.where(id_column > after)
    return query.order_by(id_column).limit(page.limit + 1)


def _page(rows: Sequence[Any], page: PageParams) -> tuple[list[Any], str | None]:
    if len(rows) <= page.limit:
        return list(rows), None
    kept = list(rows[: page.limit])
    last_id: uuid.UUID = kept[-1].id
    return kept, encode_cursor({"id": str(last_id)})
