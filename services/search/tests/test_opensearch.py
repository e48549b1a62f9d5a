"""The OpenSearch backend: the template and query bodies as pure functions, and the
backend end to end over HTTP against the local protocol server (opensearch_stub.py).
Not run against a live OpenSearch cluster."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aujobs_common.errors import ProblemError
from aujobs_common.events import (
    CompanySize,
    CompanyUpdated,
    JobLocation,
    JobPostingSnapshot,
    JobStatus,
    SalaryPeriod,
    SalaryRange,
    WorkType,
)
from aujobs_common.pagination import decode_cursor
from aujobs_search.opensearch_backend import (
    FEATURED_WEIGHT,
    VERSION_SHIFT,
    OpenSearchBackend,
    OpenSearchUnavailable,
    build_search_body,
    build_suggest_body,
    index_template,
    job_document,
    safe_snippet,
)
from aujobs_search.query import SALARY_BANDS, GeoPoint, LocationFilter, SearchQuery, SortOrder

from .opensearch_stub import OpenSearchStub, running_stub

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ALIAS = "aujobs-jobs"


def snapshot(
    *,
    job_id: uuid.UUID | None = None,
    version: int = 1,
    title: str = "Python Developer",
    company_id: uuid.UUID | None = None,
    company_name: str | None = "Acme",
    status: JobStatus = JobStatus.active,
    classification: str = "Information & Communication Technology",
    work_type: WorkType = WorkType.full_time,
    description: str = "Build APIs in Python for a Melbourne team.",
    published_at: datetime | None = None,
    expires_at: datetime | None = None,
    salary: SalaryRange | None = None,
    skills: list[str] | None = None,
    state: str = "VIC",
    featured: bool = False,
) -> JobPostingSnapshot:
    return JobPostingSnapshot(
        job_id=job_id or uuid.uuid4(),
        version=version,
        owner_id=uuid.uuid4(),
        company_id=company_id,
        company_name=company_name,
        title=title,
        description=f"<p>{description}</p>",
        description_text=description,
        location=JobLocation(
            suburb="Melbourne", state=state, postcode="3000", latitude=-37.8136, longitude=144.9631
        ),
        salary=salary,
        work_type=work_type,
        classification=classification,
        skills=skills if skills is not None else ["Python", "FastAPI"],
        benefits=["Free  Parking"],
        status=status,
        featured=featured,
        featured_from=NOW - timedelta(days=1) if featured else None,
        featured_until=NOW + timedelta(days=6) if featured else None,
        created_at=NOW - timedelta(days=3),
        updated_at=NOW - timedelta(days=2),
        published_at=published_at or NOW - timedelta(days=2),
        expires_at=expires_at or NOW + timedelta(days=28),
    )


def company_event(company_id: uuid.UUID, version: int, name: str, size: CompanySize | None) -> CompanyUpdated:
    return CompanyUpdated(
        company_id=company_id,
        version=version,
        name=name,
        size=size,
        verified=True,
        verification_status="verified",
        created_at=NOW,
        updated_at=NOW,
    )


def clause_list(body: dict[str, Any]) -> list[dict[str, Any]]:
    query = body["query"]
    inner = query["function_score"]["query"] if "function_score" in query else query
    return inner["bool"]["filter"]


# ---------------------------------------------------------------- the template


def test_template_analysers_stem_fold_and_apply_synonyms_only_at_search_time() -> None:
    template = index_template(synonyms=["dev, developer", "rn, registered nurse"])
    assert template["index_patterns"] == ["aujobs-jobs-v*"]
    analysis = template["template"]["settings"]["analysis"]
    assert analysis["filter"]["aujobs_synonyms"] == {
        "type": "synonym_graph",
        "lenient": True,
        "synonyms": ["dev, developer", "rn, registered nurse"],
    }
    index_filters = analysis["analyzer"]["english_index"]["filter"]
    search_filters = analysis["analyzer"]["english_search"]["filter"]
    assert {"lowercase", "asciifolding", "english_stemmer"} <= set(index_filters)
    assert "aujobs_synonyms" not in index_filters
    # synonyms before stemming: rules are written in plain words
    assert search_filters.index("aujobs_synonyms") < search_filters.index("english_stemmer")
    assert analysis["filter"]["english_stemmer"] == {"type": "stemmer", "language": "english"}
    assert analysis["filter"]["edge_ngrams"]["type"] == "edge_ngram"
    assert "edge_ngrams" in analysis["analyzer"]["prefix_index"]["filter"]


def test_template_without_synonym_rules_leaves_the_filter_out() -> None:
    analysis = index_template(synonyms=[])["template"]["settings"]["analysis"]
    assert "aujobs_synonyms" not in analysis["filter"]
    assert "aujobs_synonyms" not in analysis["analyzer"]["english_search"]["filter"]


def test_template_default_synonyms_come_from_the_synonyms_module() -> None:
    rules = index_template()["template"]["settings"]["analysis"]["filter"]["aujobs_synonyms"]["synonyms"]
    assert any("developer" in rule for rule in rules)


def test_template_mapping_types() -> None:
    properties = index_template(synonyms=[])["template"]["mappings"]["properties"]
    assert index_template(synonyms=[])["template"]["mappings"]["dynamic"] == "strict"
    assert properties["location"] == {"type": "geo_point"}
    for name in (
        "job_id",
        "status",
        "company_id",
        "classification",
        "work_type",
        "work_arrangement",
        "state",
    ):
        assert properties[name]["type"] == "keyword", name
    for name in ("published_at", "expires_at", "featured_from", "featured_until"):
        assert properties[name] == {"type": "date"}, name
    salary = properties["salary"]["properties"]
    for name in ("minimum_cents", "maximum_cents", "annual_minimum_cents", "annual_maximum_cents"):
        assert salary[name] == {"type": "long"}, name  # integer cents
    for name in ("suggest_title", "suggest_skill", "suggest_company"):
        assert properties[name]["type"] == "completion"
        assert properties[name]["contexts"] == [{"name": "status", "type": "category", "path": "status"}]
    assert properties["title"]["search_analyzer"] == "english_search"
    assert properties["title"]["fields"]["prefix"]["analyzer"] == "prefix_index"
    assert properties["company_name"]["fields"]["raw"] == {"type": "keyword", "normalizer": "folding"}


def test_job_document_matches_the_mapping_and_shifts_nothing_into_cents() -> None:
    job = snapshot(
        salary=SalaryRange(minimum_cents=45_00, maximum_cents=55_00, period=SalaryPeriod.hourly),
        title="Senior Software Engineer",
    )
    document = job_document(job)
    properties = index_template(synonyms=[])["template"]["mappings"]["properties"]
    assert set(document) <= set(properties)  # dynamic: strict would refuse anything else
    assert document["salary"]["annual_minimum_cents"] == 45_00 * 1976
    assert document["location"] == {"lat": -37.8136, "lon": 144.9631}
    assert document["benefit_keys"] == ["free parking"]
    assert document["suggest_title"]["input"] == ["Senior Software Engineer", "Software Engineer", "Engineer"]


# ---------------------------------------------------------------- query bodies


def test_text_query_is_weighted_fuzzy_and_uses_the_synonym_analyser() -> None:
    body = build_search_body(SearchQuery(q="pyton dev", now=NOW))
    score = body["query"]["function_score"]
    text = score["query"]["bool"]["must"][0]["bool"]["should"]
    fuzzy = text[0]["multi_match"]
    assert fuzzy["fields"] == ["title^3", "skills.text^2", "company_name^2", "description"]
    assert fuzzy["fuzziness"] == "AUTO"
    assert fuzzy["analyzer"] == "english_search"
    assert text[1]["multi_match"]["operator"] == "and"
    assert {"match": {"title.prefix": {"query": "pyton dev", "operator": "and", "boost": 0.5}}} in text


def test_relevance_multiplies_freshness_and_the_featured_window() -> None:
    body = build_search_body(SearchQuery(q="nurse", now=NOW))
    score = body["query"]["function_score"]
    assert score["score_mode"] == "multiply" and score["boost_mode"] == "multiply"
    decay = score["functions"][0]["gauss"]["published_at"]
    assert decay["origin"] == NOW.isoformat() and decay["scale"] == "14d"
    featured = score["functions"][1]
    assert featured["weight"] == FEATURED_WEIGHT
    window = featured["filter"]["bool"]["filter"]
    assert window[0] == {"term": {"featured": True}}
    assert window[1]["bool"]["should"][0] == {"range": {"featured_from": {"lte": NOW.isoformat()}}}
    assert window[2]["bool"]["should"][0] == {"range": {"featured_until": {"gt": NOW.isoformat()}}}
    assert body["sort"] == [
        {"_score": "desc"},
        {"published_at": {"order": "desc", "missing": "_last"}},
        {"job_id": "asc"},
    ]


def test_always_active_and_unexpired() -> None:
    filters = clause_list(build_search_body(SearchQuery(now=NOW)))
    assert filters[0] == {"term": {"status": "active"}}
    assert filters[1]["bool"]["should"][0] == {"range": {"expires_at": {"gt": NOW.isoformat()}}}
    assert len(filters) == 2


def test_every_filter() -> None:
    company_id = uuid.uuid4()
    query = SearchQuery(
        classification="Healthcare & Medical",
        sub_classification="Nursing",
        work_types=("full_time", "part_time"),
        work_arrangements=("remote",),
        salary_min_cents=80_000_00,
        salary_max_cents=120_000_00,
        posted_within_days=7,
        skills=("Python", "C++"),
        company=str(company_id),
        company_sizes=("11-50",),
        benefits=("Free Parking",),
        featured_only=True,
        now=NOW,
    )
    filters = clause_list(build_search_body(query))
    assert {"term": {"classification": "Healthcare & Medical"}} in filters
    assert {"term": {"sub_classification": "Nursing"}} in filters
    assert {"terms": {"work_type": ["full_time", "part_time"]}} in filters
    assert {"terms": {"work_arrangement": ["remote"]}} in filters
    assert {"range": {"salary.annual_maximum_cents": {"gte": 80_000_00}}} in filters
    assert {"range": {"salary.annual_minimum_cents": {"lte": 120_000_00}}} in filters
    assert {"range": {"published_at": {"gte": (NOW - timedelta(days=7)).isoformat()}}} in filters
    assert {"term": {"skill_keys": "python"}} in filters and {"term": {"skill_keys": "c++"}} in filters
    assert {"term": {"company_id": str(company_id)}} in filters
    assert {"terms": {"company_size": ["11-50"]}} in filters
    assert {"term": {"benefit_keys": "free parking"}} in filters
    assert any(
        "bool" in f and f["bool"].get("filter", [{}])[0] == {"term": {"featured": True}} for f in filters
    )


def test_company_by_name_is_case_insensitive_through_the_normaliser() -> None:
    filters = clause_list(build_search_body(SearchQuery(company=" Acme Pty Ltd ", now=NOW)))
    assert {"term": {"company_name.raw": "Acme Pty Ltd"}} in filters


def test_radius_is_a_geo_distance_filter_and_a_state_a_term() -> None:
    point = GeoPoint(latitude=-33.8688, longitude=151.2093)
    near = SearchQuery(
        location=LocationFilter(label="Sydney", point=point, radius_km=25, state="NSW"), now=NOW
    )
    assert clause_list(build_search_body(near))[-1] == {
        "geo_distance": {"distance": "25km", "location": {"lat": -33.8688, "lon": 151.2093}}
    }
    state = SearchQuery(location=LocationFilter(label="NSW", state="NSW"), now=NOW)
    assert clause_list(build_search_body(state))[-1] == {"term": {"state": "NSW"}}
    suburb = SearchQuery(
        location=LocationFilter(label="Carlton", suburb="Carlton", postcode="3053", state="VIC")
    )
    assert clause_list(build_search_body(suburb))[-3:] == [
        {"term": {"suburb": "Carlton"}},
        {"term": {"postcode": "3053"}},
        {"term": {"state": "VIC"}},
    ]


def test_sorts_end_with_the_job_id_tiebreaker() -> None:
    point = GeoPoint(latitude=-33.8688, longitude=151.2093)
    by_date = build_search_body(SearchQuery(sort=SortOrder.date, now=NOW))
    assert by_date["sort"] == [{"published_at": {"order": "desc", "missing": "_last"}}, {"job_id": "asc"}]
    assert "function_score" not in by_date["query"]  # no scoring work when the order ignores it
    by_salary = build_search_body(SearchQuery(sort=SortOrder.salary, now=NOW))
    assert by_salary["sort"][0] == {"salary.annual_maximum_cents": {"order": "desc", "missing": "_last"}}
    location = LocationFilter(label="Sydney", point=point, radius_km=50)
    by_distance = build_search_body(SearchQuery(sort=SortOrder.distance, location=location, now=NOW))
    geo = by_distance["sort"][0]["_geo_distance"]
    assert geo["location"] == {"lat": -33.8688, "lon": 151.2093} and geo["unit"] == "km"
    assert by_distance["sort"][-1] == {"job_id": "asc"}
    with pytest.raises(ProblemError) as caught:
        build_search_body(SearchQuery(sort=SortOrder.distance, now=NOW))
    assert caught.value.status == 400


def test_facets_highlight_and_cursor() -> None:
    cursor = {"s": [2.5, 1700000000000, "abc"], "t": NOW.isoformat()}
    body = build_search_body(SearchQuery(q="nurse", cursor=cursor, now=NOW + timedelta(hours=5)))
    assert body["search_after"] == [2.5, 1700000000000, "abc"]
    # a later page keeps the first page's clock
    assert (
        body["query"]["function_score"]["functions"][0]["gauss"]["published_at"]["origin"] == NOW.isoformat()
    )
    assert body["aggs"]["classification"] == {"terms": {"field": "classification", "size": 50}}
    assert body["aggs"]["state"]["terms"]["field"] == "state"
    bands = body["aggs"]["salary_band"]["filters"]["filters"]
    assert list(bands) == [name for name, _, _ in SALARY_BANDS]
    assert bands["60k-80k"]["bool"]["filter"] == [
        {"range": {"salary.annual_maximum_cents": {"gte": 60_000_00}}},
        {"range": {"salary.annual_minimum_cents": {"lt": 80_000_00}}},
    ]
    highlight = body["highlight"]
    assert highlight["encoder"] == "html"
    assert highlight["pre_tags"] == ["<mark>"] and highlight["post_tags"] == ["</mark>"]
    assert "description" in highlight["fields"]
    assert build_search_body(SearchQuery(now=NOW, facets=False)).get("aggs") is None


@pytest.mark.parametrize("cursor", [{"o": 20}, {"s": [1, 2]}, {"s": "x"}, {"s": [1, 2, 3], "t": "yesterday"}])
def test_a_foreign_cursor_is_a_400(cursor: dict[str, Any]) -> None:
    with pytest.raises(ProblemError) as caught:
        build_search_body(SearchQuery(q="nurse", cursor=cursor, now=NOW))
    assert caught.value.status == 400


def test_suggest_body_uses_the_three_completion_fields_for_active_postings() -> None:
    body = build_suggest_body("eng", 5)
    assert set(body["suggest"]) == {"title", "skill", "company"}
    completion = body["suggest"]["skill"]["completion"]
    assert completion["field"] == "suggest_skill" and completion["size"] == 5
    assert completion["contexts"] == {"status": ["active"]}


def test_safe_snippet_leaves_only_marks_as_markup() -> None:
    assert safe_snippet("a <mark>b</mark> &lt;script&gt;") == "a <mark>b</mark> &lt;script&gt;"
    assert (
        safe_snippet("<script>x</script> <mark>b</mark>") == "&lt;script&gt;x&lt;/script&gt; <mark>b</mark>"
    )


# ---------------------------------------------------------------- over HTTP


@pytest.fixture
async def stub() -> AsyncIterator[OpenSearchStub]:
    async with running_stub() as server:
        yield server


@pytest.fixture
async def backend(stub: OpenSearchStub) -> AsyncIterator[OpenSearchBackend]:
    engine = OpenSearchBackend.from_url(stub.url, synonyms=["dev, developer"])
    await engine.ensure_ready()
    yield engine
    await engine.aclose()


async def test_ensure_ready_creates_template_index_and_write_alias_once(
    stub: OpenSearchStub, backend: OpenSearchBackend
) -> None:
    assert stub.alias_targets(ALIAS) == ["aujobs-jobs-v1"]
    assert stub.aliases[ALIAS]["aujobs-jobs-v1"]["is_write_index"] is True
    assert stub.indices["aujobs-jobs-v1"].mappings["properties"]["location"] == {"type": "geo_point"}
    await backend.ensure_ready()
    assert sorted(stub.indices) == ["aujobs-companies", "aujobs-jobs-v1"]


async def test_index_job_is_versioned_and_an_older_event_is_ignored(
    stub: OpenSearchStub, backend: OpenSearchBackend
) -> None:
    job_id = uuid.uuid4()
    assert await backend.index_job(snapshot(job_id=job_id, version=2, title="Nurse"))
    put = stub.requests_to(f"/{ALIAS}/_doc/{job_id}", "PUT")[0]
    assert put.params["version_type"] == "external"
    assert put.params["version"] == str(2 << VERSION_SHIFT)
    assert put.params["require_alias"] == "true"

    assert await backend.index_job(snapshot(job_id=job_id, version=1, title="Old title")) is False
    assert stub.source("aujobs-jobs-v1", str(job_id))["title"] == "Nurse"
    assert await backend.index_job(snapshot(job_id=job_id, version=3, title="Senior Nurse"))
    assert stub.source("aujobs-jobs-v1", str(job_id))["title"] == "Senior Nurse"


async def test_a_closed_posting_stays_indexed_but_is_never_found(
    stub: OpenSearchStub, backend: OpenSearchBackend
) -> None:
    job_id = uuid.uuid4()
    await backend.index_job(snapshot(job_id=job_id, version=1))
    assert [h.job_id for h in (await backend.search(SearchQuery(now=NOW))).items] == [job_id]
    await backend.index_job(snapshot(job_id=job_id, version=2, status=JobStatus.closed))
    assert stub.source("aujobs-jobs-v1", str(job_id))["status"] == "closed"  # the version guard stays
    assert (await backend.search(SearchQuery(now=NOW))).total == 0
    # a late, older "active" event cannot bring it back
    assert await backend.index_job(snapshot(job_id=job_id, version=1)) is False
    assert (await backend.search(SearchQuery(now=NOW))).total == 0


async def test_an_expired_posting_is_not_found(backend: OpenSearchBackend) -> None:
    await backend.index_job(snapshot(expires_at=NOW - timedelta(minutes=1)))
    assert (await backend.search(SearchQuery(now=NOW))).total == 0


async def test_company_update_reaches_postings_and_leaves_room_for_the_next_posting_version(
    stub: OpenSearchStub, backend: OpenSearchBackend
) -> None:
    company_id = uuid.uuid4()
    job_id = uuid.uuid4()
    other = uuid.uuid4()
    await backend.index_job(snapshot(job_id=job_id, version=1, company_id=company_id, company_name="Acme"))
    await backend.index_job(snapshot(job_id=other, version=1, company_id=uuid.uuid4(), company_name="Other"))

    assert await backend.company_updated(company_event(company_id, 2, "Acme Group", CompanySize.small)) == 1
    sent = stub.requests_to("/_update_by_query")[0]
    assert sent.body["query"] == {"term": {"company_id": str(company_id)}}
    document = stub.source("aujobs-jobs-v1", str(job_id))
    assert (document["company_name"], document["company_size"], document["company_verified"]) == (
        "Acme Group",
        "11-50",
        True,
    )
    assert stub.source("aujobs-jobs-v1", str(other))["company_name"] == "Other"
    found = await backend.search(SearchQuery(company_sizes=("11-50",), now=NOW))
    assert [h.job_id for h in found.items] == [job_id]

    # update_by_query bumped the document's version; the posting's next version still lands
    assert await backend.index_job(
        snapshot(job_id=job_id, version=2, company_id=company_id, title="Lead Dev")
    )
    document = stub.source("aujobs-jobs-v1", str(job_id))
    assert document["title"] == "Lead Dev"
    assert document["company_name"] == "Acme Group"  # from the profile, not the snapshot's older copy

    # an older company event changes nothing
    assert await backend.company_updated(company_event(company_id, 1, "Acme", CompanySize.tiny)) == 0
    assert len(stub.requests_to("/_update_by_query")) == 1


async def test_company_update_before_the_first_snapshot_still_applies(backend: OpenSearchBackend) -> None:
    company_id = uuid.uuid4()
    await backend.company_updated(company_event(company_id, 1, "Zed Corp", CompanySize.enterprise))
    await backend.index_job(snapshot(company_id=company_id, company_name="Zed"))
    hit = (await backend.search(SearchQuery(company="zed corp", now=NOW))).items[0]
    assert hit.company_name == "Zed Corp" and hit.company_verified


async def test_rebuild_swaps_the_alias_only_when_the_new_index_is_loaded(
    stub: OpenSearchStub, backend: OpenSearchBackend
) -> None:
    old_job = uuid.uuid4()
    await backend.index_job(snapshot(job_id=old_job, version=1, title="Old index job"))
    during_rebuild = uuid.uuid4()
    fresh = [snapshot(version=1, title=f"Job {n}") for n in range(3)]
    seen_while_loading: list[tuple[list[str], int]] = []

    async def snapshots() -> AsyncIterator[JobPostingSnapshot]:
        for number, job in enumerate(fresh):
            # readers still go to the old, full index while the new one loads
            found = await backend.search(SearchQuery(now=NOW))
            seen_while_loading.append((stub.alias_targets(ALIAS), found.total))
            if number == 1:  # an event arrives mid-rebuild
                await backend.index_job(snapshot(job_id=during_rebuild, version=4, title="Mid-rebuild"))
            yield job

    new_index = await backend.rebuild(snapshots())

    assert new_index == "aujobs-jobs-v2"
    assert seen_while_loading[0] == (["aujobs-jobs-v1"], 1)
    assert all(targets == ["aujobs-jobs-v1"] for targets, _ in seen_while_loading)
    assert all(total >= 1 for _, total in seen_while_loading)
    assert stub.alias_targets(ALIAS) == ["aujobs-jobs-v2"]
    assert stub.aliases[ALIAS]["aujobs-jobs-v2"]["is_write_index"] is True
    assert "aujobs-jobs-v1" not in stub.indices
    assert stub.alias_targets(backend.rebuild_alias) == []
    swap = next(r for r in stub.requests_to("/_aliases") if len(r.body["actions"]) > 1)
    assert swap.body["actions"][:2] == [
        {"remove": {"index": "aujobs-jobs-v1", "alias": ALIAS}},
        {"add": {"index": "aujobs-jobs-v2", "alias": ALIAS, "is_write_index": True}},
    ]
    bulk = stub.requests_to("/_bulk")[0].body
    assert bulk[0]["index"]["version_type"] == "external" and bulk[0]["index"]["_index"] == "aujobs-jobs-v2"
    # loaded with refresh off, then back on
    assert stub.indices["aujobs-jobs-v2"].settings["index"]["refresh_interval"] is None
    ids = {h.job_id for h in (await backend.search(SearchQuery(now=NOW, limit=50, per_company_cap=0))).items}
    assert ids == {job.job_id for job in fresh} | {during_rebuild}


async def test_a_failed_rebuild_keeps_the_old_index_serving(
    stub: OpenSearchStub, backend: OpenSearchBackend
) -> None:
    await backend.index_job(snapshot())

    async def snapshots() -> AsyncIterator[JobPostingSnapshot]:
        yield snapshot()

    stub.fail(503, path_contains="_bulk")
    with pytest.raises(OpenSearchUnavailable):
        await backend.rebuild(snapshots())
    assert stub.alias_targets(ALIAS) == ["aujobs-jobs-v1"]
    assert sorted(stub.indices) == ["aujobs-companies", "aujobs-jobs-v1"]
    assert (await backend.search(SearchQuery(now=NOW))).total == 1


async def test_search_parses_hits_facets_and_safe_snippets(backend: OpenSearchBackend) -> None:
    company_id = uuid.uuid4()
    nurse = snapshot(
        title="Registered Nurse",
        company_id=company_id,
        classification="Healthcare & Medical",
        description="Care for <b>patients</b> & families; nurse-led clinic.",
        salary=SalaryRange(minimum_cents=90_000_00, maximum_cents=110_000_00),
        skills=["Triage"],
        featured=True,
    )
    await backend.index_job(nurse)
    await backend.index_job(snapshot(title="Developer", state="NSW", work_type=WorkType.contract_temp))
    point = GeoPoint(latitude=-33.8688, longitude=151.2093)
    results = await backend.search(
        SearchQuery(q="nurse", location=LocationFilter(label="Sydney", point=point, radius_km=1000), now=NOW)
    )
    assert results.total == 2  # the stub does no text matching
    hit = next(h for h in results.items if h.job_id == nurse.job_id)
    assert hit.title == "Registered Nurse" and hit.company_id == company_id
    assert hit.salary is not None and hit.salary.annual_minimum_cents == 90_000_00
    assert hit.skills == ["Triage"] and hit.featured is True
    assert hit.published_at == nurse.published_at
    assert hit.snippet is not None and "<mark>nurse</mark>" in hit.snippet
    assert "<b>" not in hit.snippet and "&lt;b&gt;patients&lt;/b&gt;" in hit.snippet
    assert hit.distance_km is not None and 700 < hit.distance_km < 720  # Sydney to Melbourne
    assert results.facets is not None
    counts = {f.value: f.count for f in results.facets.state}
    assert counts == {"VIC": 2, "NSW": 1} or counts == {"NSW": 1, "VIC": 1}
    assert {f.value: f.count for f in results.facets.classification}["Healthcare & Medical"] == 1
    assert [(f.value, f.count) for f in results.facets.salary_band] == [("80k-100k", 1), ("100k-130k", 1)]
    assert results.next_cursor is None


async def test_filters_reach_the_engine(backend: OpenSearchBackend) -> None:
    python = snapshot(skills=["Python"], salary=SalaryRange(minimum_cents=70_000_00, maximum_cents=90_000_00))
    await backend.index_job(python)
    await backend.index_job(
        snapshot(skills=["Java"], salary=SalaryRange(minimum_cents=50_000_00, maximum_cents=60_000_00))
    )
    found = await backend.search(SearchQuery(skills=("python",), salary_min_cents=75_000_00, now=NOW))
    assert [h.job_id for h in found.items] == [python.job_id]


async def test_pages_follow_the_cursor_under_the_company_cap(
    stub: OpenSearchStub, backend: OpenSearchBackend
) -> None:
    big, small = uuid.uuid4(), uuid.uuid4()
    bigs = [snapshot(company_id=big, published_at=NOW - timedelta(hours=n)) for n in range(6)]
    smalls = [snapshot(company_id=small, published_at=NOW - timedelta(hours=10 + n)) for n in range(4)]
    for job in bigs + smalls:
        await backend.index_job(job)

    def query(cursor: dict[str, Any] | None) -> SearchQuery:
        return SearchQuery(sort=SortOrder.date, limit=3, per_company_cap=2, cursor=cursor, now=NOW)

    first = await backend.search(query(None))
    # at most two of the big company's six newest; the page is filled from further down
    assert [h.job_id for h in first.items] == [bigs[0].job_id, bigs[1].job_id, smalls[0].job_id]
    assert first.total == 10 and first.next_cursor
    cursor = decode_cursor(first.next_cursor)
    assert cursor["t"] == NOW.isoformat()
    assert cursor["s"][-1] == str(smalls[0].job_id)  # the job_id tiebreaker of the last hit examined
    second = await backend.search(query(cursor))
    # the cursor continues after the last examined hit: no repeats, skipped hits stay skipped,
    # and the cap applies afresh on each page (two of the small company's remaining three)
    assert [h.job_id for h in second.items] == [s.job_id for s in smalls[1:3]]
    assert second.next_cursor is None
    assert stub.requests_to("/_search")[-1].body["search_after"] == cursor["s"]


async def test_a_page_under_the_cap_fetches_further_batches(
    stub: OpenSearchStub, backend: OpenSearchBackend
) -> None:
    big, small = uuid.uuid4(), uuid.uuid4()
    bigs = [snapshot(company_id=big, published_at=NOW - timedelta(hours=n)) for n in range(8)]
    other = snapshot(company_id=small, published_at=NOW - timedelta(hours=20))
    for job in [*bigs, other]:
        await backend.index_job(job)
    page = await backend.search(SearchQuery(sort=SortOrder.date, limit=2, per_company_cap=1, now=NOW))
    assert [h.job_id for h in page.items] == [bigs[0].job_id, other.job_id]
    searches = stub.requests_to("/_search")
    assert len(searches) == 2 and searches[0].body["size"] == 6
    assert "aggs" not in searches[1].body and searches[1].body["search_after"][-1] == str(bigs[5].job_id)
    assert page.next_cursor is None


async def test_without_a_cap_pages_are_exact(backend: OpenSearchBackend) -> None:
    jobs = [snapshot(company_id=uuid.uuid4(), published_at=NOW - timedelta(hours=n)) for n in range(5)]
    for job in jobs:
        await backend.index_job(job)
    first = await backend.search(SearchQuery(sort=SortOrder.date, limit=2, per_company_cap=0, now=NOW))
    assert first.total == 5 and first.next_cursor
    rest = await backend.search(
        SearchQuery(
            sort=SortOrder.date, limit=10, per_company_cap=0, cursor=decode_cursor(first.next_cursor), now=NOW
        )
    )
    assert [h.job_id for h in first.items + rest.items] == [j.job_id for j in jobs]
    assert rest.next_cursor is None


async def test_did_you_mean_when_nothing_matches(stub: OpenSearchStub, backend: OpenSearchBackend) -> None:
    stub.term_corrections = {"pyhton": "python"}
    results = await backend.search(SearchQuery(q="senior pyhton", now=NOW))
    assert results.total == 0
    assert results.did_you_mean == "senior python"


async def test_suggest_titles_skills_companies_of_active_postings(backend: OpenSearchBackend) -> None:
    await backend.index_job(
        snapshot(title="Software Engineer", skills=["Solidity"], company_name="Sonic Labs")
    )
    await backend.index_job(
        snapshot(title="Solar Installer", status=JobStatus.closed, skills=[], company_name=None)
    )
    suggestions = await backend.suggest("so")
    assert [(s.kind.value, s.text) for s in suggestions] == [
        ("title", "Software Engineer"),
        ("skill", "Solidity"),
        ("company", "Sonic Labs"),
    ]
    inner = await backend.suggest("engin")
    assert [(s.kind.value, s.text) for s in inner] == [("title", "Software Engineer")]
    assert await backend.suggest("   ") == []


async def test_a_5xx_is_a_503_problem(stub: OpenSearchStub, backend: OpenSearchBackend) -> None:
    stub.fail(503)
    with pytest.raises(OpenSearchUnavailable) as caught:
        await backend.search(SearchQuery(now=NOW))
    assert caught.value.status == 503
    assert caught.value.type.endswith("search-unavailable")
    stub.fail(500)
    with pytest.raises(OpenSearchUnavailable):
        await backend.index_job(snapshot())


async def test_an_unreachable_cluster_is_a_503_problem() -> None:
    async with running_stub() as server:
        url = server.url
    engine = OpenSearchBackend.from_url(url, synonyms=[])
    try:
        with pytest.raises(OpenSearchUnavailable):
            await engine.suggest("dev")
    finally:
        await engine.aclose()
