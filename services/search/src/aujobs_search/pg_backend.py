"""The PostgreSQL search backend (the default): full text, typo tolerance, radius
search, facets and snippets over ``job_documents``.

Matching of ``q``
    Full text first: the text and each synonym rewrite of it
    (:func:`aujobs_search.synonyms.alternatives`) become ``websearch_to_tsquery``
    queries (English stemming, unaccented) that are ORed together and matched against
    the weighted document (title A, skills B, company B, classification C,
    description D). Typo fallback: when that finds nothing under the query's filters,
    the query is answered by trigram word similarity instead — a posting matches when
    ``word_similarity(q, title) > 0.4`` or ``word_similarity(q, skills) > 0.4``
    (unaccented; the ``<%`` operator, served by the trigram indexes). The mode chosen
    on the first page travels in the cursor, so later pages stay in it.

Relevance (``sort=relevance``, the default)::

    score = text_rank x freshness x featured_boost
    text_rank      = ts_rank(document, tsquery)           (full text; weights D .1, C .2, B .4, A 1)
                   = greatest(word_similarity(q, title),
                              word_similarity(q, skills))  (typo fallback)
                   = 1                                    (no q)
    freshness      = 0.5 ^ (days since published_at / 14) (half-life 14 days; never above 1)
    featured_boost = 1.5 while featured_from <= now < featured_until, else 1

    Ties break by published_at, then job id (both newest first).

Other sorts: ``date`` (published_at desc), ``salary`` (annual maximum desc, postings
without a salary last), ``distance`` (from the location's point, nearest first).

Per-company cap (``per_company_cap`` = N > 0): hits are ranked within their company
(company id, else name) by the chosen order with a window function; a company's first N
hits form band 0, the next N band 1, and so on. Results are ordered by band, then by the
chosen order, so every company's overflow is pushed below the capped results. Because the
band comes from the whole result set, not the page, paging stays consistent (no
duplicates, no gaps): pages inside band 0 carry at most N hits per company; only once band
0 is exhausted (every remaining hit is overflow) can a page hold more.

Bounded ranking: the page is first looked for among the top :data:`CANDIDATES` (2,000)
matches in the chosen order (band aside): date order straight from the
``(posted DESC, job_id DESC)`` index, relevance without ``q`` from the 2,000 newest
plus the postings featured now (nothing else can outscore them), relevance with ``q``
from every text match ranked but only the top 2,000 banded. The candidates are closed
under the order, so their bands are the true bands; the page is kept when it is full and
lies in the band it starts in (then nothing outside the candidates can belong on it),
else the page is computed over every match as before. Same pages, same cursors.

Totals: with ``facets=false`` the matches are counted only up to :data:`TOTAL_CAP`
(10,000); beyond it ``total`` is the cap and ``total_is_lower_bound`` is true. With
facets the facet scan counts every match anyway, so ``total`` is exact.

Pagination: keyset for ``date``, ``salary`` and ``distance`` (the cursor holds the band,
sort value and job id of the last hit); an offset for ``relevance`` (the score depends on
``now``), capped at :data:`MAX_DEPTH` results.

Facets are counted over the filtered set, each facet ignoring its own filter
(classification ignores classification and sub-classification, state ignores the
location, salary bands ignore salary_min/max), so a UI can show the alternatives. A
posting counts in every salary band its annual range overlaps (so the band counts can add
up to more than ``total``); postings without a salary are in no band.

Only ``status = 'active'`` postings that are not past ``expires_at`` are searchable.
"""

from __future__ import annotations

import html
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from aujobs_common.db import Database
from aujobs_common.errors import FieldError, ProblemError
from aujobs_common.pagination import encode_cursor
from aujobs_common.skills import skill_key

from .indexer import benefit_key
from .models import JobDocument
from .query import (
    SALARY_BANDS,
    Facets,
    FacetValue,
    GeoPoint,
    JobHit,
    LocationFilter,
    SalaryHit,
    SearchQuery,
    SearchResults,
    SortOrder,
    Suggestion,
)
from .suggest import suggest
from .synonyms import alternatives

FRESHNESS_HALF_LIFE_DAYS = 14.0
FEATURED_BOOST = 1.5
TYPO_SIMILARITY = 0.4
#: deepest result reachable by paging a relevance-sorted search
MAX_DEPTH = 1000

_DOC = JobDocument
_ENGLISH = sa.literal_column("'english'::regconfig")
_MARK_START, _MARK_END = "\x02", "\x03"  # the indexer strips these from the text
_HEADLINE_OPTIONS = f"StartSel={_MARK_START},StopSel={_MARK_END},MaxFragments=2,MaxWords=25,MinWords=10"
_NO_SALARY = -1
_FAR_KM = 1e7
_CURSOR_VERSION = 1
_KEY_TYPES: dict[SortOrder, Any] = {
    SortOrder.date: sa.DateTime(timezone=True),
    SortOrder.salary: sa.BigInteger(),
    SortOrder.distance: sa.Float(),
}


class PostgresSearch:
    """:class:`~aujobs_search.query.SearchBackend` over the service's own database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def search(self, query: SearchQuery) -> SearchResults:
        async with self.db.session() as session:
            return await search_jobs(session, query)

    async def suggest(self, prefix: str, *, limit: int = 10) -> list[Suggestion]:
        async with self.db.session() as session:
            return await suggest(session, prefix, limit=limit)


async def search_jobs(session: AsyncSession, query: SearchQuery) -> SearchResults:
    now = query.now or datetime.now(UTC)
    cursor = _Cursor.parse(query)
    # With q the text index is the way in (the box would make the planner walk the geo
    # index and test the text of every posting in it; it guesses the box holds few)
    groups = _filter_groups(query, now, geo_index=not query.q)
    every_filter = [c for conds in groups.values() for c in conds]
    match = await _text_match(session, query, cursor, every_filter)
    plan = _SortPlan.build(query, match, now)

    rows = await _page(session, query, plan, match, every_filter, cursor, now)
    has_more = len(rows) > query.limit
    rows = rows[: query.limit]
    total, lower_bound, facets = await _total_and_facets(session, query, groups, match)
    items = [_hit(row) for row in rows]
    next_cursor = _next_cursor(query, plan, match, cursor, rows, has_more)
    return SearchResults(
        items=items, total=total, total_is_lower_bound=lower_bound, next_cursor=next_cursor, facets=facets
    )


# ---------------------------------------------------------------- cursor


@dataclass(frozen=True)
class _Cursor:
    mode: str | None = None
    offset: int = 0
    band: int | None = None
    key: Any = None
    job_id: uuid.UUID | None = None

    @classmethod
    def parse(cls, query: SearchQuery) -> _Cursor:
        raw = query.cursor
        if raw is None:
            return cls()
        try:
            if raw.get("v") != _CURSOR_VERSION or raw.get("s") != query.sort.value:
                raise ValueError("the cursor belongs to another sort order")
            mode = raw.get("m")
            if mode not in ("text", "fuzzy", "all"):
                raise ValueError("bad mode")
            if query.sort is SortOrder.relevance:
                offset = raw["o"]
                if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < MAX_DEPTH:
                    raise ValueError("bad offset")
                return cls(mode=mode, offset=offset)
            band = raw["b"]
            if not isinstance(band, int) or isinstance(band, bool) or not 0 <= band < 2**31:
                raise ValueError("bad band")
            return cls(
                mode=mode, band=band, key=_parse_key(query.sort, raw["k"]), job_id=uuid.UUID(raw["id"])
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProblemError(
                400,
                "The cursor is not valid; use next_cursor from a previous page of the same search.",
                type_="invalid-cursor",
                errors=[FieldError(field="query.cursor", message="malformed cursor")],
            ) from exc


def _parse_key(sort: SortOrder, value: Any) -> Any:
    if sort is SortOrder.date:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp")
        return parsed
    if sort is SortOrder.salary:
        # postings without a salary sort as _NO_SALARY (-1), last
        if not isinstance(value, int) or isinstance(value, bool) or not _NO_SALARY <= value < 2**63:
            raise ValueError("bad salary key")
        return value
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError("bad distance key")
    if not 0 <= value <= 50_000:  # km: nothing on Earth is further
        raise ValueError("bad distance key")
    return float(value)


def _next_cursor(
    query: SearchQuery,
    plan: _SortPlan,
    match: _TextMatch,
    cursor: _Cursor,
    rows: list[sa.Row[Any]],
    has_more: bool,
) -> str | None:
    if not has_more or not rows:
        return None
    base = {"v": _CURSOR_VERSION, "s": query.sort.value, "m": match.mode}
    if plan.offset_paging:
        offset = cursor.offset + len(rows)
        return encode_cursor({**base, "o": offset}) if offset < MAX_DEPTH else None
    last = rows[-1]
    key = last.sort_key.isoformat() if isinstance(last.sort_key, datetime) else last.sort_key
    return encode_cursor({**base, "b": int(last.band), "k": key, "id": str(last.JobDocument.job_id)})


# ---------------------------------------------------------------- filters


def featured_now(now: datetime) -> ColumnElement[bool]:
    return sa.and_(_DOC.featured_from <= now, _DOC.featured_until > now)


def _filter_groups(
    query: SearchQuery, now: datetime, *, geo_index: bool = True
) -> dict[str, list[ColumnElement[bool]]]:
    """The query's conditions, grouped by the facet each one belongs to ("base" ones
    belong to none), so each facet can be counted without its own filter. Without
    ``geo_index`` a radius is tested by distance alone (no box for the GiST index)."""
    base: list[ColumnElement[bool]] = [
        _DOC.status == "active",
        sa.or_(_DOC.expires_at.is_(None), _DOC.expires_at > now),
    ]
    if query.posted_within_days is not None:
        base.append(_DOC.published_at >= now - timedelta(days=query.posted_within_days))
    if query.skills:
        base.append(_DOC.skill_keys.contains(sorted({skill_key(s) for s in query.skills})))
    if query.company:
        base.append(_company_condition(query.company))
    if query.company_sizes:
        base.append(_DOC.company_size.in_(query.company_sizes))
    if query.benefits:
        base.append(_DOC.benefit_keys.contains(sorted({benefit_key(b) for b in query.benefits})))
    if query.featured_only:
        base.append(featured_now(now))

    classification: list[ColumnElement[bool]] = []
    if query.classification:
        classification.append(_DOC.classification == query.classification)
    if query.sub_classification:
        classification.append(_DOC.sub_classification == query.sub_classification)
    salary: list[ColumnElement[bool]] = []
    if query.salary_min_cents is not None:
        salary.append(_DOC.salary_annual_max_cents >= query.salary_min_cents)
    if query.salary_max_cents is not None:
        salary.append(_DOC.salary_annual_min_cents <= query.salary_max_cents)
    return {
        "base": base,
        "classification": classification,
        "work_type": [_DOC.work_type.in_(query.work_types)] if query.work_types else [],
        "work_arrangement": (
            [_DOC.work_arrangement.in_(query.work_arrangements)] if query.work_arrangements else []
        ),
        "salary": salary,
        "location": _location_conditions(query.location, geo_index=geo_index),
    }


def _company_condition(company: str) -> ColumnElement[bool]:
    try:
        return _DOC.company_id == uuid.UUID(company)
    except ValueError:
        return sa.func.lower(_DOC.company_name) == company.strip().lower()


def _earth(latitude: Any, longitude: Any) -> ColumnElement[Any]:
    return sa.func.ll_to_earth(latitude, longitude)


def _centre(point: GeoPoint) -> ColumnElement[Any]:
    return _earth(sa.literal(point.latitude, sa.Float), sa.literal(point.longitude, sa.Float))


def _location_conditions(
    location: LocationFilter | None, *, geo_index: bool = True
) -> list[ColumnElement[bool]]:
    if location is None:
        return []
    if location.radius_km is not None and location.point is not None:
        metres = sa.literal(location.radius_km * 1000.0, sa.Float)
        here = _earth(_DOC.latitude, _DOC.longitude)
        # the box is served by the GiST index; the distance trims its corners
        box = [sa.func.earth_box(_centre(location.point), metres).op("@>")(here)] if geo_index else []
        return [
            _DOC.latitude.is_not(None),
            _DOC.longitude.is_not(None),
            *box,
            sa.func.earth_distance(_centre(location.point), here) <= metres,
        ]
    conditions: list[ColumnElement[bool]] = []
    if location.state:
        conditions.append(_DOC.state == location.state)
    if location.suburb:
        conditions.append(sa.func.lower(_DOC.suburb) == location.suburb.lower())
    if location.postcode:
        conditions.append(_DOC.postcode == location.postcode)
    return conditions


# ---------------------------------------------------------------- text


@dataclass(frozen=True)
class _TextMatch:
    mode: str  # "text" (full text), "fuzzy" (trigram fallback) or "all" (no q)
    #: the text condition (none without q)
    conditions: tuple[ColumnElement[bool], ...]
    rank: ColumnElement[Any]
    tsquery: ColumnElement[Any] | None


def _full_text(q: str) -> _TextMatch:
    variants = [sa.func.websearch_to_tsquery(_ENGLISH, sa.func.f_unaccent(v)) for v in alternatives(q) or [q]]
    tsquery = variants[0]
    for other in variants[1:]:
        tsquery = tsquery.op("||")(other)
    return _TextMatch(
        mode="text",
        conditions=(_DOC.document.op("@@")(tsquery),),
        rank=sa.cast(sa.func.ts_rank(_DOC.document, tsquery), sa.Float),
        tsquery=tsquery,
    )


def _fuzzy(q: str) -> _TextMatch:
    typed = sa.func.f_unaccent(q)
    title, skills = sa.func.f_unaccent(_DOC.title), sa.func.f_unaccent(_DOC.skills_text)
    return _TextMatch(
        mode="fuzzy",
        conditions=(sa.or_(typed.op("<%")(title), typed.op("<%")(skills)),),
        rank=sa.cast(
            sa.func.greatest(sa.func.word_similarity(typed, title), sa.func.word_similarity(typed, skills)),
            sa.Float,
        ),
        # for the snippet only (shows the start of the text when nothing matches)
        tsquery=sa.func.websearch_to_tsquery(_ENGLISH, typed),
    )


async def _text_match(
    session: AsyncSession, query: SearchQuery, cursor: _Cursor, filters: list[ColumnElement[bool]]
) -> _TextMatch:
    """Full text, or the trigram fallback when full text finds nothing under the
    filters; a cursor keeps the mode of its first page."""
    if not query.q:
        return _TextMatch(mode="all", conditions=(), rank=sa.literal(1.0, sa.Float), tsquery=None)
    # `<%` compares against this threshold (pg_trgm's default is 0.6); local to the transaction
    await session.execute(
        sa.select(sa.func.set_config("pg_trgm.word_similarity_threshold", str(TYPO_SIMILARITY), True))
    )
    full_text = _full_text(query.q)
    if cursor.mode == "fuzzy":
        return _fuzzy(query.q)
    if cursor.mode == "text":
        return full_text
    found = await session.scalar(sa.select(sa.literal(True)).where(*filters, *full_text.conditions).limit(1))
    return full_text if found else _fuzzy(query.q)


# ---------------------------------------------------------------- ordering and the page


@dataclass(frozen=True)
class _SortPlan:
    score: ColumnElement[Any]
    distance: ColumnElement[Any]
    #: the order inside the band: (expression, descending); job id last
    keys: tuple[tuple[ColumnElement[Any], bool], ...]
    sort_key: ColumnElement[Any]  # the keyset value (job id aside); relevance: the score
    descending: bool
    offset_paging: bool

    @classmethod
    def build(cls, query: SearchQuery, match: _TextMatch, now: datetime) -> _SortPlan:
        posted = sa.func.coalesce(_DOC.published_at, _DOC.updated_at)
        at = sa.literal(now, sa.DateTime(timezone=True))
        age_days = sa.func.greatest(sa.extract("epoch", at - posted), 0) / 86400.0
        freshness = sa.func.power(0.5, sa.cast(age_days, sa.Float) / FRESHNESS_HALF_LIFE_DAYS)
        boost = sa.case((featured_now(now), FEATURED_BOOST), else_=1.0)
        score = sa.cast(match.rank * sa.cast(freshness, sa.Float) * boost, sa.Float)
        distance = sa.literal(None, sa.Float)
        if query.location is not None and query.location.point is not None:
            metres = sa.func.earth_distance(
                _centre(query.location.point), _earth(_DOC.latitude, _DOC.longitude)
            )
            distance = sa.cast(metres / 1000.0, sa.Float)

        if query.sort is SortOrder.relevance:
            keys = ((score, True), (posted, True), (_DOC.job_id, True))
            return cls(score, distance, keys, score, True, True)
        if query.sort is SortOrder.date:
            key, descending = posted, True
        elif query.sort is SortOrder.salary:
            key, descending = sa.func.coalesce(_DOC.salary_annual_max_cents, _NO_SALARY), True
        else:
            key, descending = sa.func.coalesce(distance, _FAR_KM), False
        return cls(score, distance, ((key, descending), (_DOC.job_id, descending)), key, descending, False)


def _company_key() -> ColumnElement[Any]:
    return sa.func.coalesce(
        sa.cast(_DOC.company_id, sa.Text), sa.func.lower(_DOC.company_name), sa.cast(_DOC.job_id, sa.Text)
    )


async def _page(
    session: AsyncSession,
    query: SearchQuery,
    plan: _SortPlan,
    match: _TextMatch,
    filters: list[ColumnElement[bool]],
    cursor: _Cursor,
    now: datetime,
) -> list[sa.Row[Any]]:
    """The page from the top :data:`CANDIDATES` matches when that is provably the same
    page as ranking every match (see :func:`_candidates`), else from every match."""
    conditions = [*filters, *match.conditions]
    candidates = await _candidates(session, query, plan, match, conditions, now)
    rows = await _fetch_page(session, query, plan, match, candidates, cursor, now)
    if _exact_from_candidates(query, cursor, rows):
        return rows
    return await _fetch_page(session, query, plan, match, _ranked_all(plan, conditions), cursor, now)


#: how many matches, best first, the page is looked for among before ranking them all
CANDIDATES = 2000


def _columns(plan: _SortPlan) -> list[ColumnElement[Any]]:
    return [
        _DOC.job_id.label("job_id"),
        plan.score.label("score"),
        plan.distance.label("distance"),
        plan.sort_key.label("sort_key"),
        *(expr.label(f"k{i}") for i, (expr, _) in enumerate(plan.keys)),
    ]


def _ranked_all(plan: _SortPlan, conditions: list[ColumnElement[bool]]) -> sa.Subquery:
    """Every match, with its sort keys and company key: ranks the whole result set."""
    return sa.select(*_columns(plan), _company_key().label("company")).where(*conditions).subquery("matched")


async def _candidates(
    session: AsyncSession,
    query: SearchQuery,
    plan: _SortPlan,
    match: _TextMatch,
    conditions: list[ColumnElement[bool]],
    now: datetime,
) -> sa.Subquery:
    """The first :data:`CANDIDATES` matches in the sort order (band aside).

    The set is closed under the order (every match that sorts before a candidate is a
    candidate), so each candidate's rank within its company, hence its band, is the same
    as over every match, and a company's hits outside it all sort after it.

    Date order is read from the ``(posted DESC, job_id DESC)`` index. Relevance without
    ``q`` is freshness x featured boost: a posting that is not featured scores no more
    than any of the N newest when it is not among them, so the top N by score are among
    the N newest and the postings featured now. Those two sets are read separately (each
    from its index; an OR of them would scan the table) with the N-th newest posting
    date looked up first, so the planner sees the real bound."""
    order = [expr.desc() if desc else expr.asc() for expr, desc in plan.keys]
    columns = [*_columns(plan), _company_key().label("company")]
    if match.mode == "all" and query.sort is SortOrder.relevance:
        posted = sa.func.coalesce(_DOC.published_at, _DOC.updated_at)
        floor = await session.scalar(
            sa.select(posted)
            .where(*conditions)
            .order_by(posted.desc(), _DOC.job_id.desc())
            .offset(CANDIDATES - 1)
            .limit(1)
        )
        if floor is not None:  # else there are fewer matches than CANDIDATES: all of them
            newest = sa.select(*columns).where(*conditions, posted >= floor)
            featured = sa.select(*columns).where(*conditions, featured_now(now), posted < floor)
            both = sa.union_all(newest, featured).subquery("newest_or_featured")
            keys = [
                both.c[f"k{i}"].desc() if desc else both.c[f"k{i}"].asc()
                for i, (_, desc) in enumerate(plan.keys)
            ]
            return sa.select(both).order_by(*keys).limit(CANDIDATES).subquery("matched")
    return sa.select(*columns).where(*conditions).order_by(*order).limit(CANDIDATES).subquery("matched")


def _exact_from_candidates(query: SearchQuery, cursor: _Cursor, rows: list[sa.Row[Any]]) -> bool:
    """Whether the page found among the candidates is the page over every match.

    With fewer candidates than :data:`CANDIDATES` they are every match. Otherwise a
    company with no candidate can still have a band-0 hit below them, so the page is
    only certain when it is full and lies in one band, the band it starts in: every
    non-candidate of that band sorts after every candidate, and later bands after it."""
    if not rows:
        return cursor.band is None and not cursor.offset  # no candidate at all: nothing matches
    if rows[0].candidates < CANDIDATES:
        return True
    start_band = cursor.band if cursor.band is not None else 0
    return len(rows) > query.limit and all(row.band == start_band for row in rows)


async def _fetch_page(
    session: AsyncSession,
    query: SearchQuery,
    plan: _SortPlan,
    match: _TextMatch,
    matched: sa.Subquery,
    cursor: _Cursor,
    now: datetime,
) -> list[sa.Row[Any]]:
    within = [
        matched.c[f"k{i}"].desc() if desc else matched.c[f"k{i}"].asc()
        for i, (_, desc) in enumerate(plan.keys)
    ]
    if query.per_company_cap > 0:
        rank_in_company = sa.func.row_number().over(partition_by=matched.c.company, order_by=within)
        band: ColumnElement[Any] = (rank_in_company - 1) // query.per_company_cap
    else:
        band = sa.literal(0, sa.Integer)
    ranked = sa.select(
        *(c for c in matched.c if c.name != "company"),
        band.label("band"),
        sa.func.count().over().label("candidates"),
    ).subquery("ranked")
    order = [ranked.c.band.asc()] + [
        ranked.c[f"k{i}"].desc() if desc else ranked.c[f"k{i}"].asc() for i, (_, desc) in enumerate(plan.keys)
    ]
    page = sa.select(ranked).order_by(*order).limit(query.limit + 1)
    if plan.offset_paging:
        page = page.offset(cursor.offset)
    elif cursor.band is not None:
        after = sa.tuple_(ranked.c.sort_key, ranked.c.job_id)
        position = sa.tuple_(
            sa.literal(cursor.key, _KEY_TYPES[query.sort]), sa.literal(cursor.job_id, UUID(as_uuid=True))
        )
        beyond = after < position if plan.descending else after > position
        page = page.where(sa.or_(ranked.c.band > cursor.band, sa.and_(ranked.c.band == cursor.band, beyond)))
    paged = page.subquery("paged")

    snippet = (
        sa.func.ts_headline(_ENGLISH, _DOC.description_text, match.tsquery, _HEADLINE_OPTIONS)
        if match.tsquery is not None
        else sa.literal(None, sa.Text)
    )
    final = (
        sa.select(
            _DOC,
            paged.c.score,
            paged.c.distance,
            paged.c.sort_key,
            paged.c.band,
            paged.c.candidates,
            featured_now(now).label("featured"),
            snippet.label("snippet"),
        )
        .join(paged, paged.c.job_id == _DOC.job_id)
        .order_by(
            paged.c.band.asc(),
            *(
                paged.c[f"k{i}"].desc() if desc else paged.c[f"k{i}"].asc()
                for i, (_, desc) in enumerate(plan.keys)
            ),
        )
    )
    return list((await session.execute(final)).all())


# ---------------------------------------------------------------- facets


def _flag(conditions: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return sa.and_(*conditions) if conditions else sa.true()


_FACET_COLUMNS = {
    "classification": ("classification", "classification"),
    "work_type": ("work_type", "work_type"),
    "work_arrangement": ("work_arrangement", "work_arrangement"),
    "state": ("state", "location"),
}


#: matches are counted exactly up to this many; beyond it ``total`` is a lower bound
TOTAL_CAP = 10_000


async def _capped_count(session: AsyncSession, conditions: list[ColumnElement[bool]]) -> int:
    """How many rows match, counting no further than ``TOTAL_CAP + 1``."""
    capped = sa.select(sa.literal(1).label("one")).where(*conditions).limit(TOTAL_CAP + 1).subquery()
    return int(await session.scalar(sa.select(sa.func.count()).select_from(capped)) or 0)


async def _total_and_facets(
    session: AsyncSession,
    query: SearchQuery,
    groups: dict[str, list[ColumnElement[bool]]],
    match: _TextMatch,
) -> tuple[int, bool, Facets | None]:
    """One scan: the rows matching the text and the base filters, each carrying whether
    it passes each facet's filter; every facet counts the rows that pass all the other
    facets' filters. ``total`` counts the rows that pass them all."""
    matched = [*groups["base"], *match.conditions]
    facet_groups = [name for name in groups if name != "base"]
    base = (
        sa.select(
            _DOC.classification,
            _DOC.work_type,
            _DOC.work_arrangement,
            _DOC.state,
            _DOC.salary_annual_min_cents.label("annual_min"),
            _DOC.salary_annual_max_cents.label("annual_max"),
            *(_flag(groups[name]).label(f"f_{name}") for name in facet_groups),
        )
        .where(*matched)
        .cte("facet_base")
    )

    def passes(*, ignoring: str | None = None) -> ColumnElement[bool]:
        return _flag([base.c[f"f_{name}"] for name in facet_groups if name != ignoring])

    if not query.facets:
        total = await _capped_count(session, [*matched, *(c for name in facet_groups for c in groups[name])])
        return min(total, TOTAL_CAP), total > TOTAL_CAP, None
    # One pass over the matched rows: GROUPING SETS give one group per facet value (and
    # one for everything), and each facet's count filters on the other facets' flags.
    columns = [base.c[column] for column, _ in _FACET_COLUMNS.values()]
    facet_counts = [
        sa.func.count().filter(passes(ignoring=group)).label(f"n_{facet}")
        for facet, (_, group) in _FACET_COLUMNS.items()
    ]
    bands = []
    for name, low, high in SALARY_BANDS:
        in_band = [base.c.annual_max >= low, *([base.c.annual_min < high] if high is not None else [])]
        bands.append(sa.func.count().filter(sa.and_(passes(ignoring="salary"), *in_band)).label(f"b_{name}"))
    grouping_sets = [sa.tuple_(c) for c in columns]
    statement = sa.select(
        *(sa.func.grouping(c).label(f"g_{facet}") for c, facet in zip(columns, _FACET_COLUMNS, strict=True)),
        *columns,
        sa.func.count().filter(passes()).label("n_total"),
        *facet_counts,
        *bands,
    ).group_by(sa.func.grouping_sets(*grouping_sets, sa.text("()")))
    rows = []
    for row in (await session.execute(statement)).mappings():
        grouped = [facet for facet in _FACET_COLUMNS if row[f"g_{facet}"] == 0]
        if not grouped:  # the () set: the total and the salary bands
            rows.append(("total", "", row["n_total"]))
            rows.extend(("salary_band", name, row[f"b_{name}"]) for name, _, _ in SALARY_BANDS)
            continue
        facet = grouped[0]
        column = _FACET_COLUMNS[facet][0]
        if row[f"n_{facet}"]:
            rows.append((facet, row[column], row[f"n_{facet}"]))
    total = next(n for facet, _, n in rows if facet == "total")
    counts: dict[str, list[FacetValue]] = {}
    for facet, value, n in rows:
        if facet != "total" and value is not None:
            counts.setdefault(facet, []).append(FacetValue(value=value, count=n))
    for facet in _FACET_COLUMNS:
        counts.setdefault(facet, []).sort(key=lambda v: (-v.count, v.value))
    return total, False, Facets(**counts)


# ---------------------------------------------------------------- hits


def safe_snippet(headline: str | None) -> str | None:
    """The headline as safe HTML: the plain text escaped, and only the marks PostgreSQL
    put around the matches turned into ``<mark>`` tags."""
    if headline is None:
        return None
    escaped = html.escape(headline.strip(), quote=False)
    return escaped.replace(_MARK_START, "<mark>").replace(_MARK_END, "</mark>") or None


def _hit(row: sa.Row[Any]) -> JobHit:
    d: JobDocument = row.JobDocument
    salary = None
    if d.salary_min_cents is not None and d.salary_max_cents is not None:
        salary = SalaryHit(
            minimum_cents=d.salary_min_cents,
            maximum_cents=d.salary_max_cents,
            period=d.salary_period or "annual",
            annual_minimum_cents=d.salary_annual_min_cents,
            annual_maximum_cents=d.salary_annual_max_cents,
        )
    return JobHit(
        job_id=d.job_id,
        title=d.title,
        company_id=d.company_id,
        company_name=d.company_name,
        company_verified=d.company_verified,
        classification=d.classification,
        sub_classification=d.sub_classification,
        work_type=d.work_type,
        work_arrangement=d.work_arrangement,
        suburb=d.suburb,
        state=d.state,
        postcode=d.postcode,
        salary=salary,
        skills=list(d.skills),
        featured=bool(row.featured),
        published_at=d.published_at,
        snippet=safe_snippet(row.snippet),
        score=round(float(row.score), 6) if row.score is not None else None,
        distance_km=round(float(row.distance), 2) if row.distance is not None else None,
    )
