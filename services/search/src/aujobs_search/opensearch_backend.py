"""The OpenSearch search backend (``SEARCH_BACKEND=opensearch``), for scale.

It speaks OpenSearch's REST API through opensearch-py's async client
(:class:`OpenSearchHttp` over ``AsyncOpenSearch.transport``): the handful of calls it
makes are plain JSON requests built by pure functions here. It is tested against a local server that
speaks the same protocol (``tests/opensearch_stub.py``); **it has not been run against
a live OpenSearch cluster**, so the analysers, scoring and highlighting have been
checked by the request bodies they send, not by a real engine's answers.

Layout in the cluster:

* an index template (``index_template()``, from ``opensearch/jobs_template.json``) for
  the versioned indices ``aujobs-jobs-v<N>``; searches and writes go through the alias
  ``aujobs-jobs`` (its write index is the current version), so :meth:`rebuild` can load
  a new index and swap the alias atomically without readers ever seeing an empty index;
* a small ``aujobs-companies`` index: the latest company profile per company (name,
  size, verified) — job snapshots carry no company size, and a company update that
  arrives before a job's first snapshot must still reach that job.

Versioning: every write uses ``version_type=external`` so an older event never
overwrites a newer one (OpenSearch answers 409, which here means "already newer").
``_update_by_query`` (the company update) bumps a document's version by one, so the
external version is the posting version shifted left by :data:`VERSION_SHIFT` bits:
company updates fill the low bits and the posting's next version is still greater.

Closed, expired, draft... postings are kept (with their status) rather than deleted: a
delete leaves only a tombstone, which OpenSearch forgets after ``index.gc_deletes``
(60 s), after which a late, older "active" snapshot would resurrect the posting. Every
search filters on ``status: active`` (and ``expires_at`` in the future) instead.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from opensearchpy import AsyncOpenSearch, ConnectionTimeout, TransportError
from opensearchpy import ConnectionError as OpenSearchConnectionError

from aujobs_common.errors import FieldError, ProblemError
from aujobs_common.events import CompanyUpdated, JobPostingSnapshot, SalaryPeriod, SalaryRange
from aujobs_common.pagination import encode_cursor
from aujobs_common.skills import skill_key

from .indexer import benefit_key, coordinates
from .query import (
    SALARY_BANDS,
    Facets,
    FacetValue,
    JobHit,
    SalaryHit,
    SearchQuery,
    SearchResults,
    SortOrder,
    Suggestion,
    SuggestionKind,
)

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "aujobs-jobs"
DEFAULT_COMPANIES_INDEX = "aujobs-companies"
#: external version = posting version << VERSION_SHIFT (room for 2**20 company updates
#: between two versions of one posting)
VERSION_SHIFT = 20
#: text fields and their weights (title > skills = company > description)
TEXT_FIELDS = ("title^3", "skills.text^2", "company_name^2", "description")
#: freshness: the score halves for a posting published ``scale`` (plus the offset) ago
FRESHNESS_SCALE = "14d"
FRESHNESS_OFFSET = "1d"
FEATURED_WEIGHT = 1.5
SNIPPET_CHARS = 200
#: a page examines at most this many batches of hits to fill itself under the company cap
MAX_ROUNDS = 5
BULK_CHUNK = 500
_PERIODS_PER_YEAR = {
    SalaryPeriod.hourly: 1976,
    SalaryPeriod.daily: 260,
    SalaryPeriod.weekly: 52,
    SalaryPeriod.monthly: 12,
    SalaryPeriod.annual: 1,
}
_COMPANY_SCRIPT = (
    "ctx._source.company_name = params.name; ctx._source.company_size = params.size; "
    "ctx._source.company_verified = params.verified; ctx._source.suggest_company = params.suggest;"
)
_MARK = re.compile(r"(</?mark>)")


# ---------------------------------------------------------------- HTTP


class OpenSearchUnavailable(ProblemError):
    """The cluster did not answer usefully (5xx, 429, timeout, refused connection).
    A ProblemError, so a request that meets it is answered 503 problem+json; the event
    consumer lets it propagate so the event is retried."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            503,
            "Search is temporarily unavailable; please try again shortly.",
            type_="search-unavailable",
            headers={"Retry-After": "5"},
        )
        self.reason = reason


class OpenSearchError(RuntimeError):
    """OpenSearch rejected a request (a 4xx that is not expected): a bug or a mapping
    mismatch, not a passing condition."""

    def __init__(self, status: int, error_type: str) -> None:
        super().__init__(f"OpenSearch answered {status} ({error_type})")
        self.status = status
        self.error_type = error_type


def _error_type(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("type", "unknown"))
    return "unknown"


class OpenSearchHttp:
    """The REST calls the backend needs, through opensearch-py's async transport (one
    pooled aiohttp session; no retries here — the event bus retries a failed event).
    Credentials, if any, ride in the URL (``https://user:password@host:9200``)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self._client = AsyncOpenSearch(hosts=[url], timeout=timeout, max_retries=0, retry_on_timeout=False)

    async def aclose(self) -> None:
        await self._client.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        ndjson: Iterable[dict[str, Any]] | None = None,
        expect: tuple[int, ...] = (),
    ) -> tuple[int, Any]:
        """``(status, json body)`` for a 2xx or an ``expect``-ed status; raises
        :class:`OpenSearchUnavailable` or :class:`OpenSearchError` otherwise."""
        headers = {}
        content: str | None = None
        if ndjson is not None:
            content = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in ndjson)
            headers["content-type"] = "application/x-ndjson"
        elif body is not None:
            content = json.dumps(body, separators=(",", ":"))
            headers["content-type"] = "application/json"
        query = {k: _param(v) for k, v in (params or {}).items()}
        try:
            data = await self._client.transport.perform_request(
                method, path, params=query, body=content, headers=headers
            )
        except (OpenSearchConnectionError, ConnectionTimeout) as exc:
            log.warning("opensearch %s %s failed: %s", method, path.split("?")[0], type(exc).__name__)
            raise OpenSearchUnavailable(type(exc).__name__) from exc
        except TransportError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else 502
            data = exc.info if isinstance(exc.info, dict) else None
            if status in expect:
                return status, data
            log.warning("opensearch %s %s answered %s (%s)", method, path, status, _error_type(data))
            if status >= 500 or status == 429:
                raise OpenSearchUnavailable(f"{status} {_error_type(data)}") from exc
            raise OpenSearchError(status, _error_type(data)) from exc
        if method == "HEAD":  # the transport answers True (2xx) or False (404)
            return (200, None) if data else (404, None)
        return 200, data


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------- template and documents


def index_template(*, prefix: str = DEFAULT_PREFIX, synonyms: list[str] | None = None) -> dict[str, Any]:
    """The composable index template for ``<prefix>-v*``. ``synonyms`` are Solr-format
    rules (default: :func:`aujobs_search.synonyms.synonym_rules`); they only take part
    at search time (``english_search``), so changing them needs no reindex of the
    words, only an index built from the new template (:meth:`rebuild`)."""
    template = json.loads(
        resources.files(__package__).joinpath("opensearch", "jobs_template.json").read_text()
    )
    template["index_patterns"] = [f"{prefix}-v*"]
    if synonyms is None:
        from .synonyms import synonym_rules  # lazily: a large table, built on first use

        synonyms = synonym_rules()
    analysis = template["template"]["settings"]["analysis"]
    if synonyms:
        analysis["filter"]["aujobs_synonyms"]["synonyms"] = list(synonyms)
    else:  # an empty synonym_graph is refused by some versions; leave it out instead
        del analysis["filter"]["aujobs_synonyms"]
        search = analysis["analyzer"]["english_search"]
        search["filter"] = [f for f in search["filter"] if f != "aujobs_synonyms"]
    return template


def companies_index() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("opensearch", "companies_index.json").read_text())


@dataclass(frozen=True)
class CompanyProfile:
    name: str
    size: str | None
    verified: bool


def external_version(posting_version: int) -> int:
    return posting_version << VERSION_SHIFT


def job_document(job: JobPostingSnapshot, company: CompanyProfile | None = None) -> dict[str, Any]:
    """The indexed document of a posting. The company profile, when known, wins over
    the snapshot's copy (the company events are the authority on the company)."""
    name = company.name if company else job.company_name
    skills = [s.strip() for s in job.skills if s.strip()]
    latitude, longitude = coordinates(job.location)
    point = (latitude, longitude) if latitude is not None and longitude is not None else None
    title_words = job.title.split()
    return {
        "job_id": str(job.job_id),
        "version": job.version,
        "status": job.status.value,
        "title": job.title,
        "description": job.description_text or job.description,
        "company_id": str(job.company_id) if job.company_id else None,
        "company_name": name,
        "company_size": company.size if company else None,
        "company_verified": company.verified if company else job.company_verified,
        "classification": job.classification,
        "sub_classification": job.sub_classification,
        "work_type": job.work_type.value,
        "work_arrangement": job.work_arrangement.value,
        "suburb": job.location.suburb,
        "state": job.location.state,
        "postcode": job.location.postcode,
        "location": {"lat": point[0], "lon": point[1]} if point else None,
        "salary": _salary_document(job.salary),
        "skills": skills,
        "skill_keys": sorted({skill_key(s) for s in skills} - {""}),
        "benefit_keys": sorted({benefit_key(b) for b in job.benefits} - {""}),
        "featured": job.featured,
        "featured_from": _iso(job.featured_from),
        "featured_until": _iso(job.featured_until),
        "published_at": _iso(job.published_at),
        "expires_at": _iso(job.expires_at),
        "updated_at": _iso(job.updated_at),
        # a title is also suggested from its inner words ("engineer" → "Senior Software Engineer")
        "suggest_title": {"input": [" ".join(title_words[i:]) for i in range(min(len(title_words), 4))]},
        "suggest_skill": {"input": skills} if skills else None,
        "suggest_company": {"input": [name]} if name else None,
    }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _salary_document(salary: SalaryRange | None) -> dict[str, Any] | None:
    if salary is None:
        return None
    annual_min, annual_max = salary.annual_minimum_cents, salary.annual_maximum_cents
    if annual_min is None or annual_max is None:  # an older producer: the jobs service's rule
        per_year = _PERIODS_PER_YEAR[salary.period]
        annual_min, annual_max = salary.minimum_cents * per_year, salary.maximum_cents * per_year
    return {
        "minimum_cents": salary.minimum_cents,
        "maximum_cents": salary.maximum_cents,
        "currency": salary.currency,
        "period": salary.period.value,
        "annual_minimum_cents": annual_min,
        "annual_maximum_cents": annual_max,
    }


# ---------------------------------------------------------------- query bodies


def search_now(query: SearchQuery) -> datetime:
    """The clock of a search: a later page keeps the first page's, so the freshness
    decay and the expiry filter (and so the order) do not move under the cursor."""
    if query.cursor and isinstance(query.cursor.get("t"), str):
        try:
            return datetime.fromisoformat(query.cursor["t"])
        except ValueError:
            raise _invalid_cursor() from None
    return (query.now or datetime.now(UTC)).astimezone(UTC)


def _invalid_cursor() -> ProblemError:
    return ProblemError(
        400,
        "The cursor is not valid; use next_cursor from a previous page.",
        type_="invalid-cursor",
        errors=[FieldError(field="query.cursor", message="not a cursor of this search")],
    )


def featured_now(now: datetime) -> dict[str, Any]:
    """Featured and inside its window (an open end counts as open)."""
    iso = now.isoformat()
    return {
        "bool": {
            "filter": [
                {"term": {"featured": True}},
                _open_or_missing("featured_from", {"lte": iso}),
                _open_or_missing("featured_until", {"gt": iso}),
            ]
        }
    }


def _open_or_missing(field: str, bound: dict[str, str]) -> dict[str, Any]:
    return {
        "bool": {
            "should": [{"range": {field: bound}}, {"bool": {"must_not": {"exists": {"field": field}}}}],
            "minimum_should_match": 1,
        }
    }


def text_query(q: str) -> dict[str, Any]:
    """Recall from a typo-tolerant best-field match (synonyms through the search
    analyser), precision from a boost for documents holding every word across fields,
    and as-you-type matches of a title's word prefixes (edge n-grams)."""
    return {
        "bool": {
            "should": [
                {
                    "multi_match": {
                        "query": q,
                        "fields": list(TEXT_FIELDS),
                        "type": "best_fields",
                        "tie_breaker": 0.3,
                        "analyzer": "english_search",
                        "fuzziness": "AUTO",
                        "prefix_length": 1,
                    }
                },
                {
                    "multi_match": {
                        "query": q,
                        "fields": list(TEXT_FIELDS),
                        "type": "cross_fields",
                        "operator": "and",
                        "analyzer": "english_search",
                        "boost": 2.0,
                    }
                },
                {"match": {"title.prefix": {"query": q, "operator": "and", "boost": 0.5}}},
            ],
            "minimum_should_match": 1,
        }
    }


def filters(query: SearchQuery, now: datetime) -> list[dict[str, Any]]:
    iso = now.isoformat()
    clauses: list[dict[str, Any]] = [
        {"term": {"status": "active"}},
        _open_or_missing("expires_at", {"gt": iso}),
    ]
    if query.classification:
        clauses.append({"term": {"classification": query.classification}})
    if query.sub_classification:
        clauses.append({"term": {"sub_classification": query.sub_classification}})
    if query.work_types:
        clauses.append({"terms": {"work_type": list(query.work_types)}})
    if query.work_arrangements:
        clauses.append({"terms": {"work_arrangement": list(query.work_arrangements)}})
    # ranges overlap: the posting's maximum reaches the asked minimum, its minimum the asked maximum
    if query.salary_min_cents is not None:
        clauses.append({"range": {"salary.annual_maximum_cents": {"gte": query.salary_min_cents}}})
    if query.salary_max_cents is not None:
        clauses.append({"range": {"salary.annual_minimum_cents": {"lte": query.salary_max_cents}}})
    if query.posted_within_days is not None:
        since = now - timedelta(days=query.posted_within_days)
        clauses.append({"range": {"published_at": {"gte": since.isoformat()}}})
    clauses.extend(
        {"term": {"skill_keys": key}} for key in sorted({skill_key(s) for s in query.skills} - {""})
    )
    if query.company:
        clauses.append(_company_clause(query.company))
    if query.company_sizes:
        clauses.append({"terms": {"company_size": list(query.company_sizes)}})
    clauses.extend(
        {"term": {"benefit_keys": key}} for key in sorted({benefit_key(b) for b in query.benefits} - {""})
    )
    if query.featured_only:
        clauses.append(featured_now(now))
    clauses.extend(_location_clauses(query))
    return clauses


def _company_clause(company: str) -> dict[str, Any]:
    try:
        return {"term": {"company_id": str(uuid.UUID(company))}}
    except ValueError:
        return {"term": {"company_name.raw": company.strip()}}  # the normaliser folds case


def _location_clauses(query: SearchQuery) -> list[dict[str, Any]]:
    location = query.location
    if location is None:
        return []
    if location.point is not None and location.radius_km is not None:
        point = {"lat": location.point.latitude, "lon": location.point.longitude}
        return [{"geo_distance": {"distance": f"{location.radius_km}km", "location": point}}]
    if location.suburb or location.postcode:
        clauses = []
        if location.suburb:
            clauses.append({"term": {"suburb": location.suburb}})
        if location.postcode:
            clauses.append({"term": {"postcode": location.postcode}})
        if location.state:
            clauses.append({"term": {"state": location.state}})
        return clauses
    if location.state:
        return [{"term": {"state": location.state}}]
    return []


def sort_clauses(query: SearchQuery) -> list[Any]:
    """Every order ends with ``job_id``, so ``search_after`` positions are unique."""
    tiebreak = {"job_id": "asc"}
    newest = {"published_at": {"order": "desc", "missing": "_last"}}
    if query.sort is SortOrder.date:
        return [newest, tiebreak]
    if query.sort is SortOrder.salary:
        return [
            {"salary.annual_maximum_cents": {"order": "desc", "missing": "_last"}},
            {"salary.annual_minimum_cents": {"order": "desc", "missing": "_last"}},
            tiebreak,
        ]
    if query.sort is SortOrder.distance:
        point = query.location.point if query.location else None
        if point is None:
            raise ProblemError(
                400,
                "Sorting by distance needs a location.",
                type_="distance-needs-location",
                errors=[FieldError(field="query.sort", message="give a location to sort by distance")],
            )
        geo = {
            "location": {"lat": point.latitude, "lon": point.longitude},
            "order": "asc",
            "unit": "km",
            "distance_type": "arc",
            "ignore_unmapped": True,
        }
        return [{"_geo_distance": geo}, tiebreak]
    return [{"_score": "desc"}, newest, tiebreak]


def aggregations() -> dict[str, Any]:
    """Facet counts over the whole result set. A salary band counts the postings whose
    range overlaps it, the same rule as the salary filter, so a band's count is what
    choosing it finds (a range aggregation on one end of the range would not be)."""
    bands: dict[str, Any] = {}
    for name, low, high in SALARY_BANDS:
        clauses: list[dict[str, Any]] = [{"range": {"salary.annual_maximum_cents": {"gte": low}}}]
        if high is not None:
            clauses.append({"range": {"salary.annual_minimum_cents": {"lt": high}}})
        bands[name] = {"bool": {"filter": clauses}}
    return {
        "classification": {"terms": {"field": "classification", "size": 50}},
        "work_type": {"terms": {"field": "work_type", "size": 10}},
        "work_arrangement": {"terms": {"field": "work_arrangement", "size": 10}},
        "state": {"terms": {"field": "state", "size": 10}},
        "salary_band": {"filters": {"filters": bands}},
    }


def fetch_size(query: SearchQuery) -> int:
    """Hits per request: more than a page under a company cap, so one request usually
    fills the page even when a few companies dominate."""
    return query.limit if query.per_company_cap <= 0 else min(query.limit * 3, 300)


def build_search_body(query: SearchQuery) -> dict[str, Any]:
    """The ``_search`` body of a query (the first batch of a page)."""
    now = search_now(query)
    sort = sort_clauses(query)
    matched: dict[str, Any] = {"bool": {"filter": filters(query, now)}}
    if query.q:
        matched["bool"]["must"] = [text_query(query.q)]
    if query.sort is SortOrder.relevance:
        matched = {
            "function_score": {
                "query": matched,
                "functions": [
                    {
                        "gauss": {
                            "published_at": {
                                "origin": now.isoformat(),
                                "scale": FRESHNESS_SCALE,
                                "offset": FRESHNESS_OFFSET,
                                "decay": 0.5,
                            }
                        }
                    },
                    {"filter": featured_now(now), "weight": FEATURED_WEIGHT},
                ],
                "score_mode": "multiply",
                "boost_mode": "multiply",
            }
        }
    body: dict[str, Any] = {
        "size": fetch_size(query),
        "track_total_hits": True,
        "query": matched,
        "sort": sort,
        "_source": {"excludes": ["description", "suggest_*", "skill_keys", "benefit_keys"]},
    }
    if query.cursor is not None:
        after = query.cursor.get("s")
        if not isinstance(after, list) or len(after) != len(sort):
            raise _invalid_cursor()
        body["search_after"] = after
    if query.facets:
        body["aggs"] = aggregations()
    if query.q:
        body["highlight"] = {
            "encoder": "html",  # the fragments' own text is escaped; only the marks are tags
            "pre_tags": ["<mark>"],
            "post_tags": ["</mark>"],
            "fields": {
                "description": {
                    "type": "unified",
                    "fragment_size": SNIPPET_CHARS,
                    "number_of_fragments": 1,
                    "no_match_size": SNIPPET_CHARS,
                }
            },
        }
        body["suggest"] = {
            "text": query.q,
            "did_you_mean": {"term": {"field": "title.plain", "suggest_mode": "missing", "size": 1}},
        }
    return body


def build_suggest_body(prefix: str, limit: int) -> dict[str, Any]:
    def completion(field: str) -> dict[str, Any]:
        return {
            "prefix": prefix,
            "completion": {
                "field": field,
                "size": limit,
                "skip_duplicates": True,
                "fuzzy": {"fuzziness": "AUTO", "min_length": 4},
                "contexts": {"status": ["active"]},
            },
        }

    return {
        "_source": ["title", "company_name"],
        "suggest": {kind.value: completion(f"suggest_{kind.value}") for kind in _SUGGEST_KINDS},
    }


_SUGGEST_KINDS = (SuggestionKind.title, SuggestionKind.skill, SuggestionKind.company)


# ---------------------------------------------------------------- responses


def safe_snippet(fragment: str) -> str:
    """Escaped text with only ``<mark>``/``</mark>`` as markup, whatever the engine did
    (the request asks for the html encoder; this holds even if a fragment came back
    unescaped, e.g. the ``no_match_size`` text of some versions)."""
    return "".join(
        part if part in ("<mark>", "</mark>") else html.escape(html.unescape(part), quote=False)
        for part in _MARK.split(fragment)
    )


def _distance_km(source: dict[str, Any], query: SearchQuery) -> float | None:
    point = query.location.point if query.location else None
    where = source.get("location")
    if point is None or not where:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (point.latitude, point.longitude, where["lat"], where["lon"]))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return round(6371.0088 * 2 * math.asin(math.sqrt(a)), 1)


def _featured_at(source: dict[str, Any], now: datetime) -> bool:
    if not source.get("featured"):
        return False
    start, end = source.get("featured_from"), source.get("featured_until")
    return (start is None or datetime.fromisoformat(start) <= now) and (
        end is None or now < datetime.fromisoformat(end)
    )


def parse_hit(hit: dict[str, Any], query: SearchQuery, now: datetime) -> JobHit:
    source = hit["_source"]
    fragments = (hit.get("highlight") or {}).get("description") or []
    score = hit.get("_score")
    return JobHit(
        job_id=source["job_id"],
        title=source["title"],
        company_id=source.get("company_id"),
        company_name=source.get("company_name"),
        company_verified=bool(source.get("company_verified")),
        classification=source["classification"],
        sub_classification=source.get("sub_classification"),
        work_type=source["work_type"],
        work_arrangement=source.get("work_arrangement") or "on_site",
        suburb=source["suburb"],
        state=source["state"],
        postcode=source["postcode"],
        salary=SalaryHit(**source["salary"]) if source.get("salary") else None,
        skills=source.get("skills") or [],
        featured=_featured_at(source, now),
        published_at=source.get("published_at"),
        snippet=safe_snippet(fragments[0]) if fragments else None,
        score=float(score) if isinstance(score, int | float) and math.isfinite(score) else None,
        distance_km=_distance_km(source, query),
    )


def parse_facets(aggs: dict[str, Any]) -> Facets:
    def terms(name: str) -> list[FacetValue]:
        return [
            FacetValue(value=b["key"], count=b["doc_count"]) for b in aggs.get(name, {}).get("buckets", [])
        ]

    bands = aggs.get("salary_band", {}).get("buckets", {})
    return Facets(
        classification=terms("classification"),
        work_type=terms("work_type"),
        work_arrangement=terms("work_arrangement"),
        state=terms("state"),
        salary_band=[
            FacetValue(value=name, count=bands[name]["doc_count"])
            for name, _, _ in SALARY_BANDS
            if bands.get(name, {}).get("doc_count")
        ],
    )


def parse_did_you_mean(response: dict[str, Any], q: str) -> str | None:
    entries = (response.get("suggest") or {}).get("did_you_mean") or []
    if not any(entry.get("options") for entry in entries):
        return None
    corrected = q
    for entry in reversed(entries):  # from the end, so earlier offsets stay valid
        if entry.get("options"):
            start, length = entry["offset"], entry["length"]
            corrected = corrected[:start] + entry["options"][0]["text"] + corrected[start + length :]
    return corrected if corrected != q else None


# ---------------------------------------------------------------- the backend


class OpenSearchBackend:
    """:class:`aujobs_search.query.SearchBackend` over OpenSearch, plus the indexing
    side (:meth:`index_job`, :meth:`company_updated`, :meth:`rebuild`). Call
    :meth:`ensure_ready` once at start-up."""

    def __init__(
        self,
        http: OpenSearchHttp,
        *,
        prefix: str = DEFAULT_PREFIX,
        companies: str = DEFAULT_COMPANIES_INDEX,
        synonyms: list[str] | None = None,
    ) -> None:
        self.http = http
        self.alias = prefix
        self.rebuild_alias = f"{prefix}-rebuild"
        self.companies = companies
        self._synonyms = synonyms

    @classmethod
    def from_url(cls, url: str, **options: Any) -> OpenSearchBackend:
        return cls(OpenSearchHttp(url), **options)

    async def aclose(self) -> None:
        await self.http.aclose()

    # ------------------------------------------------------------ set-up

    async def ensure_ready(self) -> None:
        """Template, companies index, and a first versioned index behind the alias when
        there is none (idempotent; safe to run on every start)."""
        await self._put_template()
        status, _ = await self.http.request("HEAD", f"/{self.companies}", expect=(404,))
        if status == 404:
            await self._create_index(self.companies, companies_index())
        if await self._alias_targets(self.alias):
            return
        first = f"{self.alias}-v1"
        status, _ = await self.http.request("HEAD", f"/{first}", expect=(404,))
        if status == 404:
            await self._create_index(first, {})
        await self.http.request(
            "POST",
            "/_aliases",
            body={"actions": [{"add": {"index": first, "alias": self.alias, "is_write_index": True}}]},
        )

    async def _put_template(self) -> None:
        template = index_template(prefix=self.alias, synonyms=self._synonyms)
        await self.http.request("PUT", f"/_index_template/{self.alias}", body=template)

    async def _create_index(self, name: str, body: dict[str, Any]) -> None:
        status, answer = await self.http.request("PUT", f"/{name}", body=body, expect=(400,))
        if status == 400 and _error_type(answer) != "resource_already_exists_exception":
            raise OpenSearchError(status, _error_type(answer))

    async def _alias_targets(self, alias: str) -> list[str]:
        status, answer = await self.http.request("GET", f"/_alias/{alias}", expect=(404,))
        return sorted(answer) if status == 200 and answer else []

    # ------------------------------------------------------------ writes

    async def index_job(self, job: JobPostingSnapshot) -> bool:
        """Writes the posting unless a newer version is indexed; ``False`` when it was
        older (OpenSearch's 409). During a rebuild the new index gets it too, so the
        swap loses no event that arrived while it loaded."""
        company = (await self._company_profiles([job.company_id]))[0] if job.company_id else None
        document = job_document(job, company)
        written = False
        for target in await self._write_targets():
            written |= await self._put_versioned(
                target, str(job.job_id), document, external_version(job.version)
            )
        return written

    async def _write_targets(self) -> list[str]:
        """The alias, and the rebuild alias while a rebuild is loading."""
        rebuilding = await self._alias_targets(self.rebuild_alias)
        return [self.alias, self.rebuild_alias] if rebuilding else [self.alias]

    async def _put_versioned(self, target: str, doc_id: str, document: dict[str, Any], version: int) -> bool:
        status, _ = await self.http.request(
            "PUT",
            f"/{target}/_doc/{doc_id}",
            # require_alias: never auto-create a concrete index named like the alias
            params={"version": version, "version_type": "external", "require_alias": True},
            body=document,
            expect=(409,),
        )
        return status != 409

    async def company_updated(self, company: CompanyUpdated) -> int:
        """Keeps the company's latest profile and puts its name, size and verified flag
        on every posting of the company; an older company version changes nothing.
        Returns the number of postings updated."""
        profile = {
            "name": company.name,
            "size": company.size.value if company.size else None,
            "verified": company.verified,
        }
        status, _ = await self.http.request(
            "PUT",
            f"/{self.companies}/_doc/{company.company_id}",
            params={"version": company.version, "version_type": "external"},
            body=profile,
            expect=(409,),
        )
        if status == 409:
            return 0
        updated = 0
        script = {
            "lang": "painless",
            "source": _COMPANY_SCRIPT,
            "params": {**profile, "suggest": {"input": [company.name]}},
        }
        for target in await self._write_targets():
            _, answer = await self.http.request(
                "POST",
                f"/{target}/_update_by_query",
                # a posting rewritten meanwhile already read this profile (index_job reads it)
                params={"conflicts": "proceed"},
                body={"query": {"term": {"company_id": str(company.company_id)}}, "script": script},
            )
            if answer.get("failures"):
                raise OpenSearchError(500, "update_by_query_failures")
            updated += int(answer.get("updated", 0))
        return updated

    async def _company_profiles(self, ids: list[uuid.UUID]) -> list[CompanyProfile | None]:
        _, answer = await self.http.request(
            "POST", f"/{self.companies}/_mget", body={"ids": [str(i) for i in ids]}
        )
        found = {
            doc["_id"]: CompanyProfile(**doc["_source"]) for doc in answer.get("docs", []) if doc.get("found")
        }
        return [found.get(str(i)) for i in ids]

    # ------------------------------------------------------------ rebuild

    async def rebuild(self, snapshots: AsyncIterable[JobPostingSnapshot]) -> str:
        """Builds ``<prefix>-v<N+1>`` from the template, bulk-loads it, then swaps the
        alias in one ``_aliases`` call and deletes the old index. Readers use the old
        index until the swap; events arriving during the load go to both (the rebuild
        alias). One rebuild at a time. Returns the new index's name."""
        await self._put_template()
        old = await self._alias_targets(self.alias)
        number = max((_index_number(name) for name in old), default=0) + 1
        new = f"{self.alias}-v{number}"
        await self.http.request("DELETE", f"/{new}", expect=(404,))  # the leftover of a failed rebuild
        await self._create_index(new, {"settings": {"index": {"refresh_interval": "-1"}}})
        try:
            await self.http.request(
                "POST", "/_aliases", body={"actions": [{"add": {"index": new, "alias": self.rebuild_alias}}]}
            )
            loaded = await self._bulk_load(new, snapshots)
            await self.http.request("PUT", f"/{new}/_settings", body={"index": {"refresh_interval": None}})
            await self.http.request("POST", f"/{new}/_refresh")
            actions: list[dict[str, Any]] = [{"remove": {"index": name, "alias": self.alias}} for name in old]
            actions.append({"add": {"index": new, "alias": self.alias, "is_write_index": True}})
            actions.append({"remove": {"index": new, "alias": self.rebuild_alias}})
            await self.http.request("POST", "/_aliases", body={"actions": actions})
        except BaseException:
            await self.http.request("DELETE", f"/{new}", expect=(404,))
            raise
        for name in old:
            await self.http.request("DELETE", f"/{name}", expect=(404,))
        log.info("opensearch rebuild: %s postings into %s", loaded, new)
        return new

    async def _bulk_load(self, index: str, snapshots: AsyncIterable[JobPostingSnapshot]) -> int:
        batch: list[JobPostingSnapshot] = []
        loaded = 0
        async for job in snapshots:
            batch.append(job)
            if len(batch) >= BULK_CHUNK:
                loaded += await self._bulk(index, batch)
                batch = []
        if batch:
            loaded += await self._bulk(index, batch)
        return loaded

    async def _bulk(self, index: str, jobs: list[JobPostingSnapshot]) -> int:
        company_ids = sorted({job.company_id for job in jobs if job.company_id}, key=str)
        profiles = dict(zip(company_ids, await self._company_profiles(company_ids), strict=True))
        lines: list[dict[str, Any]] = []
        for job in jobs:
            action = {
                "_index": index,
                "_id": str(job.job_id),
                "version": external_version(job.version),
                "version_type": "external",
            }
            lines += [
                {"index": action},
                job_document(job, profiles.get(job.company_id) if job.company_id else None),
            ]
        _, answer = await self.http.request("POST", "/_bulk", ndjson=lines)
        written = 0
        for item in answer.get("items", []):
            result = item.get("index", {})
            status = int(result.get("status", 500))
            if status == 409:
                continue  # two snapshots of one posting in the stream: the newer one stays
            if status >= 500 or status == 429:
                raise OpenSearchUnavailable(f"bulk item {status}")
            if status >= 300:
                raise OpenSearchError(status, _error_type(result))
            written += 1
        return written

    # ------------------------------------------------------------ reads

    async def search(self, query: SearchQuery) -> SearchResults:
        """One page of hits. Under the per-company cap, hits beyond a company's quota
        on this page are skipped, not deferred: the cursor moves past every hit the
        page examined, so pages never repeat or reorder hits (the skipped postings
        stay reachable with the company filter). ``total`` counts all matches."""
        now = search_now(query)
        body = build_search_body(query)
        cap = query.per_company_cap
        items: list[JobHit] = []
        per_company: Counter[str] = Counter()
        last_sort: list[Any] | None = None
        more = False
        response = await self._search(body)
        total = int(response["hits"]["total"]["value"])
        # "gte" when the engine stopped counting (track_total_hits set to a number)
        lower_bound = response["hits"]["total"].get("relation") == "gte"
        facets = parse_facets(response.get("aggregations", {})) if query.facets else None
        did_you_mean = parse_did_you_mean(response, query.q) if query.q and total == 0 else None
        for round_ in range(MAX_ROUNDS):
            hits = response["hits"]["hits"]
            for position, hit in enumerate(hits):
                last_sort = hit["sort"]
                company = hit["_source"].get("company_id")
                if cap > 0 and company:
                    if per_company[company] >= cap:
                        continue
                    per_company[company] += 1
                items.append(parse_hit(hit, query, now))
                if len(items) == query.limit:
                    more = position < len(hits) - 1 or len(hits) == body["size"]
                    break
            else:
                more = len(hits) == body["size"]
                if more and round_ < MAX_ROUNDS - 1:
                    next_body = {k: v for k, v in body.items() if k not in ("aggs", "suggest")}
                    response = await self._search(
                        {**next_body, "search_after": last_sort, "track_total_hits": False}
                    )
                    continue
            break
        next_cursor = encode_cursor({"s": last_sort, "t": now.isoformat()}) if more and last_sort else None
        return SearchResults(
            items=items,
            total=total,
            total_is_lower_bound=lower_bound,
            next_cursor=next_cursor,
            facets=facets,
            did_you_mean=did_you_mean,
        )

    async def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        _, answer = await self.http.request("POST", f"/{self.alias}/_search", body=body)
        return answer

    async def suggest(self, prefix: str, *, limit: int = 10) -> list[Suggestion]:
        """Completions of titles, skills and company names of active postings, taken
        in turn from each kind so one kind cannot fill the list."""
        prefix = " ".join(prefix.split())
        if not prefix:
            return []
        answer = await self._search(build_suggest_body(prefix, limit))
        per_kind: list[list[Suggestion]] = []
        for kind in _SUGGEST_KINDS:
            options = ((answer.get("suggest") or {}).get(kind.value) or [{}])[0].get("options", [])
            texts = [_suggestion_text(kind, option) for option in options]
            per_kind.append([Suggestion(kind=kind, text=text) for text in texts if text])
        suggestions: list[Suggestion] = []
        seen: set[tuple[str, str]] = set()
        for rank in range(limit):
            for kind_list in per_kind:
                if rank < len(kind_list):
                    s = kind_list[rank]
                    if (s.kind, s.text.casefold()) not in seen:
                        seen.add((s.kind, s.text.casefold()))
                        suggestions.append(s)
        return suggestions[:limit]


def _suggestion_text(kind: SuggestionKind, option: dict[str, Any]) -> str | None:
    source = option.get("_source") or {}
    if kind is SuggestionKind.title:
        return source.get("title") or option.get("text")
    if kind is SuggestionKind.company:
        return source.get("company_name") or option.get("text")
    return option.get("text")


def _index_number(name: str) -> int:
    tail = name.rsplit("-v", 1)[-1]
    return int(tail) if tail.isdigit() else 0
