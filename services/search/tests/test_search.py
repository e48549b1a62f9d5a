"""Search service: the index fed by job events over the bus, on a real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from aujobs_common.events import (
    JobClosed,
    JobLocation,
    JobPublished,
    JobStatus,
    JobUpdated,
    SalaryRange,
    WorkType,
)
from aujobs_common.testing.waiting import eventually

from .search_support import started_search


def posting(event=JobPublished, *, job_id=None, version=2, title="Registered Nurse", **changes):
    now = datetime.now(UTC)
    fields = dict(
        job_id=job_id or uuid.uuid4(),
        version=version,
        owner_id=uuid.uuid4(),
        company_name="Southern Cross Health",
        title=title,
        description="Provide patient-centred care on a busy surgical ward in a leading hospital.",
        location=JobLocation(
            suburb="Melbourne", state="VIC", postcode="3000", latitude=-37.81, longitude=144.96
        ),
        salary=SalaryRange(minimum_cents=8_000_000, maximum_cents=10_000_000),
        work_type=WorkType.full_time,
        classification="Healthcare & Medical",
        sub_classification=None,
        status=JobStatus.active,
        created_at=now - timedelta(hours=1),
        updated_at=now,
        published_at=now,
    )
    fields.update(changes)
    return event(**fields)


@pytest.fixture
async def search(fresh_database_url):
    async with started_search(fresh_database_url) as client:
        yield client


async def publish(client, payload):
    event = payload.to_event(source="/services/jobs", subject=str(payload.job_id))
    await client.bus.publish(event)
    return event


async def hits(client, **params):
    r = await client.get("/api/v1/search/jobs", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_published_job_is_found_by_keyword_with_snippet(search):
    job = posting(title="Registered Nurse - Surgical Ward")
    await publish(search, job)
    await eventually(lambda: _total_is(search, 1, q="nurse"))
    found = await hits(search, q="nurse")
    assert found["total"] == 1
    hit = found["items"][0]
    assert hit["job_id"] == str(job.job_id) and hit["salary"]["minimum_cents"] == 8_000_000
    assert "<mark>" in (hit["snippet"] or "") or hit["score"] > 0
    # Stemming: "nursing" matches "Nurse".
    assert (await hits(search, q="nursing"))["total"] == 1
    assert (await hits(search, q="plumber"))["total"] == 0


async def test_the_plain_text_is_indexed_not_the_html(search):
    job = posting(
        title="Barista",
        description="<p>Pour <strong>espresso</strong> for a busy cafe.</p>",
        description_text="Pour espresso for a busy cafe.",
    )
    await publish(search, job)
    await eventually(lambda: _total_is(search, 1, q="espresso"))
    assert (await hits(search, q="strong"))["total"] == 0
    snippet = (await hits(search, q="espresso"))["items"][0]["snippet"] or ""
    assert "<strong>" not in snippet and "<p>" not in snippet


async def test_older_event_never_overwrites_newer_and_redelivery_is_harmless(search):
    job_id = uuid.uuid4()
    await publish(search, posting(JobUpdated, job_id=job_id, version=3, title="Clinical Nurse Educator"))
    await eventually(lambda: _total_is(search, 1, q="educator"))
    stale = posting(JobPublished, job_id=job_id, version=2, title="Registered Nurse")
    event = await publish(search, stale)
    await search.bus.publish(event)  # the same event again (redelivery)
    await search.bus.drain(5)
    assert (await hits(search, q="educator"))["total"] == 1
    assert (await hits(search, q="registered"))["total"] == 0


async def test_closed_job_leaves_results(search):
    job_id = uuid.uuid4()
    await publish(search, posting(job_id=job_id, version=2, title="Paramedic"))
    await eventually(lambda: _total_is(search, 1, q="paramedic"))
    await publish(
        search, posting(JobClosed, job_id=job_id, version=3, title="Paramedic", status=JobStatus.closed)
    )
    await eventually(lambda: _total_is(search, 0, q="paramedic"))


async def _total_is(client, total, **params):
    return (await hits(client, **params))["total"] == total


async def test_filters_and_paging(search):
    for i in range(3):
        await publish(
            search,
            posting(title=f"Software Engineer {i}", classification="Information & Communication Technology"),
        )
    await publish(
        search,
        posting(
            title="Software Engineer in Perth",
            location=JobLocation(suburb="Perth", state="WA", postcode="6000"),
        ),
    )
    await eventually(lambda: _total_is(search, 4, q="software"))
    assert (await hits(search, q="software", state="WA"))["total"] == 1
    assert (await hits(search, classification="Information & Communication Technology"))["total"] == 3
    first = await hits(search, q="software", limit=3)
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = await hits(search, q="software", limit=3, cursor=first["next_cursor"])
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    ids = {h["job_id"] for h in first["items"]} | {h["job_id"] for h in second["items"]}
    assert len(ids) == 4


@pytest.mark.parametrize(
    "params",
    [
        {"state": "XYZ"},
        {"classification": "Astrology"},
        {"cursor": "%%%"},
        {"work_type": "sometimes"},
        {"limit": 0},
    ],
)
async def test_bad_parameters_are_problems(search, params):
    r = await search.get("/api/v1/search/jobs", params=params)
    assert r.status_code in (400, 422)
    assert r.headers["content-type"].startswith("application/problem+json")
