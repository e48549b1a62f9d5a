"""Jobs service API on a real PostgreSQL database, with tokens signed by a test key."""

from __future__ import annotations

import uuid

import pytest

from aujobs_common.testing.waiting import eventually

JOB = {
    "title": "Senior Python Developer",
    "description": "Build the backend of Australia's best job board with FastAPI and PostgreSQL.",
    "location": {"suburb": "Parramatta", "state": "NSW", "postcode": "2150"},
    "salary": {"minimum_cents": 15_000_000, "maximum_cents": 18_000_000, "period": "annual"},
    "work_type": "full_time",
    "classification": "Information & Communication Technology",
    "sub_classification": "Developers/Programmers",
    "company_name": "Eucalypt Software",
}


@pytest.fixture
async def jobs(start_jobs):
    tokens, service = start_jobs(["au.jobs.job.*.v1"])
    async with service as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        yield client


def employer(client, user_id=None, *, email_verified=True):
    return client.tokens.headers(user_id or uuid.uuid4(), roles=["employer"], email_verified=email_verified)


async def test_create_publish_read_and_event_with_full_posting(jobs):
    owner = uuid.uuid4()
    r = await jobs.post("/api/v1/jobs", json=JOB, headers=employer(jobs, owner))
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["status"] == "draft" and job["owner_id"] == str(owner)
    assert job["location"]["postcode"] == "2150" and job["location"]["latitude"] < -33
    # Drafts are private: anonymous and other employers get 404.
    assert (await jobs.get(f"/api/v1/jobs/{job['id']}")).status_code == 404
    assert (await jobs.get(f"/api/v1/jobs/{job['id']}", headers=employer(jobs))).status_code == 404
    assert (await jobs.get(f"/api/v1/jobs/{job['id']}", headers=employer(jobs, owner))).status_code == 200

    r = await jobs.post(f"/api/v1/jobs/{job['id']}/publish", headers=employer(jobs, owner))
    assert r.status_code == 200 and r.json()["status"] == "active" and r.json()["version"] == 2
    public = await jobs.get(f"/api/v1/jobs/{job['id']}")
    assert public.status_code == 200 and public.json()["published_at"]

    published = await eventually(lambda: [e for e in jobs.events if e.type == "au.jobs.job.published.v1"])
    assert len(published) == 1
    data = published[0].data
    assert data["job_id"] == job["id"] and data["version"] == 2 and data["title"] == JOB["title"]
    assert data["salary"]["minimum_cents"] == 15_000_000 and data["location"]["suburb"] == "Parramatta"


async def test_only_the_owner_may_change_a_job(jobs):
    owner = uuid.uuid4()
    job = (await jobs.post("/api/v1/jobs", json=JOB, headers=employer(jobs, owner))).json()
    # Someone else's draft: not even its existence is revealed.
    r = await jobs.post(f"/api/v1/jobs/{job['id']}/publish", headers=employer(jobs))
    assert r.status_code == 404
    await jobs.post(f"/api/v1/jobs/{job['id']}/publish", headers=employer(jobs, owner))
    for method, path, body in (
        ("PATCH", f"/api/v1/jobs/{job['id']}", {"title": "Hijacked title"}),
        ("POST", f"/api/v1/jobs/{job['id']}/close", None),
    ):
        r = await jobs.request(method, path, json=body, headers=employer(jobs))
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    after = (await jobs.get(f"/api/v1/jobs/{job['id']}")).json()
    assert after["title"] == JOB["title"] and after["status"] == "active"


async def test_unverified_employer_cannot_publish(jobs):
    owner = uuid.uuid4()
    job = (await jobs.post("/api/v1/jobs", json=JOB, headers=employer(jobs, owner))).json()
    r = await jobs.post(
        f"/api/v1/jobs/{job['id']}/publish", headers=employer(jobs, owner, email_verified=False)
    )
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("email-not-verified")
    draft = await jobs.get(f"/api/v1/jobs/{job['id']}", headers=employer(jobs, owner))
    assert draft.json()["status"] == "draft"
    verified = await jobs.post(f"/api/v1/jobs/{job['id']}/publish", headers=employer(jobs, owner))
    assert verified.status_code == 200
    published = await eventually(lambda: [e for e in jobs.events if e.type == "au.jobs.job.published.v1"])
    assert len(published) == 1


async def test_job_seekers_cannot_post_jobs(jobs):
    r = await jobs.post("/api/v1/jobs", json=JOB, headers=jobs.tokens.headers(roles=["job_seeker"]))
    assert r.status_code == 403
    assert (await jobs.post("/api/v1/jobs", json=JOB)).status_code == 401
    assert (await jobs.get("/api/v1/jobs")).json()["items"] == []


@pytest.mark.parametrize(
    "change, field",
    [
        ({"title": ""}, "title"),
        ({"work_type": "sometimes"}, "work_type"),
        ({"classification": "Astrology"}, "classification"),
        ({"salary": {"minimum_cents": 100, "maximum_cents": 50}}, "salary"),
        ({"location": {"suburb": "Parramatta", "state": "XX"}}, "location.state"),
    ],
)
async def test_invalid_job_is_rejected_and_nothing_is_created(jobs, change, field):
    owner = uuid.uuid4()
    r = await jobs.post("/api/v1/jobs", json={**JOB, **change}, headers=employer(jobs, owner))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["status"] == 422 and any(e["field"].startswith(field) for e in problem["errors"])
    mine = await jobs.get("/api/v1/jobs?mine=true", headers=employer(jobs, owner))
    assert mine.json()["items"] == []


async def test_unknown_location_is_a_clear_error(jobs):
    r = await jobs.post(
        "/api/v1/jobs",
        json={**JOB, "location": {"suburb": "Atlantis", "state": "VIC"}},
        headers=employer(jobs),
    )
    assert r.status_code == 422 and "Atlantis" in r.json()["detail"]


async def test_publish_twice_is_a_conflict_and_closed_jobs_stay_closed(jobs):
    owner = uuid.uuid4()
    job = (await jobs.post("/api/v1/jobs", json=JOB, headers=employer(jobs, owner))).json()
    assert (
        await jobs.post(f"/api/v1/jobs/{job['id']}/publish", headers=employer(jobs, owner))
    ).status_code == 200
    again = await jobs.post(f"/api/v1/jobs/{job['id']}/publish", headers=employer(jobs, owner))
    assert again.status_code == 409
    assert (
        await jobs.post(f"/api/v1/jobs/{job['id']}/close", headers=employer(jobs, owner))
    ).status_code == 200
    edit = await jobs.patch(
        f"/api/v1/jobs/{job['id']}", json={"title": "Reopened?"}, headers=employer(jobs, owner)
    )
    assert edit.status_code == 409
    await eventually(lambda: len([e for e in jobs.events if e.data["job_id"] == job["id"]]) >= 2)
    types = [e.type for e in jobs.events if e.data["job_id"] == job["id"]]
    assert types == ["au.jobs.job.published.v1", "au.jobs.job.closed.v1"]


async def test_update_of_active_job_publishes_update_with_new_version(jobs):
    owner = uuid.uuid4()
    job = (await jobs.post("/api/v1/jobs", json=JOB, headers=employer(jobs, owner))).json()
    await jobs.post(f"/api/v1/jobs/{job['id']}/publish", headers=employer(jobs, owner))
    r = await jobs.patch(
        f"/api/v1/jobs/{job['id']}", json={"title": "Lead Python Developer"}, headers=employer(jobs, owner)
    )
    assert r.status_code == 200 and r.json()["version"] == 3
    updated = await eventually(lambda: [e for e in jobs.events if e.type == "au.jobs.job.updated.v1"])
    assert updated[-1].data["title"] == "Lead Python Developer" and updated[-1].data["version"] == 3


async def test_idempotency_key_creates_one_job(jobs):
    owner = uuid.uuid4()
    headers = {**employer(jobs, owner), "Idempotency-Key": "create-job-1"}
    first = await jobs.post("/api/v1/jobs", json=JOB, headers=headers)
    second = await jobs.post("/api/v1/jobs", json=JOB, headers=headers)
    assert first.status_code == second.status_code == 201 and first.json()["id"] == second.json()["id"]
    different = await jobs.post("/api/v1/jobs", json={**JOB, "title": "Other role"}, headers=headers)
    assert different.status_code == 422
    mine = (await jobs.get("/api/v1/jobs?mine=true", headers=employer(jobs, owner))).json()
    assert len(mine["items"]) == 1


async def test_listing_pages_with_a_stable_cursor(jobs):
    owner = uuid.uuid4()
    ids = []
    for i in range(5):
        job = (
            await jobs.post(
                "/api/v1/jobs", json={**JOB, "title": f"Role number {i}"}, headers=employer(jobs, owner)
            )
        ).json()
        await jobs.post(f"/api/v1/jobs/{job['id']}/publish", headers=employer(jobs, owner))
        ids.append(job["id"])
    seen, cursor = [], None
    while True:
        r = await jobs.get("/api/v1/jobs", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        page = r.json()
        seen += [j["id"] for j in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    bad = await jobs.get("/api/v1/jobs", params={"cursor": "!!not-a-cursor"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    assert (await jobs.get("/api/v1/jobs", params={"limit": 1000})).status_code == 422
