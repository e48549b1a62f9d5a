"""The job search query API on the PostgreSQL backend: each parameter, ranking, facets,
snippets and paging, against a real PostgreSQL fed through the service's bus."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from aujobs_common.events import JobStatus, JobSubmitted, WorkArrangement, WorkType
from aujobs_common.pagination import encode_cursor

from .search_support import (
    hits,
    ids,
    pay,
    place,
    posting,
    problem,
    publish,
    started_search,
)

ICT = "Information & Communication Technology"


@pytest.fixture
async def search(fresh_database_url):
    async with started_search(fresh_database_url) as client:
        yield client


# ---------------------------------------------------------------- text


async def test_typos_in_title_words_still_find_the_job(search):
    python = posting(title="Senior Python Developer", classification=ICT, skills=["Python", "Django"])
    nurse = posting(title="Registered Nurse")
    await publish(search, python, nurse, posting(title="Barista"))

    found = await hits(search, q="pythn developer")
    assert ids(found)[0] == str(python.job_id)
    assert str(nurse.job_id) not in ids(found)
    assert ids(await hits(search, q="nurce")) == [str(nurse.job_id)]
    # a skill with a typo finds the posting that lists it
    assert ids(await hits(search, q="djang")) == [str(python.job_id)]
    # full text wins when it matches: no fuzzy extras beside an exact hit
    assert ids(await hits(search, q="nurse")) == [str(nurse.job_id)]


async def test_job_title_synonyms_are_understood(search):
    nurse = posting(title="Registered Nurse - Emergency")
    dev = posting(title="Java Developer", company_name="Byte Co", classification=ICT)
    await publish(search, nurse, dev, posting(title="Retail Assistant", company_name="Shop Co"))
    assert ids(await hits(search, q="RN")) == [str(nurse.job_id)]
    assert ids(await hits(search, q="java dev")) == [str(dev.job_id)]


async def test_pasted_line_breaks_are_fine_but_control_characters_are_not(search):
    job = posting(title="Registered Nurse")
    await publish(search, job)
    assert ids(await hits(search, q="registered\n\tnurse")) == [str(job.job_id)]
    for bad in ("nurse\x00", "nurse\x1b[0m"):
        assert (await problem(search, 422, q=bad))["type"].endswith("/invalid-text")


async def test_accents_do_not_matter(search):
    job = posting(title="Café Manager", company_name="Crème Brûlée Co")
    await publish(search, job)
    assert ids(await hits(search, q="cafe manager")) == [str(job.job_id)]
    assert ids(await hits(search, q="creme brulee")) == [str(job.job_id)]


async def test_title_outranks_description(search):
    in_title = posting(title="Welder", description="Fabrication work on site.", company_name="A")
    in_text = posting(title="Fabricator", description="Some welder experience helps.", company_name="B")
    await publish(search, in_text, in_title)
    assert ids(await hits(search, q="welder")) == [str(in_title.job_id), str(in_text.job_id)]


async def test_snippet_is_safe_html_with_only_mark_tags(search):
    job = posting(
        title="Ward Nurse",
        description="<p>x</p>",
        description_text="Nurse needed <script>alert('x')</script> <b>now</b> & pay > award for the ward.",
    )
    await publish(search, job)
    snippet = (await hits(search, q="nurse"))["items"][0]["snippet"]
    assert "<mark>Nurse</mark>" in snippet
    assert "&amp; pay &gt; award" in snippet
    assert "<" not in snippet.replace("<mark>", "").replace("</mark>", "")


# ---------------------------------------------------------------- location


async def _nsw_jobs(search):
    jobs = {
        name: posting(title=f"Forklift Driver {name}", location=place(name, "NSW"), company_name=name)
        for name in ("Parramatta", "Westmead", "Penrith", "Newcastle")
    }
    jobs["Melbourne"] = posting(title="Forklift Driver Melbourne", company_name="Melb")
    await publish(search, *jobs.values())
    return {str(j.job_id): name for name, j in jobs.items()}


async def test_radius_search_around_a_suburb_postcode_or_city(search):
    names = await _nsw_jobs(search)

    def found(result):
        return {names[i] for i in ids(result)}

    assert found(await hits(search, location="Parramatta", radius_km=10)) == {"Parramatta", "Westmead"}
    assert found(await hits(search, location="2150", radius_km=10)) == {"Parramatta", "Westmead"}
    assert found(await hits(search, location="Parramatta NSW 2150", radius_km=10)) == {
        "Parramatta",
        "Westmead",
    }
    # default radius 25 km: Penrith (~30 km) is outside, 40 km takes it in
    assert found(await hits(search, location="parramatta, nsw")) == {"Parramatta", "Westmead"}
    assert "Penrith" in found(await hits(search, location="Parramatta", radius_km=40))
    # radius 0: the suburb itself
    assert found(await hits(search, location="Parramatta", radius_km=0)) == {"Parramatta"}
    # a state is the whole state, by code or name, also through the old state parameter
    nsw = {"Parramatta", "Westmead", "Penrith", "Newcastle"}
    assert found(await hits(search, location="NSW")) == nsw
    assert found(await hits(search, location="New South Wales")) == nsw
    assert found(await hits(search, state="nsw")) == nsw
    assert found(await hits(search, location="Melbourne")) == {"Melbourne"}


async def test_sort_by_distance_nearest_first(search):
    names = await _nsw_jobs(search)
    result = await hits(search, location="Parramatta", radius_km=200, sort="distance", limit=2)
    page2 = await hits(
        search, location="Parramatta", radius_km=200, sort="distance", limit=2, cursor=result["next_cursor"]
    )
    assert [names[i] for i in ids(result) + ids(page2)] == ["Parramatta", "Westmead", "Penrith", "Newcastle"]
    distances = [h["distance_km"] for h in result["items"] + page2["items"]]
    assert distances == sorted(distances) and distances[0] < 1 and 100 < distances[-1] < 130
    assert page2["next_cursor"] is None


# ---------------------------------------------------------------- filters


async def test_salary_filter_matches_annual_ranges_across_pay_periods(search):
    hourly = posting(title="Electrician", salary=pay(45, 50, "hourly"))  # $88,920-$98,800 a year
    annual = posting(title="Electrician", salary=pay(60_000, 70_000), company_name="Other")
    unpaid = posting(title="Electrician", salary=None, company_name="Third")
    await publish(search, hourly, annual, unpaid)

    assert ids(await hits(search, salary_min=90_000)) == [str(hourly.job_id)]
    assert ids(await hits(search, salary_min=98_800)) == [str(hourly.job_id)]
    assert ids(await hits(search, salary_min=98_801)) == []
    assert ids(await hits(search, salary_max=65_000)) == [str(annual.job_id)]
    assert set(ids(await hits(search, salary_min=65_000, salary_max=89_000))) == {
        str(hourly.job_id),
        str(annual.job_id),
    }
    hit = (await hits(search, salary_min=90_000))["items"][0]
    assert hit["salary"]["period"] == "hourly" and hit["salary"]["annual_maximum_cents"] == 9_880_000
    by_salary = await hits(search, sort="salary")
    assert ids(by_salary) == [str(hourly.job_id), str(annual.job_id), str(unpaid.job_id)]


async def test_posted_within_days(search):
    fresh = posting(title="Chef", days_ago=2)
    old = posting(title="Chef", days_ago=10, company_name="Old Co")
    await publish(search, fresh, old)
    assert ids(await hits(search, posted_within_days=7)) == [str(fresh.job_id)]
    assert len(ids(await hits(search, posted_within_days=30))) == 2


async def test_skills_filter_uses_canonical_names(search):
    web = posting(title="Web Developer", skills=["Python", "JavaScript"], classification=ICT)
    data = posting(
        title="Data Engineer", skills=["Python", "SQL"], classification=ICT, company_name="Data Co"
    )
    await publish(search, web, data)
    assert ids(await hits(search, skills="JS")) == [str(web.job_id)]
    assert ids(await hits(search, skills=["python", "javascript"])) == [str(web.job_id)]
    assert set(ids(await hits(search, skills="Python"))) == {str(web.job_id), str(data.job_id)}
    assert ids(await hits(search, skills="Rust")) == []
    assert (await hits(search, skills="JS"))["items"][0]["skills"] == ["Python", "JavaScript"]


async def test_company_by_name_or_id(search):
    acme_id = uuid.uuid4()
    acme = posting(title="Welder", company_id=acme_id, company_name="Acme Pty Ltd")
    other = posting(title="Welder", company_name="Other Pty Ltd")
    await publish(search, acme, other)
    assert ids(await hits(search, company="acme pty ltd")) == [str(acme.job_id)]
    assert ids(await hits(search, company=str(acme_id))) == [str(acme.job_id)]
    assert ids(await hits(search, company="Acme")) == []


async def test_work_type_arrangement_classification_and_benefits(search):
    remote = posting(
        title="Support Engineer",
        classification=ICT,
        sub_classification="Help Desk & IT Support",
        work_type=WorkType.contract_temp,
        work_arrangement=WorkArrangement.remote,
        benefits=["Free parking", "Salary packaging"],
    )
    hybrid = posting(
        title="Support Engineer",
        classification=ICT,
        sub_classification="Networks & Systems Administration",
        work_type=WorkType.part_time,
        work_arrangement=WorkArrangement.hybrid,
        company_name="Hybrid Co",
    )
    onsite = posting(title="Nurse", company_name="Ward Co")
    await publish(search, remote, hybrid, onsite)

    assert ids(await hits(search, work_type="contract_temp")) == [str(remote.job_id)]
    assert set(ids(await hits(search, work_type=["contract_temp", "part_time"]))) == {
        str(remote.job_id),
        str(hybrid.job_id),
    }
    assert ids(await hits(search, work_arrangement="hybrid")) == [str(hybrid.job_id)]
    assert len(ids(await hits(search, work_arrangement=["remote", "hybrid"]))) == 2
    assert len(ids(await hits(search, classification=ICT))) == 2
    assert ids(await hits(search, classification=ICT, sub_classification="Help Desk & IT Support")) == [
        str(remote.job_id)
    ]
    assert ids(await hits(search, benefits=["free  PARKING", "salary packaging"])) == [str(remote.job_id)]
    assert ids(await hits(search, benefits=["Free parking", "Gym"])) == []
    hit = (await hits(search, work_arrangement="remote"))["items"][0]
    assert hit["work_arrangement"] == "remote" and hit["work_type"] == "contract_temp"


# ---------------------------------------------------------------- ranking


async def test_featured_postings_are_boosted_while_their_window_is_open(search):
    now = datetime.now(UTC)
    plain = posting(title="Accountant", company_name="Plain Co", days_ago=1)
    featured = posting(
        title="Accountant",
        company_name="Featured Co",
        days_ago=1.5,
        featured_from=now - timedelta(days=1),
        featured_until=now + timedelta(days=6),
    )
    lapsed = posting(
        title="Accountant",
        company_name="Lapsed Co",
        days_ago=1.2,
        featured_from=now - timedelta(days=9),
        featured_until=now - timedelta(days=2),
    )
    await publish(search, plain, featured, lapsed)
    ranked = (await hits(search, q="accountant"))["items"]
    assert [h["job_id"] for h in ranked] == [str(featured.job_id), str(plain.job_id), str(lapsed.job_id)]
    assert [h["featured"] for h in ranked] == [True, False, False]
    assert ids(await hits(search, featured_only="true")) == [str(featured.job_id)]


async def test_fresher_postings_rank_higher_for_the_same_match(search):
    old = posting(title="Plumber", company_name="Old Co", days_ago=30)
    new = posting(title="Plumber", company_name="New Co", days_ago=1)
    middle = posting(title="Plumber", company_name="Mid Co", days_ago=10)
    await publish(search, old, new, middle)
    ranked = (await hits(search, q="plumber"))["items"]
    assert [h["job_id"] for h in ranked] == [str(new.job_id), str(middle.job_id), str(old.job_id)]
    # half-life 14 days: 30 days old scores about a quarter of 2 days younger... roughly
    assert ranked[2]["score"] / ranked[0]["score"] == pytest.approx(0.5 ** (29 / 14), rel=0.02)
    assert ids(await hits(search, sort="date")) == [str(new.job_id), str(middle.job_id), str(old.job_id)]


# ---------------------------------------------------------------- facets


async def test_facets_count_the_filtered_set_each_ignoring_its_own_filter(search):
    await publish(
        search,
        posting(title="Nurse A", work_type=WorkType.full_time, salary=pay(70_000, 90_000), company_name="A"),
        posting(
            title="Nurse B", work_type=WorkType.part_time, salary=pay(40, 45, "hourly"), company_name="B"
        ),
        posting(
            title="Nurse C",
            work_type=WorkType.full_time,
            location=place("Parramatta", "NSW"),
            work_arrangement=WorkArrangement.hybrid,
            salary=None,
            company_name="C",
        ),
        posting(title="Developer", classification=ICT, company_name="D"),
    )
    result = await hits(search, q="nurse", work_type="full_time")
    assert result["total"] == 2
    facets = result["facets"]
    # work_type ignores work_type=full_time: both types of nurse jobs are offered
    assert facets["work_type"] == [{"value": "full_time", "count": 2}, {"value": "part_time", "count": 1}]
    assert facets["classification"] == [{"value": "Healthcare & Medical", "count": 2}]
    assert facets["state"] == [{"value": "NSW", "count": 1}, {"value": "VIC", "count": 1}]
    assert facets["work_arrangement"] == [{"value": "hybrid", "count": 1}, {"value": "on_site", "count": 1}]
    bands = {b["value"]: b["count"] for b in facets["salary_band"]}
    # 70k-90k overlaps two bands; the salary-less posting is in none
    assert bands == {
        "under-60k": 0,
        "60k-80k": 1,
        "80k-100k": 1,
        "100k-130k": 0,
        "130k-160k": 0,
        "160k-plus": 0,
    }
    narrowed = await hits(search, q="nurse", work_type="full_time", state="NSW")
    assert narrowed["total"] == 1
    assert narrowed["facets"]["state"] == [{"value": "NSW", "count": 1}, {"value": "VIC", "count": 1}]
    assert narrowed["facets"]["work_type"] == [{"value": "full_time", "count": 1}]
    assert (await hits(search, q="nurse", facets="false"))["facets"] is None


# ---------------------------------------------------------------- visibility


async def test_only_active_unexpired_postings_are_searchable(search):
    now = datetime.now(UTC)
    live = posting(title="Gardener", expires_at=now + timedelta(days=5), company_name="Live")
    expired = posting(title="Gardener", expires_at=now - timedelta(minutes=1), company_name="Expired")
    pending = posting(
        JobSubmitted, title="Gardener", status=JobStatus.pending, published_at=None, company_name="P"
    )
    closed = posting(title="Gardener", status=JobStatus.closed, company_name="Closed")
    scheduled = posting(title="Gardener", status=JobStatus.scheduled, company_name="Later")
    await publish(search, live, expired, pending, closed, scheduled)
    assert ids(await hits(search, q="gardener")) == [str(live.job_id)]
    assert ids(await hits(search)) == [str(live.job_id)]


# ---------------------------------------------------------------- paging and the per-company cap


async def _flood(search):
    """Six fresh postings of one company, then one each of two others, a bit older."""
    acme = uuid.uuid4()
    flood = [
        posting(title=f"Labourer {i}", company_id=acme, company_name="Acme", days_ago=i / 100)
        for i in range(6)
    ]
    others = [
        posting(title="Labourer B", company_name="B Co", days_ago=1),
        posting(title="Labourer C", company_name="C Co", days_ago=2),
    ]
    await publish(search, *flood, *others)
    return {str(j.job_id): ("acme" if j in flood else "other") for j in [*flood, *others]}


async def _all_pages(search, **params):
    pages, cursor = [], None
    while True:
        result = await hits(search, **params, **({"cursor": cursor} if cursor else {}))
        pages.append(ids(result))
        cursor = result["next_cursor"]
        if cursor is None:
            return pages


@pytest.mark.parametrize("sort", ["relevance", "date"])
async def test_one_company_cannot_flood_a_page_and_paging_stays_consistent(search, sort):
    owner = await _flood(search)
    pages = await _all_pages(search, q="labourer", sort=sort, limit=5)
    flat = [i for page in pages for i in page]
    assert len(flat) == len(set(flat)) == 8  # no duplicates, no gaps
    assert [len(p) for p in pages] == [5, 3]
    assert [owner[i] for i in pages[0]].count("acme") == 3  # capped at SEARCH_PER_COMPANY_CAP=3
    assert (await hits(search, q="labourer", sort=sort, limit=5))["total"] == 8


async def test_page_by_page_with_limit_one_gives_the_same_order(search):
    await _flood(search)
    whole = [i for page in await _all_pages(search, sort="date", limit=8) for i in page]
    one_by_one = [i for page in await _all_pages(search, sort="date", limit=1) for i in page]
    assert one_by_one == whole and len(whole) == 8


async def test_the_cap_can_be_switched_off(fresh_database_url):
    async with started_search(fresh_database_url, search_per_company_cap=0) as search:
        owner = await _flood(search)
        first = await hits(search, q="labourer", limit=5)
        assert [owner[i] for i in ids(first)] == ["acme"] * 5


async def test_relevance_paging_stops_at_the_depth_cap(search):
    too_deep = encode_cursor({"v": 1, "s": "relevance", "m": "all", "o": 1000})
    body = await problem(search, 400, cursor=too_deep)
    assert body["type"].endswith("/invalid-cursor")


# ---------------------------------------------------------------- did you mean


async def test_did_you_mean_when_nothing_is_found(search):
    await publish(search, posting(title="Registered Nurse"))
    result = await hits(search, q="nurze", state="WA")
    assert result["total"] == 0 and result["did_you_mean"] == "nurse"
    assert (await hits(search, q="nurse"))["did_you_mean"] is None


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("params", "status", "slug"),
    [
        ({"location": "Atlantis"}, 400, "unknown-location"),
        ({"location": "Richmond"}, 400, "ambiguous-location"),
        ({"radius_km": 10}, 422, "radius-without-location"),
        ({"location": "Parramatta", "radius_km": 501}, 422, "radius-too-large"),
        ({"salary_min": -1}, 422, "invalid-salary"),
        ({"salary_max": -5}, 422, "invalid-salary"),
        ({"salary_min": 90000, "salary_max": 80000}, 422, "invalid-salary"),
        ({"cursor": "%%%"}, 400, "invalid-cursor"),
        (
            {"cursor": encode_cursor({"v": 1, "s": "date", "m": "all", "b": 0, "k": "yesterday", "id": "x"})},
            400,
            "invalid-cursor",
        ),
        (
            {"cursor": encode_cursor({"v": 1, "s": "relevance", "m": "all", "o": 0}), "sort": "date"},
            400,
            "invalid-cursor",
        ),
        ({"classification": "Astrology"}, 400, "unknown-classification"),
        ({"sub_classification": "Tarot"}, 400, "unknown-classification"),
        ({"classification": ICT, "sub_classification": "Midwifery"}, 400, "unknown-classification"),
        ({"sort": "distance"}, 422, "distance-needs-location"),
        ({"sort": "distance", "location": "VIC"}, 422, "distance-needs-location"),
        ({"state": "XYZ"}, 400, "unknown-state"),
        ({"state": "VIC", "location": "Parramatta"}, 422, "conflicting-location"),
        ({"skills": " "}, 422, "invalid-skill"),
    ],
)
async def test_bad_parameters_are_clear_problems(search, params, status, slug):
    body = await problem(search, status, **params)
    assert body["type"].endswith("/" + slug)
    assert body["errors"][0]["field"].startswith("query.")


@pytest.mark.parametrize(
    "params",
    [
        {"work_type": "sometimes"},
        {"work_arrangement": "moon"},
        {"company_size": "huge"},
        {"sort": "alphabetical"},
        {"posted_within_days": 0},
        {"radius_km": -1, "location": "Parramatta"},
        {"limit": 101},
    ],
)
async def test_invalid_values_are_validation_problems(search, params):
    await problem(search, 422, **params)


async def test_typo_results_page_like_any_other(search):
    jobs = [posting(title=f"Python Developer {n}", company_name=f"Co {n}", days_ago=n) for n in range(3)]
    await publish(search, *jobs)
    pages = await _all_pages(search, q="pythn", limit=1)
    assert pages == [[str(j.job_id)] for j in jobs]
