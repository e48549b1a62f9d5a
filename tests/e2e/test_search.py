"""Job search end to end on the distributed topology (real processes, RabbitMQ, Redis and
PostgreSQL), everything through the gateway as a frontend does it.

Postings go the real way into the index: created and published with the jobs API, the
event relayed by the outbox, consumed by the search service. Every test uses words that
occur nowhere else (``helpers.word()``), so the tests never see each other's postings;
anything asynchronous (indexing, the query log's flush) is polled for.

The search service caches results in Redis in this topology, so the tests that change a
posting also check that no stale answer is served afterwards. The insights test comes
first: the admins' "popular" list holds only the 20 most searched texts, and the module's
other tests search many texts while they poll."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import string
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import pytest_asyncio

from aujobs_common.testing.waiting import eventually

pytestmark = pytest.mark.timeout(180)

ICT = "Information & Communication Technology"
HEALTH = "Healthcare & Medical"
PARRAMATTA = {"suburb": "Parramatta", "state": "NSW", "postcode": "2150"}
WESTMEAD = {"suburb": "Westmead", "state": "NSW", "postcode": "2145"}  # ~2 km from Parramatta
PENRITH = {"suburb": "Penrith", "state": "NSW", "postcode": "2750"}  # ~29 km
NEWCASTLE = {"suburb": "Newcastle", "state": "NSW", "postcode": "2300"}  # ~120 km
#: How long a change may take to show in search (outbox poll 0.5 s, consumer, cache bump); generous
#: because other test runs may share the machine.
SETTLE_S = 15.0


@pytest.fixture(scope="module")
def topology_env() -> dict[str, str]:
    """The query log written every second instead of every five, to keep the insights
    test short (the flush itself is what it waits for)."""
    return {"QUERY_LOG_FLUSH_INTERVAL_S": "1"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def seeker(frontend: Any) -> Any:
    return await frontend.signup("job_seeker")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def rival(frontend: Any) -> tuple[Any, dict[str, Any]]:
    """A second employer with a verified company of its own (another name, another id)."""
    owner = await frontend.signup("employer")
    company = await frontend.create_company(owner, name=f"Rival Co {frontend.word()}")
    return owner, await frontend.verify_company(owner, company["id"])


# -- helpers -----------------------------------------------------------------------------------


async def post(frontend: Any, owner: Any, title: str, **fields: Any) -> dict[str, Any]:
    """A live posting: created as a draft, then published (a verified company, clean text)."""
    job = await frontend.create_job(owner, title, **fields)
    return await frontend.publish(owner, job["id"])


async def post_all(
    frontend: Any, owner: Any, specs: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Postings published concurrently, in the order of ``specs``."""
    return list(await asyncio.gather(*(post(frontend, owner, title, **fields) for title, fields in specs)))


def ids(results: dict[str, Any]) -> list[str]:
    return [hit["job_id"] for hit in results["items"]]


def summary(results: dict[str, Any] | None) -> Any:
    if results is None:
        return None
    return {"total": results["total"], "titles": [h["title"] for h in results["items"]]}


async def settled(
    frontend: Any,
    check: Callable[[dict[str, Any]], bool],
    *,
    timeout: float = SETTLE_S,
    **params: Any,
) -> dict[str, Any]:
    """Searches with ``params`` until ``check`` holds for the results; returns them."""
    last: dict[str, Any] = {}

    async def probe() -> bool:
        last["results"] = await frontend.search(**params)
        return check(last["results"])

    try:
        await eventually(probe, timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last results of {params}: {summary(last.get('results'))}") from None
    return last["results"]


async def exactly(frontend: Any, jobs: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
    """Waits until the search finds exactly ``jobs`` (all of them indexed, nothing else)."""
    wanted = {job["id"] for job in jobs}
    return await settled(
        frontend, lambda r: r["total"] == len(wanted) and set(ids(r)) == wanted, limit=50, **params
    )


def distinct_word(prefix: str = "zq") -> str:
    """A unique word of ten different letters (none of x, z, q): its trigrams are all
    different, so how similar a misspelling is to it does not depend on chance."""
    letters = [c for c in string.ascii_lowercase if c not in "xzq"]
    return prefix + "".join(secrets.SystemRandom().sample(letters, 10))


def far_misspelling(word: str) -> str:
    """Three letters of ``distinct_word()`` replaced: three edits (close enough for "did
    you mean" on a 12-letter word), trigram word similarity 0.31 (below the 0.4 the typo
    fallback of the search needs, above the 0.25 "did you mean" looks from)."""
    letters = list(word)
    for i in (4, 8, 11):
        letters[i] = "x"
    return "".join(letters)


def one_typo(word: str) -> str:
    """One letter of ``word`` replaced (what a hurried typist does)."""
    i = len(word) // 2
    return word[:i] + ("x" if word[i] != "x" else "y") + word[i + 1 :]


# -- insights (first: see the module docstring) --------------------------------------------------


async def test_a_search_and_its_click_show_in_the_admins_insights(
    frontend, employer, seeker, gateway_http, helpers
):
    keyword = helpers.word()
    job = await post(frontend, employer, f"Payroll Officer {keyword}")
    await frontend.wait_searchable(keyword, job["id"], timeout=SETTLE_S)
    results = await frontend.search(keyword)
    assert ids(results) == [job["id"]] and results["query_id"], results
    uuid.UUID(results["query_id"])

    click = {"query_id": results["query_id"], "job_id": job["id"], "position": 1}
    r = await gateway_http.post("/api/v1/search/clicks", json=click)  # anonymous, a beacon
    assert r.status_code == 202 and r.content == b"", (r.status_code, r.text)
    helpers.assert_problem(
        await gateway_http.post("/api/v1/search/clicks", json={**click, "position": 0}), 422
    )

    admin = await frontend.admin()

    async def figures() -> dict[str, Any] | None:
        r = await gateway_http.get("/api/v1/search/insights", headers=admin.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        mine = [p for p in body["popular"] if p["query"] == keyword]
        return body if mine and mine[0]["clicks"] == 1 else None

    insights = await eventually(figures, timeout=30)
    entry = next(p for p in insights["popular"] if p["query"] == keyword)
    assert entry["searches"] >= 2 and 0 < entry["click_through_rate"] <= 1, entry
    assert insights["total_searches"] >= entry["searches"] and insights["clicked_pages"] >= 1, insights
    assert insights["days"] == 7 and insights["from"] < insights["to"], insights
    assert insights["latency"]["p50_ms"] is not None, insights

    helpers.assert_problem(await gateway_http.get("/api/v1/search/insights", headers=seeker.headers), 403)
    helpers.assert_problem(await gateway_http.get("/api/v1/search/insights"), 401)


# -- text matching -------------------------------------------------------------------------------


async def test_a_typo_and_a_synonym_find_the_posting(frontend, employer):
    keyword = frontend.word()
    nurse, electrician = await post_all(
        frontend,
        employer,
        [
            (
                f"Registered Nurse {keyword}",
                {"classification": HEALTH, "sub_classification": "Nursing - General Medical & Surgical"},
            ),
            (f"Electrician {keyword}", {"classification": "Trades & Services", "sub_classification": None}),
        ],
    )
    await exactly(frontend, [nurse, electrician], q=keyword)

    typo = await frontend.search(one_typo(keyword))
    assert set(ids(typo)) == {nurse["id"], electrician["id"]} and typo["total"] == 2, summary(typo)

    # "RN" is the abbreviation of "Registered Nurse": only the nurse's posting matches
    rn = await frontend.search(f"RN {keyword}")
    assert ids(rn) == [nurse["id"]] and rn["total"] == 1, summary(rn)


async def test_did_you_mean_a_misspelt_word_that_found_nothing(frontend, employer):
    keyword = distinct_word()
    job = await post(frontend, employer, f"Harbour Pilot {keyword}")
    found = await frontend.wait_searchable(keyword, job["id"], timeout=SETTLE_S)
    assert found["title"] == job["title"]

    misspelt = await frontend.search(far_misspelling(keyword))
    assert misspelt["total"] == 0 and misspelt["items"] == [], summary(misspelt)
    assert misspelt["did_you_mean"] == keyword, misspelt
    # following the suggestion finds the posting; a search that found something has none
    corrected = await frontend.search(misspelt["did_you_mean"])
    assert ids(corrected) == [job["id"]] and corrected["did_you_mean"] is None, corrected


# -- location ------------------------------------------------------------------------------------


async def test_radius_search_distance_order_and_a_whole_state(frontend, employer):
    keyword = frontend.word()
    places = {"Parramatta": PARRAMATTA, "Westmead": WESTMEAD, "Penrith": PENRITH, "Newcastle": NEWCASTLE}
    posted = await post_all(
        frontend, employer, [(f"Warehouse Lead {keyword}", {"location": loc}) for loc in places.values()]
    )
    job = dict(zip(places, posted, strict=True))
    await exactly(frontend, posted, q=keyword)

    near = await frontend.search(keyword, location="Parramatta", radius_km=10)
    assert {h["suburb"] for h in near["items"]} == {"Parramatta", "Westmead"}, summary(near)
    assert near["total"] == 2

    by_distance = await frontend.search(keyword, location="Parramatta", radius_km=10, sort="distance")
    assert ids(by_distance) == [job["Parramatta"]["id"], job["Westmead"]["id"]], summary(by_distance)
    distances = [h["distance_km"] for h in by_distance["items"]]
    assert distances[0] < 1 < distances[1] < 10, distances

    wider = await frontend.search(keyword, location="Parramatta", radius_km=50, sort="distance")
    assert [h["suburb"] for h in wider["items"]] == ["Parramatta", "Westmead", "Penrith"], summary(wider)
    distances = [h["distance_km"] for h in wider["items"]]
    assert distances == sorted(distances) and 20 < distances[-1] < 50, distances

    # no radius: the default 25 km (Penrith, ~29 km away, is outside)
    default = await frontend.search(keyword, location="2150")
    assert {h["suburb"] for h in default["items"]} == {"Parramatta", "Westmead"}, summary(default)

    state = await frontend.search(keyword, location="NSW")
    assert set(ids(state)) == {j["id"] for j in posted} and state["total"] == 4, summary(state)
    assert (await frontend.search(keyword, location="VIC"))["total"] == 0


# -- salary, facets and filters -------------------------------------------------------------------


async def test_salary_filter_compares_annualised_pay(frontend, employer):
    keyword = frontend.word()
    hourly, annual = await post_all(
        frontend,
        employer,
        [
            # $50 an hour = $98,800 a year (38 h x 52 weeks)
            (
                f"Support Analyst {keyword}",
                {"salary": {"minimum_cents": 5_000, "maximum_cents": 5_000, "period": "hourly"}},
            ),
            (
                f"Support Manager {keyword}",
                {"salary": {"minimum_cents": 14_000_000, "maximum_cents": 16_000_000, "period": "annual"}},
            ),
        ],
    )
    everything = await exactly(frontend, [hourly, annual], q=keyword)
    salary = next(h for h in everything["items"] if h["job_id"] == hourly["id"])["salary"]
    assert salary["period"] == "hourly" and salary["minimum_cents"] == 5_000, salary
    assert salary["annual_minimum_cents"] == salary["annual_maximum_cents"] == 9_880_000, salary

    async def found(**params: Any) -> set[str]:
        return set(ids(await frontend.search(keyword, **params)))

    assert await found(salary_min=90_000) == {hourly["id"], annual["id"]}
    assert await found(salary_min=98_800) == {hourly["id"], annual["id"]}
    assert await found(salary_min=98_801) == {annual["id"]}
    assert await found(salary_min=120_000) == {annual["id"]}
    assert await found(salary_max=100_000) == {hourly["id"]}
    assert await found(salary_min=90_000, salary_max=100_000) == {hourly["id"]}


async def test_facets_count_the_matching_postings(frontend, employer):
    keyword = frontend.word()
    nursing = {"classification": HEALTH, "sub_classification": "Nursing - Aged Care"}
    posted = await post_all(
        frontend,
        employer,
        [
            (f"Systems Engineer {keyword}", {"work_type": "full_time"}),
            (f"Aged Care Nurse {keyword}", {"work_type": "full_time", **nursing}),
            (f"Web Developer {keyword}", {"work_type": "part_time"}),
        ],
    )
    results = await exactly(frontend, posted, q=keyword)

    def counts(results: dict[str, Any], facet: str) -> dict[str, int]:
        return {v["value"]: v["count"] for v in results["facets"][facet]}

    assert counts(results, "work_type") == {"full_time": 2, "part_time": 1}, results["facets"]
    assert counts(results, "classification") == {ICT: 2, HEALTH: 1}, results["facets"]
    assert counts(results, "state") == {"NSW": 3}, results["facets"]

    # a facet ignores its own filter (so the UI can offer the alternatives), not the others'
    part_time = await frontend.search(keyword, work_type="part_time")
    assert part_time["total"] == 1 and ids(part_time) == [posted[2]["id"]], summary(part_time)
    assert counts(part_time, "work_type") == {"full_time": 2, "part_time": 1}, part_time["facets"]
    assert counts(part_time, "classification") == {ICT: 1}, part_time["facets"]

    health = await frontend.search(keyword, classification=HEALTH)
    assert ids(health) == [posted[1]["id"]], summary(health)
    assert counts(health, "work_type") == {"full_time": 1}, health["facets"]

    assert (await frontend.search(keyword, facets="false"))["facets"] is None


async def test_filters_work_arrangement_skills_and_posting_age(frontend, employer, databases):
    keyword = frontend.word()
    cloud = {"work_arrangement": "remote", "skills": ["Python", "Kubernetes"]}
    remote, on_site, old = await post_all(
        frontend,
        employer,
        [
            (f"Platform Engineer {keyword}", cloud),
            (f"Backend Engineer {keyword}", {"work_arrangement": "on_site", "skills": ["Python"]}),
            (f"Data Engineer {keyword}", {"work_arrangement": "hybrid", "skills": ["SQL"]}),
        ],
    )
    await exactly(frontend, [remote, on_site, old], q=keyword)

    async def found(**params: Any) -> set[str]:
        return set(ids(await frontend.search(keyword, **params)))

    assert await found(work_arrangement="remote") == {remote["id"]}
    assert await found(work_arrangement=["remote", "hybrid"]) == {remote["id"], old["id"]}
    assert await found(skills="python") == {remote["id"], on_site["id"]}
    # all of the skills, by any of their names ("k8s" is Kubernetes)
    assert await found(skills=["Python", "k8s"]) == {remote["id"]}
    assert await found(skills=["Rust"]) == set()
    assert await found(posted_within_days=1) == {remote["id"], on_site["id"], old["id"]}

    # The topology's clock cannot be moved: the posting is made ten days old in the jobs
    # database (its source of truth), then an edit sends its snapshot to the index.
    rows = await databases.fetch(
        "jobs",
        "UPDATE job_postings SET published_at = now() - interval '10 days' WHERE id = $1 RETURNING id",
        uuid.UUID(old["id"]),
    )
    assert len(rows) == 1
    r = await frontend.http.patch(
        f"/api/v1/jobs/{old['id']}", json={"skills": ["SQL", "dbt"]}, headers=employer.headers
    )
    assert r.status_code == 200 and r.json()["status"] == "active", r.text

    await settled(
        frontend, lambda r: set(ids(r)) == {remote["id"], on_site["id"]}, q=keyword, posted_within_days=7
    )
    assert await found(posted_within_days=30) == {remote["id"], on_site["id"], old["id"]}
    newest_first = await frontend.search(keyword, sort="date")
    assert ids(newest_first)[-1] == old["id"], summary(newest_first)


# -- ranking and paging --------------------------------------------------------------------------


async def test_one_company_fills_at_most_three_places_of_a_page(frontend, employer, rival):
    keyword = frontend.word()
    rival_owner, rival_company = rival
    big = await post_all(frontend, employer, [(f"Barista {keyword} {n}", {}) for n in range(5)])
    small = await post_all(
        frontend, rival_owner, [(f"Barista {keyword}", {"company_id": rival_company["id"]}) for _ in range(2)]
    )
    everyone = {j["id"] for j in big + small}
    await exactly(frontend, big + small, q=keyword)
    company_of = {j["id"]: j["company_id"] for j in big + small}

    for sort in ("relevance", "date"):
        pages: list[list[str]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 5, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            page = await frontend.search(keyword, **params)
            assert page["total"] == 7, summary(page)
            pages.append(ids(page))
            cursor = page["next_cursor"]
            if cursor is None:
                break
            assert len(pages) < 5, pages
        first = Counter(company_of[i] for i in pages[0])
        assert len(pages[0]) == 5 and first[big[0]["company_id"]] <= 3, (sort, first)
        assert first[rival_company["id"]] == 2, (sort, first)
        seen = [i for page in pages for i in page]
        assert len(seen) == len(set(seen)) == 7 and set(seen) == everyone, (sort, pages)


# -- changes reach the results (and the cache) ------------------------------------------------------


async def test_editing_and_closing_change_the_results_at_once(frontend, employer):
    before, after = frontend.word("ed"), frontend.word("ne")
    job = await post(frontend, employer, f"Site Manager {before}")
    await frontend.wait_searchable(before, job["id"], timeout=SETTLE_S)

    # both answers are now cached in Redis
    assert ids(await frontend.search(before)) == [job["id"]]
    assert (await frontend.search(after))["total"] == 0
    r = await frontend.http.patch(
        f"/api/v1/jobs/{job['id']}", json={"title": f"Site Manager {after}"}, headers=employer.headers
    )
    assert r.status_code == 200 and r.json()["title"] == f"Site Manager {after}", r.text

    # far sooner than the cache's 60 s lifetime: the change invalidated it
    renamed = await settled(frontend, lambda r: ids(r) == [job["id"]], timeout=SETTLE_S, q=after)
    assert renamed["items"][0]["title"] == f"Site Manager {after}"
    await settled(frontend, lambda r: r["total"] == 0, timeout=SETTLE_S, q=before)

    r = await frontend.http.post(f"/api/v1/jobs/{job['id']}/close", headers=employer.headers)
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    await settled(frontend, lambda r: r["total"] == 0 and r["items"] == [], timeout=SETTLE_S, q=after)
    # nor in the suggestions (titles come from active postings only)
    r = await frontend.http.get("/api/v1/search/suggest", params={"q": after})
    assert r.status_code == 200 and all(s["kind"] != "title" for s in r.json()), r.json()


# -- suggestions -----------------------------------------------------------------------------------


async def test_suggestions_for_places_and_titles(frontend, employer, gateway_http, helpers):
    async def suggestions(q: str) -> list[dict[str, str]]:
        r = await gateway_http.get("/api/v1/search/suggest", params={"q": q})
        assert r.status_code == 200, r.text
        return r.json()

    assert {"kind": "location", "text": "Melbourne VIC 3000"} in await suggestions("melb")
    assert {"kind": "location", "text": "Parramatta NSW 2150"} in await suggestions("parram")

    keyword = helpers.word()
    title = f"{keyword.capitalize()} Cellar Door Supervisor"
    job = await post(frontend, employer, title)
    await frontend.wait_searchable(keyword, job["id"], timeout=SETTLE_S)
    offered = await suggestions(keyword[:8])
    assert {"kind": "title", "text": title} in offered, offered
    # a later word of a title is a start too
    later = await suggestions(f"{keyword} cell")
    assert {"kind": "title", "text": title} in later, later

    helpers.assert_problem(await gateway_http.get("/api/v1/search/suggest", params={"q": "  "}), 422)
    helpers.assert_problem(await gateway_http.get("/api/v1/search/suggest"), 422)


# -- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status", "type_", "field"),
    [
        ({"location": "Atlantis"}, 400, "unknown-location", "location"),
        ({"location": "Springfield"}, 400, "ambiguous-location", "location"),
        ({"radius_km": 10}, 422, "radius-without-location", "radius_km"),
        ({"location": "Parramatta", "radius_km": 501}, 422, "radius-too-large", "radius_km"),
        ({"salary_min": -1}, 422, "invalid-salary", "salary_min"),
        ({"salary_min": 100_000, "salary_max": 90_000}, 422, "invalid-salary", "salary_max"),
        ({"cursor": "not a cursor!"}, 400, "invalid-cursor", "cursor"),
        ({"cursor": "WzEsMiwzXQ"}, 400, "invalid-cursor", "cursor"),  # base64 of [1,2,3]: not an object
        ({"sort": "distance"}, 422, "distance-needs-location", "sort"),
        ({"sort": "distance", "location": "NSW"}, 422, "distance-needs-location", "sort"),
        ({"state": "XYZ"}, 400, "unknown-state", "state"),
        ({"state": "VIC", "location": "Parramatta"}, 422, "conflicting-location", "state"),
        ({"classification": "Astrology"}, 400, "unknown-classification", "classification"),
        ({"sort": "cheapest"}, 422, "validation-error", "sort"),
    ],
)
async def test_a_bad_search_is_a_problem(frontend, helpers, params, status, type_, field):
    r = await frontend.http.get("/api/v1/search/jobs", params={"q": frontend.word(), **params})
    body = helpers.assert_problem(r, status)
    assert body["type"].endswith("/" + type_), body
    assert body["instance"] == "/api/v1/search/jobs", body
    assert [e["field"] for e in body["errors"]] == [f"query.{field}"], body


@pytest.mark.parametrize(
    ("path", "params"),
    [
        # a NUL character (%00) in any text PostgreSQL is given, or another control character
        ("/api/v1/search/jobs", {"q": "nurse\x00"}),
        ("/api/v1/search/jobs", {"q": "nurse\x1b[31m"}),
        ("/api/v1/search/jobs", {"company": "Eucalypt\x00"}),
        ("/api/v1/search/jobs", {"benefits": "gym\x00"}),
        ("/api/v1/search/suggest", {"q": "mel\x00"}),
        # dollars x 100 beyond PostgreSQL's bigint
        ("/api/v1/search/jobs", {"salary_min": 10**17}),
        # a salary-sort cursor whose key is beyond bigint
        ("/api/v1/search/jobs", {"sort": "salary", "cursor": "CURSOR"}),
        # a relevance cursor whose offset is a boolean
        ("/api/v1/search/jobs", {"cursor": "BOOL_OFFSET"}),
    ],
)
async def test_input_postgresql_cannot_hold_is_a_client_error(frontend, path, params):
    forged = {
        "CURSOR": {"v": 1, "s": "salary", "m": "text", "b": 0, "k": 10**22, "id": str(uuid.UUID(int=0))},
        "BOOL_OFFSET": {"v": 1, "s": "relevance", "m": "text", "o": True},
    }.get(params.get("cursor", ""))
    if forged is not None:
        encoded = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
        params = {**params, "cursor": encoded}
    r = await frontend.http.get(path, params=params)
    assert r.status_code in (400, 422), (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_cursor_of_another_sort_order_is_refused(frontend, employer, helpers):
    keyword = frontend.word()
    posted = await post_all(frontend, employer, [(f"Courier {keyword}", {}) for _ in range(2)])
    await exactly(frontend, posted, q=keyword)
    by_date = await frontend.search(keyword, sort="date", limit=1)
    assert by_date["next_cursor"], by_date
    r = await frontend.http.get(
        "/api/v1/search/jobs", params={"q": keyword, "sort": "salary", "cursor": by_date["next_cursor"]}
    )
    body = helpers.assert_problem(r, 400)
    assert body["type"].endswith("/invalid-cursor"), body
    assert body["errors"][0]["field"] == "query.cursor", body
    # the same cursor with its own sort order still works
    second = await frontend.search(keyword, sort="date", limit=1, cursor=by_date["next_cursor"])
    assert ids(second) and set(ids(second) + ids(by_date)) == {j["id"] for j in posted}
