"""The click-through beacon and the admins' search insights, over HTTP, on a real
PostgreSQL. The insights router is mounted on a bare service app (with the query log
wired the way the search app wires it)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import aujobs_search
from aujobs_common.app import create_service_app
from aujobs_common.ids import uuid7
from aujobs_common.migrations import upgrade_async
from aujobs_common.testing.apps import running
from aujobs_common.testing.tokens import TokenFactory
from aujobs_search import insights_api
from aujobs_search.query import SearchQuery
from aujobs_search.querylog import EXTRA_KEY, QueryLog, query_log_hooks
from aujobs_search.settings import SearchSettings

MIGRATIONS = Path(aujobs_search.__file__).parent / "migrations"
PROBLEM = "application/problem+json"


@pytest.fixture
async def service(fresh_database_url):
    await upgrade_async(MIGRATIONS, fresh_database_url)
    tokens = TokenFactory()
    start, stop = query_log_hooks(interval=3600, click_grace_seconds=60)
    app = create_service_app(
        settings=SearchSettings(database_url=fresh_database_url),
        title="search insights under test",
        description="",
        routers=[insights_api.router],
        key_source=tokens.key_source,
        on_startup=[start],
        on_shutdown=[stop],
    )
    async with running(app) as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        client.querylog = app.state.runtime.extras[EXTRA_KEY]  # type: ignore[attr-defined]
        yield client


def admin(service) -> dict[str, str]:
    return service.tokens.headers(roles=["admin"])


# ---------------------------------------------------------------- clicks


async def test_a_click_is_accepted_anonymously_and_recorded(service):
    querylog: QueryLog = service.querylog
    query_id = querylog.record(SearchQuery(q="nurse"), total=3, latency_ms=4)
    job_id = uuid.uuid4()
    r = await service.post(
        "/api/v1/search/clicks", json={"query_id": query_id, "job_id": str(job_id), "position": 1}
    )
    assert r.status_code == 202 and r.content == b""
    await querylog.flush()
    figures = (await service.get("/api/v1/search/insights", headers=admin(service))).json()
    assert figures["clicked_pages"] == 1 and figures["popular"][0]["clicks"] == 1


async def test_a_click_on_an_unknown_query_is_accepted_and_ignored(service):
    querylog: QueryLog = service.querylog
    body = {"query_id": str(uuid7()), "job_id": str(uuid.uuid4()), "position": 5}
    r = await service.post("/api/v1/search/clicks", json=body, headers=service.tokens.headers())
    assert r.status_code == 202
    await querylog.flush(now=datetime.now(UTC) + timedelta(seconds=61))
    assert querylog.pending == 0
    figures = (await service.get("/api/v1/search/insights", headers=admin(service))).json()
    assert figures["clicked_pages"] == 0 and figures["results_pages"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"position": 0}, "position"),
        ({"position": 1001}, "position"),
        ({"position": "first"}, "position"),
        ({"query_id": "not-a-uuid"}, "query_id"),
        ({"job_id": None}, "job_id"),
        ({"user_id": str(uuid.uuid4())}, "user_id"),  # nothing personal accepted
    ],
)
async def test_an_invalid_click_is_a_problem_and_records_nothing(service, change, field):
    querylog: QueryLog = service.querylog
    query_id = querylog.record(SearchQuery(q="nurse"), total=3, latency_ms=4)
    pending = querylog.pending
    body = {"query_id": query_id, "job_id": str(uuid.uuid4()), "position": 1} | change
    r = await service.post("/api/v1/search/clicks", json=body)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith(PROBLEM)
    assert any(e["field"] == field for e in r.json()["errors"])
    assert querylog.pending == pending


async def test_position_bounds_are_inclusive(service):
    querylog: QueryLog = service.querylog
    query_id = querylog.record(SearchQuery(q="nurse"), total=3, latency_ms=4)
    for position in (1, 1000):
        body = {"query_id": query_id, "job_id": str(uuid.uuid4()), "position": position}
        assert (await service.post("/api/v1/search/clicks", json=body)).status_code == 202
    await querylog.flush()
    figures = (await service.get("/api/v1/search/insights", headers=admin(service))).json()
    assert figures["popular"][0]["clicks"] == 2


# ---------------------------------------------------------------- insights


async def test_insights_are_for_admins_only(service):
    r = await service.get("/api/v1/search/insights")
    assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)
    for roles in (["job_seeker"], ["employer"]):
        r = await service.get("/api/v1/search/insights", headers=service.tokens.headers(roles=roles))
        assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    r = await service.get("/api/v1/search/insights", headers={"Authorization": "Bearer forged"})
    assert r.status_code == 401
    assert (await service.get("/api/v1/search/insights", headers=admin(service))).status_code == 200


@pytest.mark.parametrize("days", [0, 366, "week"])
async def test_days_out_of_range_is_a_problem(service, days):
    r = await service.get("/api/v1/search/insights", params={"days": days}, headers=admin(service))
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)


def percentile_cont(values: list[float], fraction: float) -> float:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def test_insights_figures_on_a_known_log(service):
    querylog: QueryLog = service.querylog
    now = datetime.now(UTC)
    latencies = iter([5.0, 7.0, 9.0, 11.0, 13.0, 20.0, 30.0, 45.0, 60.0, 80.0, 120.0, 400.0])
    recorded: list[float] = []

    def search(q: str | None, total: int, *, page: int = 1, hours_ago: float = 1) -> uuid.UUID:
        latency = next(latencies)
        recorded.append(latency)
        query = SearchQuery(q=q, cursor={"o": 20} if page > 1 else None)
        return uuid.UUID(querylog.record(query, total, latency, now=now - timedelta(hours=hours_ago)))

    async def click(query_id: uuid.UUID, position: int = 1) -> None:
        body = {"query_id": str(query_id), "job_id": str(uuid.uuid4()), "position": position}
        assert (await service.post("/api/v1/search/clicks", json=body)).status_code == 202

    nurse = [search("Registered Nurse", 12) for _ in range(4)]
    nurse_page_two = search("registered  nurse", 12, page=2)
    await click(nurse[0], 1)
    await click(nurse[0], 3)
    await click(nurse[1], 2)
    await click(nurse_page_two, 21)
    for _ in range(2):
        search("barista", 6)
    for _ in range(3):
        search("astronaut", 0)
    search("underwater welding", 0)
    filters_only = search(None, 5)
    await click(filters_only, 1)
    querylog.record(SearchQuery(q="last month"), 0, 999.0, now=now - timedelta(days=10))
    await querylog.flush()

    r = await service.get("/api/v1/search/insights", params={"days": 7}, headers=admin(service))
    assert r.status_code == 200, r.text
    figures = r.json()
    assert figures["days"] == 7 and "from" in figures and "to" in figures
    assert figures["total_searches"] == 11  # first pages only
    assert figures["results_pages"] == 12
    assert figures["clicked_pages"] == 4
    assert figures["click_through_rate"] == round(4 / 12, 4)
    assert figures["popular"] == [
        {"query": "registered nurse", "searches": 4, "click_through_rate": round(3 / 5, 4), "clicks": 4},
        {"query": "astronaut", "searches": 3, "click_through_rate": 0.0, "clicks": 0},
        {"query": "barista", "searches": 2, "click_through_rate": 0.0, "clicks": 0},
        {"query": "underwater welding", "searches": 1, "click_through_rate": 0.0, "clicks": 0},
    ]
    assert figures["zero_result"] == [
        {"query": "astronaut", "searches": 3},
        {"query": "underwater welding", "searches": 1},
    ]
    for name, fraction in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)):
        assert figures["latency"][name] == pytest.approx(percentile_cont(recorded, fraction), abs=0.01)

    wider = (await service.get("/api/v1/search/insights", params={"days": 30}, headers=admin(service))).json()
    assert wider["total_searches"] == 12
    assert {"query": "last month", "searches": 1} in wider["zero_result"]


async def test_insights_on_an_empty_log(service):
    figures = (await service.get("/api/v1/search/insights", headers=admin(service))).json()
    assert figures["total_searches"] == 0 and figures["click_through_rate"] is None
    assert figures["latency"] == {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    assert figures["popular"] == [] and figures["zero_result"] == []
