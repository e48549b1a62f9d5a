"""Per-posting analytics on a real PostgreSQL database: views, apply starts and
applications counted per Australia/Sydney day, application events from the bus
(counted once per event id), hires and time to fill, and who may read the figures."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from aujobs_common.events import ApplicationStatus, ApplicationStatusChanged, ApplicationSubmitted
from aujobs_common.ids import uuid7
from aujobs_common.sydney import sydney_day
from aujobs_jobs import analytics
from aujobs_jobs.models import JobPosting

from .support import employer, is_problem

APPLICATIONS = "/services/applications"
PUBLISHED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def api(start_jobs):
    tokens, service = start_jobs()
    async with service as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        yield client


async def make_company(api, owner=None):
    owner = owner or uuid.uuid4()
    r = await api.post("/api/v1/companies", json={"name": "Banksia Health"}, headers=employer(api, owner))
    assert r.status_code == 201, r.text
    return {"id": uuid.UUID(r.json()["id"]), "owner": owner}


async def make_job(api, company, *, status="active", published_at=PUBLISHED) -> uuid.UUID:
    job = JobPosting(
        id=uuid7(),
        owner_id=company["owner"],
        company_id=company["id"],
        company_name="Banksia Health",
        title="Clinical data analyst",
        description="<p>Help us.</p>",
        description_text="Help us.",
        suburb="Hobart",
        state="TAS",
        postcode="7000",
        work_type="full_time",
        classification="Healthcare & Medical",
        status=status,
        published_at=published_at if status in ("active", "closed", "expired") else None,
    )
    async with api.app.state.runtime.db.transaction() as session:
        session.add(job)
    return job.id


async def view(api, job_id, now):
    async with api.app.state.runtime.db.transaction() as session:
        await analytics.record_view(session=session, job_id=job_id, now=now)


async def stats(api, company, job_id, start=None, end=None, headers=None):
    params = {k: v for k, v in (("from", start), ("to", end)) if v is not None}
    r = await api.get(
        f"/api/v1/jobs/{job_id}/analytics",
        params=params,
        headers=headers if headers is not None else employer(api, company["owner"]),
    )
    assert r.status_code == 200, r.text
    return r.json()


def submitted(job_id, at, company_id=None):
    payload = ApplicationSubmitted(
        application_id=uuid.uuid4(),
        job_id=job_id,
        company_id=company_id,
        applicant_id=uuid.uuid4(),
        submitted_at=at,
    )
    return payload.to_event(source=APPLICATIONS, subject=str(payload.application_id))


def status_changed(job_id, at, status=ApplicationStatus.hired):
    payload = ApplicationStatusChanged(
        application_id=uuid.uuid4(),
        job_id=job_id,
        applicant_id=uuid.uuid4(),
        previous_status=ApplicationStatus.offer,
        status=status,
        changed_at=at,
    )
    return payload.to_event(source=APPLICATIONS, subject=str(payload.application_id))


async def deliver(api, *events):
    for event in events:
        await api.bus.publish(event)
    await api.bus.drain()
    assert await api.bus.dead_letters("jobs") == []


# ---------------------------------------------------------------- counting


def test_sydney_days_follow_daylight_saving():
    assert sydney_day(datetime(2026, 3, 10, 12, 59, tzinfo=UTC)) == date(2026, 3, 10)  # AEDT 23:59
    assert sydney_day(datetime(2026, 3, 10, 13, 0, tzinfo=UTC)) == date(2026, 3, 11)  # AEDT 00:00
    assert sydney_day(datetime(2026, 7, 10, 13, 59, tzinfo=UTC)) == date(2026, 7, 10)  # AEST 23:59
    assert sydney_day(datetime(2026, 7, 10, 14, 0, tzinfo=UTC)) == date(2026, 7, 11)  # AEST 00:00


async def test_counts_per_sydney_day_with_every_day_listed(api):
    company = await make_company(api)
    job = await make_job(api, company)
    await view(api, job, datetime(2026, 3, 10, 1, 0, tzinfo=UTC))  # 12:00 on the 10th in Sydney
    await view(api, job, datetime(2026, 3, 10, 12, 0, tzinfo=UTC))  # 23:00 on the 10th
    late = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)  # 10:30 on the 11th in Sydney
    await view(api, job, late)
    async with api.app.state.runtime.db.transaction() as session:
        await analytics.record_apply_start(session=session, job_id=job, now=late)
    await deliver(api, submitted(job, late, company["id"]))

    body = await stats(api, company, job, "2026-03-09", "2026-03-12")
    assert (
        body["from"] == "2026-03-09" and body["to"] == "2026-03-12" and body["timezone"] == "Australia/Sydney"
    )
    days = {d["day"]: d for d in body["days"]}
    assert list(days) == ["2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12"]
    zero = {"views": 0, "apply_starts": 0, "applications": 0, "apply_rate": None}
    assert days["2026-03-09"] == {"day": "2026-03-09", **zero}
    assert days["2026-03-10"] == {
        "day": "2026-03-10",
        "views": 2,
        "apply_starts": 0,
        "applications": 0,
        "apply_rate": 0.0,
    }
    assert days["2026-03-11"] == {
        "day": "2026-03-11",
        "views": 1,
        "apply_starts": 1,
        "applications": 1,
        "apply_rate": 1.0,
    }
    assert days["2026-03-12"] == {"day": "2026-03-12", **zero}
    assert body["totals"] == {"views": 3, "apply_starts": 1, "applications": 1, "apply_rate": 0.3333}
    assert body["first_hired_at"] is None and body["time_to_fill_days"] is None


async def test_default_range_is_the_last_30_days_and_apply_start_is_public(api):
    company = await make_company(api)
    job = await make_job(api, company)
    for _ in range(2):
        r = await api.post(f"/api/v1/jobs/{job}/apply-start")  # anonymous
        assert r.status_code == 204, r.text
    body = await stats(api, company, job)
    today = sydney_day(datetime.now(UTC))
    assert len(body["days"]) == 30 and body["to"] == today.isoformat()
    assert body["days"][-1]["apply_starts"] == 2 and body["totals"]["apply_starts"] == 2
    assert body["totals"]["apply_rate"] is None  # no views


async def test_apply_start_only_for_active_postings(api):
    company = await make_company(api)
    for status, code, type_ in (
        ("draft", 404, "job-not-found"),
        ("pending", 404, "job-not-found"),
        ("scheduled", 404, "job-not-found"),
        ("closed", 409, "job-not-active"),
        ("expired", 409, "job-not-active"),
    ):
        job = await make_job(api, company, status=status)
        is_problem(await api.post(f"/api/v1/jobs/{job}/apply-start"), code, type_)
        assert (await stats(api, company, job))["totals"]["apply_starts"] == 0
    is_problem(await api.post(f"/api/v1/jobs/{uuid.uuid4()}/apply-start"), 404, "job-not-found")


async def test_date_range_validation(api):
    company = await make_company(api)
    job = await make_job(api, company)
    url = f"/api/v1/jobs/{job}/analytics"
    owner = employer(api, company["owner"])
    backwards = await api.get(url, params={"from": "2026-03-10", "to": "2026-03-09"}, headers=owner)
    assert any(e["field"] == "query.from" for e in is_problem(backwards, 422, "validation-error")["errors"])
    too_long = await api.get(
        url, params={"from": "2025-01-01", "to": "2026-01-02"}, headers=owner
    )  # 367 days
    is_problem(too_long, 422, "validation-error")
    is_problem(await api.get(url, params={"from": "2026-02-30"}, headers=owner), 422)
    longest = await stats(api, company, job, "2025-01-02", "2026-01-02")  # 366 days
    assert len(longest["days"]) == 366
    single = await stats(api, company, job, "2026-03-10", "2026-03-10")
    assert [d["day"] for d in single["days"]] == ["2026-03-10"]


# ---------------------------------------------------------------- events


async def test_an_event_redelivered_counts_once(api):
    company = await make_company(api)
    job = await make_job(api, company)
    at = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    event = submitted(job, at)
    await deliver(api, event, event, event.model_copy())  # the same id three times
    assert (await stats(api, company, job, "2026-03-10", "2026-03-10"))["totals"]["applications"] == 1
    await deliver(api, submitted(job, at))  # another application
    assert (await stats(api, company, job, "2026-03-10", "2026-03-10"))["totals"]["applications"] == 2
    await deliver(api, submitted(uuid.uuid4(), at))  # a posting this service does not have: ignored


async def test_first_hire_gives_time_to_fill_and_company_figures(api):
    company = await make_company(api)
    first = await make_job(api, company)
    second = await make_job(api, company, published_at=PUBLISHED + timedelta(days=1))
    unfilled = await make_job(api, company)
    elsewhere = await make_job(api, await make_company(api))
    await deliver(
        api,
        status_changed(first, PUBLISHED + timedelta(days=4), status=ApplicationStatus.offer),  # not a hire
        status_changed(first, PUBLISHED + timedelta(days=10)),
        status_changed(first, PUBLISHED + timedelta(days=5)),  # arrives late but happened first: it wins
        status_changed(first, PUBLISHED + timedelta(days=20)),
        status_changed(second, PUBLISHED + timedelta(days=1, hours=12)),
        status_changed(elsewhere, PUBLISHED + timedelta(days=2)),
        submitted(first, PUBLISHED + timedelta(days=1)),
        submitted(first, PUBLISHED + timedelta(days=2)),
        submitted(unfilled, PUBLISHED + timedelta(days=3)),
        submitted(elsewhere, PUBLISHED + timedelta(days=3)),
    )
    body = await stats(api, company, first, "2026-03-01", "2026-03-31")
    assert body["time_to_fill_days"] == 5.0
    assert datetime.fromisoformat(body["first_hired_at"]) == PUBLISHED + timedelta(days=5)
    assert (await stats(api, company, unfilled, "2026-03-01", "2026-03-31"))["time_to_fill_days"] is None
    async with api.app.state.runtime.db.session() as session:
        figures = await analytics.company_hiring_figures(session=session, company_id=company["id"])
        nothing = await analytics.company_hiring_figures(session=session, company_id=uuid.uuid4())
    assert figures.applications_received == 3
    assert figures.jobs_filled == 2
    assert figures.average_time_to_fill_days == 2.75  # (5 + 0.5) / 2
    assert nothing.model_dump() == {
        "applications_received": 0,
        "jobs_filled": 0,
        "average_time_to_fill_days": None,
    }


# ---------------------------------------------------------------- who may


async def test_permission_matrix_for_analytics(api):
    company = await make_company(api)
    job = await make_job(api, company)
    draft = await make_job(api, company, status="draft")
    recruiter = uuid.uuid4()
    invite = await api.post(
        f"/api/v1/companies/{company['id']}/invitations",
        json={"email": "recruiter@example.com"},
        headers=employer(api, company["owner"]),
    )
    accepted = await api.post(
        f"/api/v1/companies/invitations/{invite.json()['token']}/accept", headers=employer(api, recruiter)
    )
    assert accepted.status_code == 200, accepted.text
    who = {
        "owner": (employer(api, company["owner"]), 200),
        "recruiter": (employer(api, recruiter), 200),
        "admin": (api.tokens.headers(uuid.uuid4(), roles=["admin"], email_verified=True), 200),
        "other employer": (employer(api), 403),
        "job seeker": (api.tokens.headers(uuid.uuid4(), roles=["job_seeker"], email_verified=True), 403),
        "anonymous": ({}, 401),
    }
    for name, (headers, status) in who.items():
        r = await api.get(f"/api/v1/jobs/{job}/analytics", headers=headers)
        assert r.status_code == status, (name, r.text)
        if status != 200:
            assert r.headers["content-type"].startswith("application/problem+json")
        hidden = await api.get(f"/api/v1/jobs/{draft}/analytics", headers=headers)
        assert hidden.status_code == {403: 404}.get(status, status), (name, hidden.text)
    is_problem(await api.get(f"/api/v1/jobs/{uuid.uuid4()}/analytics", headers=who["owner"][0]), 404)
