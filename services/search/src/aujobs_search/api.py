"""``GET /api/v1/search/jobs``: request parameters in, a validated
:class:`~aujobs_search.query.SearchQuery` to the configured backend
(``runtime.extras["search_backend"]``), its results out, with a did-you-mean
(:func:`.suggest.did_you_mean`) when nothing matched. Nothing is stored here.

Errors (problem+json): 400 ``unknown-location``, ``ambiguous-location``,
``unknown-state``, ``unknown-classification``, ``invalid-cursor``; 422
``radius-without-location``, ``radius-too-large``, ``invalid-salary`` (negative, or min >
max), ``distance-needs-location``, ``conflicting-location`` (state and location both),
``invalid-skill``, and FastAPI's validation problem for values outside an enum or range."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request

from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, FieldError, ProblemError
from aujobs_common.events import CompanySize, WorkArrangement, WorkType
from aujobs_common.pagination import MAX_LIMIT, decode_cursor
from aujobs_common.reference import STATES, classifications
from aujobs_common.skills import normalise_skill

from .locations import MAX_RADIUS_KM, resolve_location
from .query import LocationFilter, SearchBackend, SearchQuery, SearchResults, SortOrder
from .querylog import EXTRA_KEY as QUERY_LOG_KEY
from .querylog import QueryLog
from .settings import SearchSettings
from .suggest import did_you_mean

router = APIRouter(prefix="/api/v1/search", tags=["search"], responses=PROBLEM_RESPONSES)

BACKEND_KEY = "search_backend"
MAX_VALUES = 10  # per repeatable parameter


def _problem(status: int, field: str, detail: str, type_: str, message: str) -> ProblemError:
    return ProblemError(
        status, detail, type_=type_, errors=[FieldError(field=f"query.{field}", message=message)]
    )


@router.get("/jobs", response_model=SearchResults, summary="Search active jobs")
async def search(
    request: Request,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Free text (title, skills, company, description); typos tolerated"),
    ] = None,
    location: Annotated[
        str | None,
        Query(
            max_length=100,
            description='Suburb, postcode, city or state: "Parramatta", "2150", "Melbourne VIC", "VIC"',
        ),
    ] = None,
    radius_km: Annotated[
        float | None,
        Query(ge=0, description="Around a suburb, postcode or city (default 25; 0 = that place only)"),
    ] = None,
    classification: Annotated[str | None, Query(max_length=100)] = None,
    sub_classification: Annotated[str | None, Query(max_length=100)] = None,
    work_type: Annotated[list[WorkType] | None, Query(max_length=MAX_VALUES)] = None,
    work_arrangement: Annotated[list[WorkArrangement] | None, Query(max_length=MAX_VALUES)] = None,
    state: Annotated[
        str | None, Query(max_length=3, description="State or territory code (same as location=<state>)")
    ] = None,
    salary_min: Annotated[
        int | None, Query(description="Annual AUD dollars; overlaps the posting's range")
    ] = None,
    salary_max: Annotated[
        int | None, Query(description="Annual AUD dollars; overlaps the posting's range")
    ] = None,
    posted_within_days: Annotated[int | None, Query(ge=1, le=365)] = None,
    skills: Annotated[
        list[str] | None, Query(max_length=MAX_VALUES, description="All of these (synonyms understood)")
    ] = None,
    company: Annotated[str | None, Query(max_length=200, description="Company name or id")] = None,
    company_size: Annotated[list[CompanySize] | None, Query(max_length=MAX_VALUES)] = None,
    benefits: Annotated[list[str] | None, Query(max_length=MAX_VALUES, description="All of these")] = None,
    featured_only: bool = False,
    sort: SortOrder = SortOrder.relevance,
    facets: Annotated[bool, Query(description="Include facet counts")] = True,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> SearchResults:
    reject_control_characters(request)
    runtime = runtime_of(request)
    settings: SearchSettings = runtime.settings  # type: ignore[assignment]
    text = q.strip() if q and q.strip() else None
    query = SearchQuery(
        q=text,
        location=_location(location, radius_km, state, settings.search_default_radius_km),
        classification=_classification(classification, sub_classification),
        sub_classification=sub_classification,
        work_types=tuple(w.value for w in work_type or ()),
        work_arrangements=tuple(a.value for a in work_arrangement or ()),
        **_salary(salary_min, salary_max),
        posted_within_days=posted_within_days,
        skills=_skills(skills or []),
        company=company.strip() if company and company.strip() else None,
        company_sizes=tuple(s.value for s in company_size or ()),
        benefits=tuple(b.strip() for b in benefits or () if b.strip()),
        featured_only=featured_only,
        sort=sort,
        limit=limit,
        cursor=decode_cursor(cursor) if cursor else None,
        per_company_cap=settings.search_per_company_cap,
        facets=facets,
    )
    if sort is SortOrder.distance and (query.location is None or query.location.point is None):
        raise _problem(
            422,
            "sort",
            "Sorting by distance needs a suburb, postcode or city in location.",
            "distance-needs-location",
            "sort=distance needs a point location",
        )
    backend: SearchBackend = runtime.extras[BACKEND_KEY]
    started = time.perf_counter()
    results = await backend.search(query)
    if text and results.total == 0 and results.did_you_mean is None:
        async with runtime.db.session() as session:
            results.did_you_mean = await did_you_mean(session, text)
    querylog: QueryLog = runtime.extras[QUERY_LOG_KEY]
    results.query_id = querylog.record(query, results.total, (time.perf_counter() - started) * 1000)
    return results


def _location(
    location: str | None, radius_km: float | None, state: str | None, default_radius_km: float
) -> LocationFilter | None:
    if radius_km is not None and radius_km > MAX_RADIUS_KM:
        raise _problem(
            422,
            "radius_km",
            f"The radius can be at most {MAX_RADIUS_KM:g} km.",
            "radius-too-large",
            f"at most {MAX_RADIUS_KM:g}",
        )
    if state:
        if state.upper() not in STATES:
            raise _problem(
                400, "state", f"Unknown state {state!r}.", "unknown-state", f"one of {', '.join(STATES)}"
            )
        if location:
            raise _problem(
                422,
                "state",
                "Give either location or state, not both.",
                "conflicting-location",
                "location already names the place",
            )
    if location is None or not location.strip():
        if radius_km is not None:
            raise _problem(
                422,
                "radius_km",
                "A radius needs a location (a suburb, postcode or city) to be around.",
                "radius-without-location",
                "needs location",
            )
        return LocationFilter(label=state.upper(), state=state.upper()) if state else None
    return resolve_location(location, radius_km, default_radius_km=default_radius_km)


def _classification(classification: str | None, sub_classification: str | None) -> str | None:
    known = classifications()
    if classification and classification not in known:
        raise _problem(
            400,
            "classification",
            f"Unknown classification {classification!r}.",
            "unknown-classification",
            "not one of the 30 classifications",
        )
    if sub_classification:
        subs = (
            known[classification] if classification else {s for all_subs in known.values() for s in all_subs}
        )
        if sub_classification not in subs:
            raise _problem(
                400,
                "sub_classification",
                f"Unknown sub-classification {sub_classification!r}"
                + (f" of {classification!r}." if classification else "."),
                "unknown-classification",
                "not a sub-classification" + (" of that classification" if classification else ""),
            )
    return classification


MAX_SALARY_DOLLARS = 100_000_000


def reject_control_characters(request: Request) -> None:
    """Query parameters are text a person typed: NUL and other control characters (not
    tabs or line breaks, which paste brings) are a 422 — PostgreSQL cannot hold a NUL."""
    for name, value in request.query_params.multi_items():
        if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
            raise _problem(
                422, name, f"{name} contains control characters.", "invalid-text", "no control characters"
            )


def _salary(salary_min: int | None, salary_max: int | None) -> dict[str, int | None]:
    """Dollars in, annualised cents out (the index holds annualised cents)."""
    for name, value in (("salary_min", salary_min), ("salary_max", salary_max)):
        if value is not None and value < 0:
            raise _problem(422, name, "A salary cannot be negative.", "invalid-salary", "must be 0 or more")
        if value is not None and value > MAX_SALARY_DOLLARS:
            raise _problem(
                422, name, "No job pays that much a year.", "invalid-salary", "at most 100,000,000"
            )
    if salary_min is not None and salary_max is not None and salary_min > salary_max:
        raise _problem(
            422,
            "salary_max",
            "salary_max is below salary_min.",
            "invalid-salary",
            "must be at least salary_min",
        )
    return {
        "salary_min_cents": salary_min * 100 if salary_min is not None else None,
        "salary_max_cents": salary_max * 100 if salary_max is not None else None,
    }


def _skills(skills: list[str]) -> tuple[str, ...]:
    """Canonical names, so "JS", "javascript" and "JavaScript" filter alike."""
    names: list[str] = []
    for raw in skills:
        try:
            names.append(normalise_skill(raw).name)
        except ValueError as exc:
            raise _problem(
                422, "skills", "A skill needs at least one letter or digit.", "invalid-skill", "blank"
            ) from exc
    return tuple(dict.fromkeys(names))
