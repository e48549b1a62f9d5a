"""The status workflow, who may see and change what, notes, bulk changes."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from aujobs_applications.models import StatusHistory
from aujobs_applications.workflow import OPEN, PIPELINE, TRANSITIONS, Actor
from aujobs_common.events import ApplicationStatus as S
from aujobs_common.testing.waiting import eventually

from .support import Company, admin, apply, employer, is_problem, open_job, seeker


async def history(api, application_id) -> list[tuple[str | None, str]]:
    async with api.app.state.runtime.db.session() as session:
        rows = await session.scalars(
            sa.select(StatusHistory)
            .where(StatusHistory.application_id == uuid.UUID(application_id))
            .order_by(StatusHistory.changed_at, StatusHistory.id)
        )
        return [(r.from_status, r.to_status) for r in rows]


async def move(api, company, application_id, status, **extra):
    return await api.post(
        f"/api/v1/applications/{application_id}/status",
        json={"status": status, **extra.pop("body", {})},
        headers={**employer(api, company.recruiter), **extra.pop("headers", {})},
    )


async def application_in(api, company, job, status: S):
    """An application brought to ``status`` by the allowed path."""
    user = uuid.uuid4()
    app = (await apply(api, job.job_id, user)).json()
    if status is S.withdrawn:
        r = await api.post(f"/api/v1/applications/{app['id']}/withdraw", headers=seeker(api, user))
        assert r.status_code == 200, r.text
    elif status is not S.submitted:
        r = await move(api, company, app["id"], status.value)
        assert r.status_code == 200, r.text
    return app["id"], user


def test_the_transition_table():
    # Forward skips allowed, never backwards; rejected/withdrawn from every open state; finals are final.
    assert TRANSITIONS[(S.submitted, S.shortlisted)] is Actor.employer
    assert TRANSITIONS[(S.reviewed, S.interview)] is Actor.employer
    assert (S.interview, S.reviewed) not in TRANSITIONS
    for state in OPEN:
        assert TRANSITIONS[(state, S.rejected)] is Actor.employer
        assert TRANSITIONS[(state, S.withdrawn)] is Actor.applicant
    for final in (S.hired, S.rejected, S.withdrawn):
        assert not any(source is final for source, _ in TRANSITIONS)


async def test_every_allowed_employer_transition(api):
    company = Company()
    job = await open_job(api, company)
    pairs = [(a, b) for (a, b), actor in TRANSITIONS.items() if actor is Actor.employer]
    for source, target in pairs:
        app_id, _ = await application_in(api, company, job, source)
        before = await history(api, app_id)
        r = await move(api, company, app_id, target.value, body={"message": f"to {target}"})
        assert r.status_code == 200, (source, target, r.text)
        body = r.json()
        assert body["status"] == target.value
        assert r.headers["etag"] == f'"{body["version"]}"'
        assert await history(api, app_id) == [*before, (source.value, target.value)]
        assert body["history"][-1]["message"] == f"to {target}"


async def test_invalid_transitions_are_409_and_change_nothing(api):
    company = Company()
    job = await open_job(api, company)
    cases = [
        (S.interview, S.reviewed),  # backwards
        (S.shortlisted, S.submitted),
        (S.hired, S.rejected),  # final
        (S.rejected, S.shortlisted),
        (S.withdrawn, S.reviewed),
        (S.reviewed, S.reviewed),  # no-op
        (S.submitted, S.withdrawn),  # the applicant's move, not the employer's
    ]
    for source, target in cases:
        app_id, _ = await application_in(api, company, job, source)
        before = await history(api, app_id)
        r = await move(api, company, app_id, target.value)
        is_problem(r, 409, "invalid-transition")
        assert await history(api, app_id) == before


async def test_status_change_event_and_review_times(api):
    company = Company()
    job = await open_job(api, company)
    app_id, user = await application_in(api, company, job, S.submitted)
    api.clock.advance(hours=5)
    r = await api.post(f"/api/v1/applications/{app_id}/review", headers=employer(api, company.owner))
    assert r.status_code == 200 and r.json()["status"] == "reviewed"
    reviewed_at = r.json()["first_reviewed_at"]
    # Reviewing again (or once past reviewed) changes nothing.
    api.clock.advance(hours=1)
    again = await api.post(f"/api/v1/applications/{app_id}/review", headers=employer(api, company.owner))
    assert again.status_code == 200 and again.json()["version"] == r.json()["version"]
    assert again.json()["first_reviewed_at"] == reviewed_at

    await move(api, company, app_id, "interview", body={"message": "See you Tuesday"})

    def changes():
        found = [e for e in api.events if e.type.endswith("status_changed.v1")]
        return found if len(found) >= 2 else []

    events = await eventually(changes)
    last = events[-1].data
    assert last["previous_status"] == "reviewed" and last["status"] == "interview"
    assert last["message"] == "See you Tuesday" and last["changed_by"] == str(company.recruiter)
    assert last["job_title"] == "Bookkeeper" and last["company_name"] == "Acme Pty Ltd"
    assert last["applicant_id"] == str(user)


async def test_if_match_guards_concurrent_changes(api):
    company = Company()
    job = await open_job(api, company)
    app_id, _ = await application_in(api, company, job, S.submitted)
    seen = await api.get(f"/api/v1/applications/{app_id}", headers=employer(api, company.owner))
    tag = seen.headers["etag"]
    first = await move(api, company, app_id, "shortlisted", headers={"If-Match": tag})
    assert first.status_code == 200
    before = await history(api, app_id)
    second = await move(api, company, app_id, "rejected", headers={"If-Match": tag})
    is_problem(second, 412, "precondition-failed")
    assert await history(api, app_id) == before
    by_body = await move(api, company, app_id, "rejected", body={"expected_version": 1})
    is_problem(by_body, 412, "precondition-failed")
    ok = await move(api, company, app_id, "rejected", headers={"If-Match": first.headers["etag"]})
    assert ok.status_code == 200 and ok.json()["status"] == "rejected"


async def test_withdraw(api):
    company = Company()
    job = await open_job(api, company)
    app_id, user = await application_in(api, company, job, S.interview)
    r = await api.post(
        f"/api/v1/applications/{app_id}/withdraw",
        json={"reason": "Took another offer"},
        headers=seeker(api, user),
    )
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert r.json()["history"][-1]["message"] == "Took another offer"
    again = await api.post(f"/api/v1/applications/{app_id}/withdraw", headers=seeker(api, user))
    is_problem(again, 409, "invalid-transition")
    # Someone else cannot withdraw it, nor can the employer.
    other_id, _ = await application_in(api, company, job, S.submitted)
    is_problem(await api.post(f"/api/v1/applications/{other_id}/withdraw", headers=seeker(api)), 404)
    r = await api.post(f"/api/v1/applications/{other_id}/withdraw", headers=employer(api, company.owner))
    is_problem(r, 404)


async def test_permission_matrix(api):
    x, y = Company(), Company()
    job = await open_job(api, x)
    await open_job(api, y)
    app_id, applicant = await application_in(api, x, job, S.submitted)
    path = f"/api/v1/applications/{app_id}"

    # Reading the application and its resume copy.
    for headers, expected in [
        (seeker(api, applicant), 200),
        (seeker(api), 404),  # another seeker
        (employer(api, x.owner), 200),
        (employer(api, x.recruiter), 200),
        (employer(api, y.owner), 404),  # another company
        (employer(api), 404),
        (admin(api), 200),
    ]:
        assert (await api.get(path, headers=headers)).status_code == expected, headers
        assert (await api.get(path + "/resume", headers=headers)).status_code == expected

    # The job's pipeline: members and admins; another company 404; a seeker 403 (role first).
    jobs_path = f"/api/v1/jobs/{job.job_id}/applications"
    assert (await api.get(jobs_path, headers=employer(api, x.recruiter))).status_code == 200
    assert (await api.get(jobs_path, headers=admin(api))).status_code == 200
    is_problem(await api.get(jobs_path, headers=employer(api, y.owner)), 404, "job-not-found")
    is_problem(await api.get(jobs_path, headers=seeker(api, applicant)), 403, "forbidden")
    is_problem(
        await api.get(f"/api/v1/jobs/{uuid.uuid4()}/applications", headers=employer(api, y.owner)),
        404,
        "job-not-found",
    )

    # Changing status: members only; admins read-only (403), others 404, seekers 403.
    is_problem(await move(api, y, app_id, "reviewed"), 404, "application-not-found")
    r = await api.post(f"{path}/status", json={"status": "reviewed"}, headers=admin(api))
    is_problem(r, 403, "forbidden")
    r = await api.post(f"{path}/status", json={"status": "reviewed"}, headers=seeker(api, applicant))
    is_problem(r, 403, "forbidden")
    is_problem(
        await api.post(
            f"/api/v1/applications/{uuid.uuid4()}/status",
            json={"status": "reviewed"},
            headers=employer(api, x.owner),
        ),
        404,
    )
    assert (await move(api, x, app_id, "reviewed")).status_code == 200

    # The applicant's own list never shows other people's applications.
    mine = await api.get("/api/v1/applications", headers=seeker(api, applicant))
    assert [a["id"] for a in mine.json()["items"]] == [app_id]
    assert (await api.get("/api/v1/applications", headers=seeker(api))).json()["items"] == []


async def test_a_removed_member_loses_access(api):
    from datetime import timedelta

    from .support import deliver, members

    company = Company()
    job = await open_job(api, company)
    app_id, _ = await application_in(api, company, job, S.submitted)
    path = f"/api/v1/applications/{app_id}"
    assert (await api.get(path, headers=employer(api, company.recruiter))).status_code == 200
    later = api.clock.now + timedelta(minutes=1)
    without_recruiter = members(company, changed_at=later)
    without_recruiter.members = without_recruiter.members[:1]
    await deliver(api, without_recruiter)
    assert (await api.get(path, headers=employer(api, company.recruiter))).status_code == 404
    # An older snapshot (delivered late) does not bring them back.
    await deliver(api, members(company, changed_at=later - timedelta(minutes=5)))
    assert (await api.get(path, headers=employer(api, company.recruiter))).status_code == 404
    assert (await api.get(path, headers=employer(api, company.owner))).status_code == 200


async def test_notes_are_private_to_the_company(api):
    x, y = Company(), Company()
    job = await open_job(api, x)
    app_id, applicant = await application_in(api, x, job, S.submitted)
    notes = f"/api/v1/applications/{app_id}/notes"
    r = await api.post(notes, json={"text": "Strong Xero skills"}, headers=employer(api, x.recruiter))
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["author_id"] == str(x.recruiter)
    r = await api.post(notes, json={"text": "x" * 5001}, headers=employer(api, x.owner))
    is_problem(r, 422)

    listed = await api.get(notes, headers=employer(api, x.owner))
    assert [n["text"] for n in listed.json()] == ["Strong Xero skills"]
    assert (await api.get(notes, headers=admin(api))).status_code == 200
    is_problem(await api.get(notes, headers=seeker(api, applicant)), 403)
    is_problem(await api.get(notes, headers=employer(api, y.owner)), 404)
    # Nothing of the note reaches the applicant's views.
    own = await api.get(f"/api/v1/applications/{app_id}", headers=seeker(api, applicant))
    assert "Strong Xero skills" not in own.text
    mine = await api.get("/api/v1/applications", headers=seeker(api, applicant))
    assert "Strong Xero skills" not in mine.text

    # Only the author deletes a note.
    is_problem(await api.delete(f"{notes}/{note['id']}", headers=employer(api, x.owner)), 403)
    assert (await api.delete(f"{notes}/{note['id']}", headers=employer(api, x.recruiter))).status_code == 204
    assert (await api.get(notes, headers=employer(api, x.owner))).json() == []


async def test_bulk_status_reports_each_item(api):
    company, other = Company(), Company()
    job = await open_job(api, company)
    other_job = await open_job(api, other)
    a, _ = await application_in(api, company, job, S.submitted)
    b, _ = await application_in(api, company, job, S.reviewed)
    hired, _ = await application_in(api, company, job, S.hired)
    foreign, _ = await application_in(api, other, other_job, S.submitted)
    missing = str(uuid.uuid4())
    before = len([e for e in api.events if e.type.endswith("status_changed.v1")])
    r = await api.post(
        f"/api/v1/jobs/{job.job_id}/applications/bulk-status",
        json={"application_ids": [a, b, hired, foreign, missing], "status": "shortlisted", "message": "Hi"},
        headers=employer(api, company.owner),
    )
    assert r.status_code == 200, r.text
    results = {item["application_id"]: item["result"] for item in r.json()["results"]}
    assert results == {
        a: "changed",
        b: "changed",
        hired: "invalid-transition",
        foreign: "not-found",
        missing: "not-found",
    }
    assert r.json()["changed"] == 2
    await eventually(
        lambda: len([e for e in api.events if e.type.endswith("status_changed.v1")]) == before + 2
    )
    assert await history(api, hired) == [(None, "submitted"), ("submitted", "hired")]
    too_many = await api.post(
        f"/api/v1/jobs/{job.job_id}/applications/bulk-status",
        json={"application_ids": [str(uuid.uuid4()) for _ in range(201)], "status": "rejected"},
        headers=employer(api, company.owner),
    )
    is_problem(too_many, 422)
    r = await api.post(
        f"/api/v1/jobs/{job.job_id}/applications/bulk-status",
        json={"application_ids": [a], "status": "rejected"},
        headers=employer(api, other.owner),
    )
    is_problem(r, 404, "job-not-found")


@pytest.mark.parametrize("stage", [s for s in PIPELINE if s is not S.submitted])
def test_pipeline_stages_are_reachable_from_submitted(stage):
    assert TRANSITIONS[(S.submitted, stage)] is Actor.employer


def member_seeker(api, user_id):
    """A company member who also looks for work (employer and job seeker roles)."""
    return api.tokens.headers(user_id, roles=["employer", "job_seeker"], email_verified=True)


async def test_a_member_is_only_the_applicant_of_their_own_application(api):
    x = Company()
    job = await open_job(api, x)
    other_id, _ = await application_in(api, x, job, S.submitted)
    me = member_seeker(api, x.recruiter)
    own = (await apply(api, job.job_id, x.recruiter, headers=me, skills=["Xero"])).json()
    own_id = own["id"]
    r = await api.post(
        f"/api/v1/applications/{own_id}/notes",
        json={"text": "Ask about Xero"},
        headers=employer(api, x.owner),
    )
    assert r.status_code == 201, r.text
    assert (await move(api, x, other_id, "reviewed")).status_code == 200  # a change by the member

    # The job's list leaves their own out, whatever the filters and sort; the rest of the
    # company (and admins) see it as any other application.
    jobs_path = f"/api/v1/jobs/{job.job_id}/applications"
    for params, expected in [
        ({}, [other_id]),
        ({"sort": "match_score"}, [other_id]),
        ({"sort": "status", "order": "asc"}, [other_id]),
        ({"min_match_score": 0}, []),  # the other application has no score
    ]:
        listed = await api.get(jobs_path, params=params, headers=me)
        assert listed.status_code == 200, listed.text
        assert own_id not in listed.text, params
        assert [a["id"] for a in listed.json()["items"]] == expected, params
    for headers in (employer(api, x.owner), admin(api)):
        listed = (await api.get(jobs_path, headers=headers)).json()["items"]
        assert {a["id"] for a in listed} == {own_id, other_id}
        assert next(a for a in listed if a["id"] == own_id)["match_score"] == 25

    # Reading it: the applicant's view (no score, no applicant id, no who-changed-what).
    seen = await api.get(f"/api/v1/applications/{own_id}", headers=me)
    assert seen.status_code == 200
    body = seen.json()
    assert body["match_score"] is None and body["applicant_id"] is None and body["first_reviewed_at"] is None
    assert all(h["changed_by"] is None for h in body["history"])
    assert (await api.get(f"/api/v1/applications/{own_id}/resume", headers=me)).status_code == 200

    # No employer action on it: 404 as for an application of another company, in bulk too.
    for path, payload in [
        (f"/api/v1/applications/{own_id}/status", {"status": "shortlisted"}),
        (f"/api/v1/applications/{own_id}/review", None),
        (f"/api/v1/applications/{own_id}/notes", {"text": "Great candidate"}),
    ]:
        is_problem(await api.post(path, json=payload, headers=me), 404, "application-not-found")
    is_problem(
        await api.get(f"/api/v1/applications/{own_id}/notes", headers=me), 404, "application-not-found"
    )
    note_id = r.json()["id"]
    is_problem(await api.delete(f"/api/v1/applications/{own_id}/notes/{note_id}", headers=me), 404)
    bulk = await api.post(
        f"{jobs_path}/bulk-status",
        json={"application_ids": [own_id, other_id], "status": "shortlisted"},
        headers=me,
    )
    assert bulk.status_code == 200, bulk.text
    assert {i["application_id"]: i["result"] for i in bulk.json()["results"]} == {
        own_id: "not-found",
        other_id: "changed",
    }
    assert bulk.json()["changed"] == 1
    assert await history(api, own_id) == [(None, "submitted")]
    assert "Ask about Xero" not in (await api.get(f"/api/v1/applications/{own_id}", headers=me)).text

    # Analytics are aggregates: their application counts as any other.
    figures = (await api.get(f"{jobs_path}/analytics", headers=me)).json()
    assert figures["total"] == 2 and figures["by_status"]["submitted"] == 1
    company = (await api.get(f"/api/v1/applications/analytics/companies/{x.id}", headers=me)).json()
    assert company["total"] == 2

    # As the applicant they still withdraw it.
    w = await api.post(f"/api/v1/applications/{own_id}/withdraw", headers=me)
    assert w.status_code == 200 and w.json()["status"] == "withdrawn"


async def test_bulk_and_single_changes_agree_on_another_companys_application(api):
    x, y = Company(), Company()
    job = await open_job(api, x)
    y_job = await open_job(api, y)
    foreign, _ = await application_in(api, y, y_job, S.submitted)
    is_problem(await move(api, x, foreign, "shortlisted"), 404, "application-not-found")
    r = await api.post(
        f"/api/v1/jobs/{job.job_id}/applications/bulk-status",
        json={"application_ids": [foreign], "status": "shortlisted"},
        headers=employer(api, x.recruiter),
    )
    assert r.status_code == 200 and r.json()["results"][0]["result"] == "not-found"
    assert r.json()["changed"] == 0
    assert await history(api, foreign) == [(None, "submitted")]
    # The job's own company naming an application of another of its jobs: not-found too.
    x_other_job = await open_job(api, x)
    elsewhere, _ = await application_in(api, x, x_other_job, S.submitted)
    r = await api.post(
        f"/api/v1/jobs/{job.job_id}/applications/bulk-status",
        json={"application_ids": [elsewhere], "status": "shortlisted"},
        headers=employer(api, x.recruiter),
    )
    assert r.json()["results"][0]["result"] == "not-found"


async def test_the_withdrawal_reason_stays_out_of_the_event(api):
    company = Company()
    job = await open_job(api, company)
    app_id, user = await application_in(api, company, job, S.shortlisted)
    r = await api.post(
        f"/api/v1/applications/{app_id}/withdraw",
        json={"reason": "My manager found out; please keep this private"},
        headers=seeker(api, user),
    )
    assert r.status_code == 200, r.text

    def withdrawal():
        return [
            e for e in api.events if e.type.endswith("status_changed.v1") and e.data["status"] == "withdrawn"
        ]

    (event,) = await eventually(withdrawal)
    assert event.data["application_id"] == app_id
    assert event.data.get("message") is None
    assert "manager" not in str(event.data)
    # The company still reads the reason in the history.
    seen = await api.get(f"/api/v1/applications/{app_id}", headers=employer(api, company.owner))
    assert seen.json()["history"][-1]["message"] == "My manager found out; please keep this private"
