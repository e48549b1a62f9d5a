"""The embedded platform end to end: every service behind the gateway in this process,
the in-memory bus, and its own PostgreSQL cluster under a temporary directory
(DESIGN.md §2), driven through the gateway's ASGI app as a frontend drives it; with the
demo data ``make run`` seeds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from aujobs_auth.seed import DEMO_PASSWORD, DEMO_USERS
from aujobs_common.testing.waiting import eventually
from aujobs_embedded.platform import Platform
from aujobs_gateway.settings import GatewaySettings
from aujobs_jobs.schemas import normalise_abn
from aujobs_jobs.seed import DEMO_COMPANIES

SEED_JOBS = 20
REAL_CV = (
    Path(__file__).resolve().parents[2] / "services/resumes/tests/data/rendercv/John_Doe_ClassicTheme_CV.pdf"
)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def embedded(
    tmp_path_factory: pytest.TempPathFactory, helpers: Any
) -> AsyncIterator[tuple[Platform, httpx.AsyncClient]]:
    # the module signs up more accounts than the per-IP limit on auth routes lets one
    # client do in a minute (that limit is the gateway tests' business)
    gateway = GatewaySettings(
        redis_url=None, auth_rate_limit_per_minute=1000, upload_rate_limit_per_minute=1000
    )
    async with helpers.embedded_platform(
        tmp_path_factory.mktemp("embedded"), seed_jobs=SEED_JOBS, gateway=gateway
    ) as running:
        yield running


@pytest.fixture(scope="module")
def frontend(embedded: tuple[Platform, httpx.AsyncClient], helpers: Any) -> Any:
    return helpers.embedded_frontend(*embedded)


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
    company_id = draft["company_id"]
    helpers.assert_problem(
        await http.post(
            "/api/v1/jobs",
            json=helpers.job_body("Seeker posting", company_id=company_id),
            headers=seeker.headers,
        ),
        403,
    )
    helpers.assert_problem(
        await http.post("/api/v1/jobs", json=helpers.job_body("Anonymous", company_id=company_id)), 401
    )
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
        "resumes",
        "applications",
    }
    # The companies area is routed to the jobs service and its reads are public.
    company = await http.get(f"/api/v1/companies/{company_id}")
    assert company.status_code == 200 and company.json()["verified"] is True
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


async def test_demo_companies_are_verified_and_own_the_seeded_jobs(embedded, frontend):
    _, http = embedded
    r = await http.get("/api/v1/companies", params={"limit": 100})
    assert r.status_code == 200, r.text
    demo = {c["name"]: c for c in r.json()["items"] if c["name"] in {d.name for d in DEMO_COMPANIES}}
    assert len(demo) == len(DEMO_COMPANIES) == 12
    for company in demo.values():
        assert company["verified"] is True and company["verification_status"] == "verified", company
        assert normalise_abn(company["abn"]) == company["abn"] and company["locations"], company
    ids = {c["id"] for c in demo.values()}

    email, _ = DEMO_USERS["employer"]
    r = await http.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    mine = (await http.get("/api/v1/jobs", params={"mine": "true", "limit": 50}, headers=headers)).json()
    assert len(mine["items"]) == SEED_JOBS
    for job in mine["items"]:
        # published straight away: verified company, nothing in the content held back
        assert job["company_id"] in ids and job["company_verified"] is True, job
        assert job["status"] == "active" and job["moderation_flags"] == [], job
        assert job["company_name"] in demo and job["structured_data"]["@type"] == "JobPosting"


async def test_the_demo_admin_signs_in_as_admin_and_moderates(embedded, frontend, helpers):
    """`make run`'s admin: reviews what an unverified company submits."""
    _, http = embedded
    email, roles = DEMO_USERS["admin"]
    assert roles == ["admin"]
    r = await http.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert r.status_code == 200 and r.json()["user"]["roles"] == ["admin"], r.text
    admin = {"Authorization": f"Bearer {r.json()['access_token']}"}

    employer = await frontend.signup("employer")
    company = await frontend.create_company(employer, name="Unverified Start-up")
    draft = await frontend.create_job(employer, f"Growth Hacker {helpers.word()}", company_id=company["id"])
    r = await http.post(f"/api/v1/jobs/{draft['id']}/publish", headers=employer.headers)
    assert r.status_code == 200 and r.json()["status"] == "pending", r.text
    queue = await http.get("/api/v1/jobs/moderation", params={"limit": 100}, headers=admin)
    assert queue.status_code == 200 and draft["id"] in [j["id"] for j in queue.json()["items"]]
    r = await http.post(f"/api/v1/jobs/{draft['id']}/moderation", json={"approve": True}, headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "active", r.text


async def test_a_seeker_applies_with_an_uploaded_resume_in_one_process(frontend):
    """Upload → background parse → apply (the applications service copies the resume
    version from the resumes service in process) → the employer sees it."""
    http = frontend.http
    employer = await frontend.signup("employer")
    seeker = await frontend.signup("job_seeker")
    job = await frontend.post_job(employer, "Data Scientist")
    cv = REAL_CV.read_bytes()
    r = await http.post(
        "/api/v1/resumes",
        files={"file": ("cv.pdf", cv, "application/pdf")},
        headers=seeker.headers,
    )
    assert r.status_code == 201, r.text
    resume = r.json()
    version_url = f"/api/v1/resumes/{resume['id']}/versions/{resume['versions'][0]['id']}"

    async def parsed() -> dict[str, Any] | None:
        body = (await http.get(version_url, headers=seeker.headers)).json()
        return body if body["parse_status"] == "parsed" else None

    version = await eventually(parsed, timeout=60)
    assert version["parsed"]["contact"]["email"] == "john.doe@email.com"

    body = {
        "job_id": job["id"],
        "resume_id": resume["id"],
        "resume_version_id": version["id"],
        "answers": {"work_rights": "I'm an Australian citizen"},
    }
    r = await http.post("/api/v1/applications", json=body, headers=seeker.headers)
    assert r.status_code == 201, r.text
    application = r.json()
    r = await http.get(f"/api/v1/jobs/{job['id']}/applications", headers=employer.headers)
    assert r.status_code == 200 and [a["id"] for a in r.json()["items"]] == [application["id"]]
    r = await http.get(f"/api/v1/applications/{application['id']}/resume", headers=employer.headers)
    assert r.status_code == 200 and r.content == cv


async def test_the_demo_seeker_has_a_resume_and_applications_in_the_demo_pipeline(embedded):
    """`make run` opens with a pipeline to look at: the demo seeker's built resume and
    three applications, moved along by the demo employer."""
    _, http = embedded

    async def login(key: str) -> dict[str, str]:
        email, _ = DEMO_USERS[key]
        r = await http.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    seeker, employer = await login("job_seeker"), await login("employer")
    resumes = (await http.get("/api/v1/resumes", headers=seeker)).json()["items"]
    assert [r["is_primary"] for r in resumes] == [True]
    mine = (await http.get("/api/v1/applications", headers=seeker)).json()["items"]
    assert sorted(a["status"] for a in mine) == ["interview", "reviewed", "submitted"]
    interview = next(a for a in mine if a["status"] == "interview")
    path = ["submitted", "reviewed", "shortlisted", "interview"]
    assert [h["status"] for h in interview["history"]] == path
    r = await http.get(f"/api/v1/jobs/{interview['job_id']}/applications", headers=employer)
    assert r.status_code == 200 and [a["id"] for a in r.json()["items"]] == [interview["id"]]
    assert r.json()["items"][0]["match_score"] is not None
