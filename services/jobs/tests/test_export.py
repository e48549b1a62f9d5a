"""The export the search index is rebuilt from: admin only, every posting but drafts as
the snapshot its events carry, every company as its company.updated payload, paged by id
with no gaps and no duplicates."""

from __future__ import annotations

import uuid

import pytest

from aujobs_common.events import CompanyUpdated, JobPostingSnapshot
from aujobs_common.testing.waiting import eventually

from .conftest import Clock
from .support import admin, employer, is_problem, seeker

EXPORT = "/api/v1/jobs/export"
COMPANIES = "/api/v1/jobs/export/companies"

JOB = {
    "title": "Warehouse Storeperson",
    "description": "<p>Pick, pack and dispatch orders in a busy <strong>distribution centre</strong>.</p>",
    "location": {"suburb": "Parramatta", "state": "NSW", "postcode": "2150"},
    "salary": {"minimum_cents": 3_000, "maximum_cents": 3_500, "period": "hourly"},
    "work_type": "full_time",
    "classification": "Manufacturing, Transport & Logistics",
    "skills": ["Forklift", "Inventory"],
}


@pytest.fixture
async def jobs(start_jobs):
    tokens, service = start_jobs(["au.jobs.job.*.v1", "au.jobs.company.updated.v1"], clock=Clock())
    async with service as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        yield client


async def verified_company(jobs, owner: dict, name: str) -> str:
    r = await jobs.post("/api/v1/companies", json={"name": name, "size": "11-50"}, headers=owner)
    assert r.status_code == 201, r.text
    company_id = r.json()["id"]
    await jobs.post(f"/api/v1/companies/{company_id}/verification-request", headers=owner)
    r = await jobs.post(
        f"/api/v1/companies/{company_id}/verification", json={"approve": True}, headers=admin(jobs)
    )
    assert r.status_code == 200, r.text
    return company_id


async def draft(jobs, owner: dict, company_id: str, **change) -> str:
    r = await jobs.post("/api/v1/jobs", json={**JOB, "company_id": company_id, **change}, headers=owner)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def live(jobs, owner: dict, company_id: str, **change) -> str:
    job_id = await draft(jobs, owner, company_id, **change)
    r = await jobs.post(f"/api/v1/jobs/{job_id}/publish", headers=owner)
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    return job_id


async def read_all(jobs, path: str, limit: int) -> list[list[dict]]:
    """Every page of an export, following next_cursor."""
    pages: list[list[dict]] = []
    cursor = None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        r = await jobs.get(path, params=params, headers=admin(jobs))
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def last_published(jobs, key: str, entity_id: str, prefix: str) -> dict:
    """The data of the newest event about the entity (what the index was fed last)."""
    matching = [e for e in jobs.events if e.type.startswith(prefix) and e.data.get(key) == entity_id]
    assert matching, entity_id
    return matching[-1].data


@pytest.mark.parametrize("path", [EXPORT, COMPANIES])
async def test_only_admins_may_export(jobs, path):
    owner = employer(jobs)
    company_id = await verified_company(jobs, owner, "Gated Pty Ltd")
    await live(jobs, owner, company_id)

    is_problem(await jobs.get(path), 401)
    for headers in (owner, seeker(jobs)):
        body = is_problem(await jobs.get(path, headers=headers), 403, "forbidden")
        assert "items" not in body
    r = await jobs.get(path, headers=admin(jobs))
    assert r.status_code == 200 and r.json()["items"], r.text


async def test_postings_page_by_id_without_gaps_or_duplicates_as_their_event_snapshots(jobs):
    owner = employer(jobs)
    first = await verified_company(jobs, owner, "Harbour Freight")
    second = await verified_company(jobs, owner, "Bush Logistics")
    active = [await live(jobs, owner, first, title=f"Storeperson {n}") for n in range(4)]
    active.append(await live(jobs, owner, second, title="Forklift Driver"))
    closed = await live(jobs, owner, second, title="Night Picker")
    r = await jobs.post(f"/api/v1/jobs/{closed}/close", headers=owner)
    assert r.status_code == 200, r.text
    unpublished = await draft(jobs, owner, first, title="Not Ready Yet")
    await eventually(lambda: any(e.type == "au.jobs.job.closed.v1" for e in jobs.events))

    pages = await read_all(jobs, EXPORT, limit=2)
    exported = [item for page in pages for item in page]
    exported_ids = [item["job_id"] for item in exported]

    assert [len(page) for page in pages] == [2, 2, 2]
    assert len(set(exported_ids)) == len(exported_ids)  # no posting twice
    assert set(exported_ids) == {*active, closed}  # every published posting; never the draft
    assert unpublished not in exported_ids
    assert exported_ids == sorted(exported_ids, key=uuid.UUID)  # by id, so paging is stable
    for item in exported:
        snapshot = JobPostingSnapshot.model_validate(item)
        fed = JobPostingSnapshot.model_validate(
            last_published(jobs, "job_id", item["job_id"], "au.jobs.job.")
        )
        assert snapshot == fed  # exactly what the index was fed by the last event
    assert {item["status"] for item in exported} == {"active", "closed"}


async def test_companies_page_by_id_as_their_company_updated_payloads(jobs):
    owner = employer(jobs)
    made = [await verified_company(jobs, owner, f"Company {n}") for n in range(3)]
    r = await jobs.patch(f"/api/v1/companies/{made[1]}", json={"size": "201-500"}, headers=owner)
    assert r.status_code == 200, r.text
    await eventually(
        lambda: any(
            e.type == CompanyUpdated.event_type
            and e.data["company_id"] == made[1]
            and e.data["size"] == "201-500"
            for e in jobs.events
        )
    )

    pages = await read_all(jobs, COMPANIES, limit=2)
    exported = [item for page in pages for item in page]

    assert [len(page) for page in pages] == [2, 1]
    assert [c["company_id"] for c in exported] == sorted(made, key=uuid.UUID)
    for item in exported:
        payload = CompanyUpdated.model_validate(item)
        fed = CompanyUpdated.model_validate(
            last_published(jobs, "company_id", item["company_id"], CompanyUpdated.event_type)
        )
        assert payload == fed
    assert next(c for c in exported if c["company_id"] == made[1])["size"] == "201-500"


async def test_an_empty_export_and_bad_paging_parameters(jobs):
    r = await jobs.get(EXPORT, headers=admin(jobs))
    assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}
    is_problem(await jobs.get(EXPORT, params={"cursor": "not-a-cursor"}, headers=admin(jobs)), 400)
    is_problem(await jobs.get(EXPORT, params={"limit": 1001}, headers=admin(jobs)), 422)
