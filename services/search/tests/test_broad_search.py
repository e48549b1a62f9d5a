"""Broad searches on the PostgreSQL backend: totals counted up to a cap and flagged as a
lower bound beyond it, and pages found among the top candidates only when that gives
the same page as ranking every match (the window and the cap are shrunk here so a
handful of postings exercises both sides of them)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from aujobs_common.events import WorkType
from aujobs_search import pg_backend

from .search_support import hits, ids, pay, posting, publish, started_search


@pytest.fixture
async def search(fresh_database_url):
    async with started_search(fresh_database_url) as client:
        yield client


async def test_totals_beyond_the_cap_are_flagged_as_a_lower_bound(search, monkeypatch):
    await publish(
        search,
        *(posting(title=f"Welder {i}", company_name=f"Co {i}", days_ago=i) for i in range(5)),
        posting(title="Chef", company_name="Kitchen"),
    )
    monkeypatch.setattr(pg_backend, "TOTAL_CAP", 3)

    broad = await hits(search, q="welder", facets="false")
    assert broad["total"] == 3 and broad["total_is_lower_bound"] is True
    assert len(broad["items"]) == 5  # the cap limits the counting, not the results
    browse = await hits(search, facets="false")
    assert browse["total"] == 3 and browse["total_is_lower_bound"] is True

    at_cap = await hits(search, q="welder", facets="false", posted_within_days=3)  # 0, 1, 2 days old
    assert at_cap["total"] == 3 and at_cap["total_is_lower_bound"] is False
    narrow = await hits(search, q="chef", facets="false")
    assert narrow["total"] == 1 and narrow["total_is_lower_bound"] is False

    # with facets the whole filtered set is scanned anyway: total and facets are exact
    faceted = await hits(search, q="welder")
    assert faceted["total"] == 5 and faceted["total_is_lower_bound"] is False
    assert faceted["facets"]["work_type"] == [{"value": "full_time", "count": 5}]


async def test_facets_stay_exact_on_a_small_filtered_set(search, monkeypatch):
    await publish(
        search,
        posting(title="Nurse A", company_name="A", work_type=WorkType.full_time, salary=pay(70_000, 90_000)),
        posting(title="Nurse B", company_name="B", work_type=WorkType.part_time, salary=pay(50_000, 55_000)),
        posting(title="Nurse C", company_name="C", work_type=WorkType.casual_vacation, salary=None),
        posting(title="Developer", company_name="D", classification="Information & Communication Technology"),
    )
    monkeypatch.setattr(pg_backend, "TOTAL_CAP", 2)
    monkeypatch.setattr(pg_backend, "CANDIDATES", 2)
    result = await hits(search, q="nurse", work_type="part_time")
    assert result["total"] == 1 and result["total_is_lower_bound"] is False
    assert result["facets"]["work_type"] == [
        {"value": "casual_vacation", "count": 1},
        {"value": "full_time", "count": 1},
        {"value": "part_time", "count": 1},
    ]
    bands = {b["value"]: b["count"] for b in result["facets"]["salary_band"]}
    assert bands["under-60k"] == 1 and sum(bands.values()) == 1


async def _mixed(search):
    """One company flooding the newest postings, others older, some salaries, and two
    featured postings old enough to sit outside a small window of newest postings but
    boosted above the newest by relevance."""
    now = datetime.now(UTC)
    acme = uuid.uuid4()
    flood = [
        posting(title=f"Labourer {i}", company_id=acme, company_name="Acme", days_ago=i / 50, salary=None)
        for i in range(9)
    ]
    others = [
        posting(
            title=f"Labourer {c}",
            company_name=f"{c} Co",
            days_ago=1 + i,
            salary=pay(50_000 + 10_000 * i, 70_000 + 10_000 * i),
        )
        for i, c in enumerate("BCDEFG")
    ]
    featured = [
        posting(
            title=f"Labourer featured {i}",
            company_name=f"Featured {i}",
            days_ago=3 + i,
            featured_from=now - timedelta(days=1),
            featured_until=now + timedelta(days=5),
        )
        for i in range(2)
    ]
    await publish(search, *flood, *others, *featured)
    return [str(j.job_id) for j in featured]


async def _all_pages(search, **params):
    pages, cursor = [], None
    while True:
        result = await hits(search, **params, **({"cursor": cursor} if cursor else {}))
        pages.append(ids(result))
        cursor = result["next_cursor"]
        if cursor is None:
            return pages


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "date"},
        {"sort": "salary"},
        {"q": "labourer"},
        {"q": "labourer", "sort": "date"},
        {"work_type": "full_time", "sort": "date"},
    ],
    ids=["browse", "browse-date", "browse-salary", "keyword", "keyword-date", "filtered-date"],
)
@pytest.mark.parametrize("window", [1, 4, 10])
async def test_pages_from_a_candidate_window_equal_ranking_every_match(search, monkeypatch, params, window):
    await _mixed(search)
    everything = await _all_pages(search, limit=3, facets="false", **params)
    monkeypatch.setattr(pg_backend, "CANDIDATES", window)
    windowed = await _all_pages(search, limit=3, facets="false", **params)
    assert windowed == everything
    flat = [i for page in everything for i in page]
    assert len(flat) == len(set(flat)) == 17


async def test_featured_postings_outside_the_newest_still_lead_the_browse_page(search, monkeypatch):
    featured = await _mixed(search)
    monkeypatch.setattr(pg_backend, "CANDIDATES", 4)  # the four newest are all Acme's
    first = await hits(search, limit=5)
    assert ids(first)[:2] == featured
    assert [h["featured"] for h in first["items"]][:2] == [True, True]
    assert first["total"] == 17
