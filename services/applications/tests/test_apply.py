"""Applying for a job: the happy path, every refusal, idempotency and duplicates."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import timedelta

from aujobs_common.sydney import sydney_day
from aujobs_common.testing.waiting import eventually

from .support import (
    GOOD_ANSWERS,
    Company,
    apply,
    deliver,
    employer,
    is_problem,
    job_snapshot,
    open_job,
    seeker,
)


async def count_rows(api, table: str) -> int:
    import sqlalchemy as sa

    async with api.app.state.runtime.db.session() as session:
        return int(await session.scalar(sa.text(f"SELECT count(*) FROM {table}")))  # noqa: S608


async def test_apply_copies_the_resume_version_and_publishes_the_event(api):
    company = Company()
    job = await open_job(api, company)
    user = uuid.uuid4()
    version = api.resumes.add(user, skills=["Xero", "excel", "Driving"])

    r = await apply(api, job.job_id, user, version=version, cover_letter="Dear Acme,\nHire me.")
    body = r.json()
    assert body["status"] == "submitted" and body["job_title"] == "Bookkeeper"
    assert body["company_name"] == "Acme Pty Ltd"
    assert body["answers"] == {**GOOD_ANSWERS, "why": "Love the work."}
    assert body["resume"]["sha256"] == hashlib.sha256(version.content).hexdigest()
    assert [h["status"] for h in body["history"]] == ["submitted"]
    assert "match_score" not in body or body["match_score"] is None  # not shown to the applicant

    # The stored copy is the exact bytes, even after the resume is gone from the resumes service.
    del api.resumes.versions[version.version_id]
    download = await api.get(f"/api/v1/applications/{body['id']}/resume", headers=seeker(api, user))
    assert download.status_code == 200
    assert download.content == version.content
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment;")

    # The company sees the match score: 2 of the job's 4 skills (Xero, Excel) → 50.
    seen = await api.get(f"/api/v1/applications/{body['id']}", headers=employer(api, company.recruiter))
    assert seen.status_code == 200 and seen.json()["match_score"] == 50
    assert seen.json()["applicant_id"] == str(user)

    events = await eventually(lambda: [e for e in api.events if e.type.endswith("submitted.v1")])
    assert len(events) == 1
    data = events[0].data
    assert data["application_id"] == body["id"] and data["job_id"] == str(job.job_id)
    assert data["applicant_id"] == str(user) and data["company_id"] == str(company.id)
    assert data["job_title"] == "Bookkeeper" and data["company_name"] == "Acme Pty Ltd"
    assert data["resume_id"] == str(version.resume_id)
    assert data["resume_version_id"] == str(version.version_id)


async def test_only_verified_job_seekers_may_apply(api):
    job = await open_job(api)
    user = uuid.uuid4()
    r = await apply(api, job.job_id, user, headers=seeker(api, user, email_verified=False), expect=None)
    is_problem(r, 403, "email-not-verified")
    r = await apply(api, job.job_id, user, headers=employer(api, user), expect=None)
    is_problem(r, 403, "job-seeker-role-required")
    r = await api.post("/api/v1/applications", json={})
    is_problem(r, 401)
    assert await count_rows(api, "applications") == 0
    assert api.resumes.calls == []


async def test_unknown_and_closed_jobs_refuse(api):
    company = Company()
    is_problem(await apply(api, uuid.uuid4(), expect=None), 404, "job-not-found")
    for status in ("closed", "expired", "draft", "pending", "scheduled"):
        job = await open_job(api, company, status=status)
        is_problem(await apply(api, job.job_id, expect=None), 409, "job-not-open")
    assert await count_rows(api, "applications") == 0


async def test_expired_closing_date_and_external_jobs_refuse(api):
    company = Company()
    past = await open_job(api, company, expires_at=api.clock.now - timedelta(minutes=1))
    is_problem(await apply(api, past.job_id, expect=None), 409, "job-not-open")

    yesterday = sydney_day(api.clock.now) - timedelta(days=1)
    closed = await open_job(api, company, closing_date=yesterday)
    body = is_problem(await apply(api, closed.job_id, expect=None), 409, "job-not-open")
    assert yesterday.isoformat() in body["detail"]
    # The closing day itself (in Sydney) still takes applications.
    closing_today = await open_job(api, company, closing_date=sydney_day(api.clock.now))
    await apply(api, closing_today.job_id)

    external = await open_job(
        api, company, application_method={"kind": "external", "url": "https://careers.example/1"}
    )
    is_problem(await apply(api, external.job_id, expect=None), 409, "external-application")
    assert await count_rows(api, "applications") == 1


async def test_answers_are_checked_against_the_questions(api):
    job = await open_job(api)

    def fields(r):
        return {e["field"]: e["code"] for e in is_problem(r, 422, "validation-error")["errors"]}

    missing = await apply(api, job.job_id, answers={"licence": "car"}, expect=None)
    assert fields(missing) == {"answers.work_rights": "missing"}

    bad = await apply(
        api,
        job.job_id,
        answers={"work_rights": "yes", "licence": "bus", "tools": ["Excel", "SAP"], "ghost": 1},
        expect=None,
    )
    assert fields(bad) == {
        "answers.work_rights": "bool_type",
        "answers.licence": "invalid_option",
        "answers.tools": "invalid_option",
        "answers.ghost": "unknown_question",
    }
    too_long = await apply(api, job.job_id, answers={**GOOD_ANSWERS, "why": "x" * 2001}, expect=None)
    assert fields(too_long) == {"answers.why": "string_too_long"}
    long_letter = await apply(api, job.job_id, cover_letter="x" * 10_001, expect=None)
    is_problem(long_letter, 422, "validation-error")
    assert await count_rows(api, "applications") == 0
    # Optional questions may be left out.
    await apply(api, job.job_id, answers={"work_rights": False, "licence": "none"})


async def test_one_application_per_job_per_person(api):
    job = await open_job(api)
    user = uuid.uuid4()
    first = (await apply(api, job.job_id, user)).json()
    again = await apply(api, job.job_id, user, expect=None)
    body = is_problem(again, 409, "already-applied")
    assert body["application_id"] == first["id"]

    # Withdrawn still counts as applied (the default).
    r = await api.post(f"/api/v1/applications/{first['id']}/withdraw", headers=seeker(api, user))
    assert r.status_code == 200, r.text
    body = is_problem(await apply(api, job.job_id, user, expect=None), 409, "already-applied")
    assert body["application_id"] == first["id"]
    assert await count_rows(api, "applications") == 1


async def test_reapply_after_withdraw_when_allowed(start_applications):
    tokens, clock, resumes, context = start_applications(allow_reapply_after_withdraw=True)
    async with context as api:
        api.tokens, api.clock, api.resumes = tokens, clock, resumes
        job = await open_job(api)
        user = uuid.uuid4()
        first = (await apply(api, job.job_id, user)).json()
        is_problem(await apply(api, job.job_id, user, expect=None), 409, "already-applied")
        await api.post(f"/api/v1/applications/{first['id']}/withdraw", headers=seeker(api, user))
        second = (await apply(api, job.job_id, user)).json()
        assert second["id"] != first["id"]
        is_problem(await apply(api, job.job_id, user, expect=None), 409, "already-applied")


async def test_a_resume_that_is_not_yours_is_refused(api):
    job = await open_job(api)
    someone_else = api.resumes.add(uuid.uuid4())
    r = await apply(api, job.job_id, version=someone_else, expect=None)
    is_problem(r, 422, "resume-not-found")
    assert await count_rows(api, "applications") == 0


async def test_an_admin_who_also_seeks_work_cannot_apply_with_someone_elses_resume(api):
    """The resumes service lets admins read any resume; applying checks the owner."""
    job = await open_job(api)
    someone_else = api.resumes.add(uuid.uuid4())
    admin_seeker = uuid.uuid4()
    headers = api.tokens.headers(admin_seeker, roles=["admin", "job_seeker"], email_verified=True)
    r = await apply(api, job.job_id, admin_seeker, version=someone_else, headers=headers, expect=None)
    is_problem(r, 422, "resume-not-found")
    assert await count_rows(api, "applications") == 0 and await count_rows(api, "blobs") == 0


async def test_resumes_service_down_is_a_retryable_503(api):
    job = await open_job(api)
    api.resumes.down = True
    r = await apply(api, job.job_id, expect=None)
    is_problem(r, 503, "resumes-unavailable")
    assert r.headers["retry-after"]
    assert await count_rows(api, "applications") == 0


async def test_idempotency_key_returns_the_first_result(api):
    job = await open_job(api)
    user = uuid.uuid4()
    version = api.resumes.add(user)
    headers = {**seeker(api, user), "Idempotency-Key": "apply-1"}
    first = await apply(api, job.job_id, user, version=version, headers=headers)
    calls = len(api.resumes.calls)
    second = await apply(api, job.job_id, user, version=version, headers=headers)
    assert second.json()["id"] == first.json()["id"]
    assert second.headers.get("idempotent-replayed") == "true"
    assert len(api.resumes.calls) == calls  # nothing fetched again
    assert await count_rows(api, "applications") == 1
    # Even once the job has closed, the retry replays the first answer.
    await deliver(api, job_snapshot(None, job_id=job.job_id, version=2, status="closed"))
    third = await apply(api, job.job_id, user, version=version, headers=headers)
    assert third.status_code == 201 and third.json()["id"] == first.json()["id"]


async def test_concurrent_duplicates_make_exactly_one_application(api):
    job = await open_job(api)
    user = uuid.uuid4()
    version = api.resumes.add(user)
    responses = await asyncio.gather(
        *(apply(api, job.job_id, user, version=version, expect=None) for _ in range(5))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409], [r.text for r in responses]
    created = next(r for r in responses if r.status_code == 201).json()["id"]
    for r in responses:
        if r.status_code == 409:
            assert is_problem(r, 409, "already-applied")["application_id"] == created
    assert await count_rows(api, "applications") == 1
    assert await count_rows(api, "application_status_history") == 1


def metric(text: str, name: str) -> float:
    """The value of one sample (``name`` with its labels, exactly as exposed)."""
    for line in text.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample == name:
            return float(value)
    return 0.0


async def test_business_metrics(api):
    company = Company()
    job = await open_job(api, company)
    before = (await api.get("/metrics")).text
    app = (await apply(api, job.job_id)).json()
    await apply(api, job.job_id)
    r = await api.post(
        f"/api/v1/applications/{app['id']}/status",
        json={"status": "shortlisted"},
        headers=employer(api, company.owner),
    )
    assert r.status_code == 200
    after = (await api.get("/metrics")).text
    submitted = "aujobs_applications_submitted_total"
    shortlisted = 'aujobs_application_status_changes_total{status="shortlisted"}'
    assert metric(after, submitted) - metric(before, submitted) == 2
    assert metric(after, shortlisted) - metric(before, shortlisted) == 1
