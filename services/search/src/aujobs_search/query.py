"""The one search interface both backends implement (PostgreSQL, the default, and
OpenSearch): a validated query in, ranked hits with facets out.

The API layer turns request parameters into a :class:`SearchQuery` (resolving the
location to coordinates with the postcode data, annualising nothing: salaries in the
index are already annualised AUD cents); a backend answers it. Relevance, in both
backends, is documented in the README: text match (title > skills > company >
description, synonyms and typo tolerance), times a freshness decay, times a featured
boost while the posting's featured window is open.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, Field


class SortOrder(StrEnum):
    relevance = "relevance"
    date = "date"
    salary = "salary"
    distance = "distance"


@dataclass(frozen=True)
class GeoPoint:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class LocationFilter:
    """A resolved location: a point and a radius, or (radius None) a whole state, or a
    suburb/postcode matched exactly when no radius is asked."""

    label: str  # e.g. "Melbourne VIC 3000" or "VIC"
    point: GeoPoint | None = None
    radius_km: float | None = None
    state: str | None = None
    suburb: str | None = None
    postcode: str | None = None


@dataclass(frozen=True)
class SearchQuery:
    q: str | None = None
    location: LocationFilter | None = None
    classification: str | None = None
    sub_classification: str | None = None
    work_types: tuple[str, ...] = ()
    work_arrangements: tuple[str, ...] = ()
    #: annualised AUD cents; a posting matches when its range overlaps [min, max]
    salary_min_cents: int | None = None
    salary_max_cents: int | None = None
    posted_within_days: int | None = None
    skills: tuple[str, ...] = ()  # canonical skill names (aujobs_common.skills)
    company: str | None = None  # company name (case-insensitive) or id
    company_sizes: tuple[str, ...] = ()
    benefits: tuple[str, ...] = ()
    featured_only: bool = False
    sort: SortOrder = SortOrder.relevance
    limit: int = 20
    #: opaque position from the previous page (backend-specific content)
    cursor: dict[str, Any] | None = None
    #: at most this many hits from one company on a page (0 = no cap)
    per_company_cap: int = 3
    facets: bool = True
    now: datetime | None = None


class SalaryHit(BaseModel):
    minimum_cents: int
    maximum_cents: int
    currency: str = "AUD"
    period: str
    annual_minimum_cents: int | None = None
    annual_maximum_cents: int | None = None


class JobHit(BaseModel):
    job_id: uuid.UUID
    title: str
    company_id: uuid.UUID | None = None
    company_name: str | None
    company_verified: bool = False
    classification: str
    sub_classification: str | None
    work_type: str
    work_arrangement: str = "on_site"
    suburb: str
    state: str
    postcode: str
    salary: SalaryHit | None
    skills: list[str] = Field(default_factory=list)
    featured: bool = False
    published_at: datetime | None
    snippet: str | None = Field(default=None, description="Plain text with <mark> around matches")
    score: float | None = None
    distance_km: float | None = None


class FacetValue(BaseModel):
    value: str
    count: int


class Facets(BaseModel):
    classification: list[FacetValue] = Field(default_factory=list)
    work_type: list[FacetValue] = Field(default_factory=list)
    work_arrangement: list[FacetValue] = Field(default_factory=list)
    salary_band: list[FacetValue] = Field(default_factory=list)
    state: list[FacetValue] = Field(default_factory=list)


class SearchResults(BaseModel):
    items: list[JobHit]
    total: int = Field(
        description="How many postings match; when total_is_lower_bound is true, at least this many"
    )
    total_is_lower_bound: bool = Field(
        default=False,
        description="True when the matches were counted only up to a cap: total is then a lower bound",
    )
    next_cursor: str | None = None
    facets: Facets | None = None
    did_you_mean: str | None = Field(default=None, description="A spelling that finds jobs when none matched")
    query_id: str | None = Field(default=None, description="Send it back with POST /api/v1/search/clicks")


#: Annual salary bands for the facet, in AUD (lower bound inclusive).
SALARY_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under-60k", 0, 60_000_00),
    ("60k-80k", 60_000_00, 80_000_00),
    ("80k-100k", 80_000_00, 100_000_00),
    ("100k-130k", 100_000_00, 130_000_00),
    ("130k-160k", 130_000_00, 160_000_00),
    ("160k-plus", 160_000_00, None),
)


class SuggestionKind(StrEnum):
    title = "title"
    skill = "skill"
    company = "company"
    location = "location"


class Suggestion(BaseModel):
    kind: SuggestionKind
    text: str = Field(examples=["Melbourne VIC 3000"])


class SearchBackend(Protocol):
    """Both backends answer the same queries. Each is fed by the job snapshot events
    (idempotently: an older version never overwrites a newer one) in its own way: the
    PostgreSQL index inside the consumer's inbox transaction, OpenSearch with versioned
    index requests (``version_type=external``)."""

    async def search(self, query: SearchQuery) -> SearchResults: ...

    async def suggest(self, prefix: str, *, limit: int = 10) -> list[Suggestion]: ...
