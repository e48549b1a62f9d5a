"""PostgreSQL full-text search over the job documents (the default backend)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.pagination import encode_cursor

from .models import JobDocument
from .schemas import JobHit, SalaryHit, SearchResults


@dataclass
class JobQuery:
    q: str | None = None
    classification: str | None = None
    work_type: str | None = None
    state: str | None = None
    limit: int = 20
    offset: int = 0


async def search_jobs(session: AsyncSession, query: JobQuery) -> SearchResults:
    doc = JobDocument
    filters = [doc.status == "active"]
    if query.classification:
        filters.append(doc.classification == query.classification)
    if query.work_type:
        filters.append(doc.work_type == query.work_type)
    if query.state:
        filters.append(doc.state == query.state)

    tsquery = sa.func.websearch_to_tsquery("english", query.q) if query.q else None
    if tsquery is not None:
        filters.append(doc.document.op("@@")(tsquery))
        score = sa.func.ts_rank_cd(doc.document, tsquery, 32).label("score")
        snippet = sa.func.ts_headline(
            "english",
            doc.description,
            tsquery,
            "MaxFragments=1,MaxWords=30,MinWords=10,StartSel=<mark>,StopSel=</mark>",
        ).label("snippet")
        order = [score.desc(), doc.published_at.desc(), doc.job_id]
    else:
        score = sa.literal(None, sa.Float).label("score")
        snippet = sa.literal(None, sa.Text).label("snippet")
        order = [doc.published_at.desc(), doc.job_id]

    total = await session.scalar(sa.select(sa.func.count()).select_from(doc).where(*filters))
    rows = (
        await session.execute(
            sa.select(doc, score, snippet)
            .where(*filters)
            .order_by(*order)
            .offset(query.offset)
            .limit(query.limit)
        )
    ).all()
    items = [
        JobHit(
            job_id=d.job_id,
            title=d.title,
            company_name=d.company_name,
            classification=d.classification,
            sub_classification=d.sub_classification,
            work_type=d.work_type,
            suburb=d.suburb,
            state=d.state,
            postcode=d.postcode,
            salary=SalaryHit(
                minimum_cents=d.salary_min_cents,
                maximum_cents=d.salary_max_cents,
                period=d.salary_period or "annual",
            )
            if d.salary_min_cents is not None and d.salary_max_cents is not None
            else None,
            published_at=d.published_at,
            snippet=snip,
            score=float(sc) if sc is not None else None,
        )
        for d, sc, snip in rows
    ]
    end = query.offset + len(items)
    next_cursor = encode_cursor({"o": end}) if end < (total or 0) else None
    return SearchResults(items=items, total=total or 0, next_cursor=next_cursor)
