"""The employer's list of a job's applications, the applicant's list, and analytics."""

from __future__ import annotations

import uuid
from datetime import timedelta

from aujobs_common.pagination import encode_cursor

from .support import GOOD_ANSWERS, Company, admin, apply, employer, is_problem, open_job, seeker


async def pages(api, path, headers, **params) -> list[dict]:
    """Every item, following next_cursor with a small page size."""
    items: list[dict] = []
    cursor = None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await api.get(path, params=query, headers=headers)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


async def scenario(api):
    """Five applications a minute apart with known answers and scores."""
    company = Company()
    job = await open_job(api, company)
    made = []
    specs = [
        # skills (of Xero, MYOB, Excel, Payroll), work rights, licence, tools
        (["Xero", "MYOB", "Excel", "Payroll"], True, "car", ["Xero", "MYOB"]),
        (["Xero"], False, "truck", []),
        (None, True, "none", ["Excel"]),
        (["Xero", "Excel"], True, "car", ["Excel", "Xero"]),
        (["Excel"], True, "truck", ["MYOB"]),
    ]
    for skills, rights, licence, tools in specs:
        answers = {"work_rights": rights, "licence": licence, "tools": tools, "why": f"licence {licence}"}
        made.append((await apply(api, job.job_id, skills=skills, answers=answers)).json()["id"])
        api.clock.advance(minutes=1)
    return company, job, made


async def test_filters_and_sorts(api):
    company, job, ids = await scenario(api)
    path = f"/api/v1/jobs/{job.job_id}/applications"
    headers = employer(api, company.recruiter)
    # scores: 100, 25, None, 50, 25
    r = await api.post(
        f"/api/v1/applications/{ids[1]}/status", json={"status": "shortlisted"}, headers=headers
    )
    assert r.status_code == 200
    r = await api.post(f"/api/v1/applications/{ids[4]}/status", json={"status": "rejected"}, headers=headers)
    assert r.status_code == 200

    newest_first = await pages(api, path, headers)
    assert [a["id"] for a in newest_first] == ids[::-1]
    oldest_first = await pages(api, path, headers, order="asc")
    assert [a["id"] for a in oldest_first] == ids

    by_score = await pages(api, path, headers, sort="match_score", order="desc")
    assert [a["match_score"] for a in by_score] == [100, 50, 25, 25, None]
    # Ties keep a stable order (by id), across pages.
    assert [a["id"] for a in by_score[2:4]] == sorted([ids[1], ids[4]], reverse=True)
    by_status = await pages(api, path, headers, sort="status", order="asc")
    assert [a["status"] for a in by_status] == ["submitted"] * 3 + ["shortlisted", "rejected"]

    async def ids_for(**params):
        return {a["id"] for a in await pages(api, path, headers, **params)}

    assert await ids_for(status=["submitted", "rejected"]) == {ids[0], ids[2], ids[3], ids[4]}
    assert await ids_for(min_match_score=50) == {ids[0], ids[3]}
    start = api.clock.now - timedelta(minutes=5)
    assert await ids_for(submitted_after=(start + timedelta(minutes=1)).isoformat()) == set(ids[1:])
    assert await ids_for(submitted_before=(start + timedelta(minutes=2)).isoformat()) == set(ids[:2])
    assert await ids_for(**{"answer.work_rights": "no"}) == {ids[1]}
    assert await ids_for(**{"answer.work_rights": "yes"}) == {ids[0], ids[2], ids[3], ids[4]}
    assert await ids_for(**{"answer.licence": "truck"}) == {ids[1], ids[4]}
    assert await ids_for(**{"answer.tools": "Xero"}) == {ids[0], ids[3]}
    assert await ids_for(**{"answer.why": "CAR"}) == {ids[0], ids[3]}
    assert await ids_for(**{"answer.licence": "car", "answer.tools": "MYOB"}) == {ids[0]}

    bad = await api.get(path, params={"answer.ghost": "yes", "answer.licence": "bus"}, headers=headers)
    fields = {e["field"] for e in is_problem(bad, 422)["errors"]}
    assert fields == {"query.answer.ghost", "query.answer.licence"}
    is_problem(await api.get(path, params={"sort": "name"}, headers=headers), 422)
    # A cursor from another sort is refused rather than silently misread.
    first = await api.get(path, params={"limit": 2}, headers=headers)
    r = await api.get(
        path,
        params={"limit": 2, "sort": "match_score", "cursor": first.json()["next_cursor"]},
        headers=headers,
    )
    is_problem(r, 400, "invalid-cursor")


async def test_the_applicants_own_list(api):
    company = Company()
    jobs = [await open_job(api, company, title=f"Job {i}") for i in range(3)]
    user = uuid.uuid4()
    ids = []
    for job in jobs:
        ids.append((await apply(api, job.job_id, user)).json()["id"])
        api.clock.advance(minutes=1)
    await apply(api, jobs[0].job_id)  # someone else's
    r = await api.post(
        f"/api/v1/applications/{ids[1]}/status",
        json={"status": "reviewed"},
        headers=employer(api, company.owner),
    )
    assert r.status_code == 200
    headers = seeker(api, user)
    items = await pages(api, "/api/v1/applications", headers)
    assert [a["id"] for a in items] == ids[::-1]
    assert [a["job_title"] for a in items] == ["Job 2", "Job 1", "Job 0"]
    assert items[1]["company_name"] == "Acme Pty Ltd"
    assert [h["status"] for h in items[1]["history"]] == ["submitted", "reviewed"]
    assert all(h["changed_by"] is None for h in items[1]["history"])  # recruiters stay anonymous
    reviewed = await pages(api, "/api/v1/applications", headers, status="reviewed")
    assert [a["id"] for a in reviewed] == [ids[1]]
    full = await api.get(f"/api/v1/applications/{ids[0]}", headers=headers)
    assert full.json()["answers"] == {**GOOD_ANSWERS, "why": "Love the work."}


async def test_analytics_on_a_known_scenario(api):
    company = Company()
    job = await open_job(api, company)
    other_job = await open_job(api, company)
    headers = employer(api, company.owner)
    ids = [(await apply(api, job.job_id)).json()["id"] for _ in range(6)]
    await apply(api, other_job.job_id)

    async def move(i, status, after_hours):
        api.clock.advance(hours=after_hours)
        r = await api.post(f"/api/v1/applications/{ids[i]}/status", json={"status": status}, headers=headers)
        assert r.status_code == 200, r.text
        api.clock.advance(hours=-after_hours)

    # 0: reviewed after 2h → shortlisted → interview → offer → hired after 10 days
    await move(0, "reviewed", 2)
    await move(0, "shortlisted", 3)
    await move(0, "interview", 4)
    await move(0, "offer", 5)
    await move(0, "hired", 240)
    # 1: straight to interview after 4h (a skip), then rejected
    await move(1, "interview", 4)
    await move(1, "rejected", 5)
    # 2: rejected after 6h without review
    await move(2, "rejected", 6)
    # 3: reviewed after 8h, then withdrawn by the applicant
    await move(3, "reviewed", 8)
    # 4: withdrawn while submitted; 5: untouched
    r = await api.get(f"/api/v1/applications/{ids[3]}", headers=headers)
    for i in (3, 4):
        applicant = (await api.get(f"/api/v1/applications/{ids[i]}", headers=headers)).json()["applicant_id"]
        w = await api.post(
            f"/api/v1/applications/{ids[i]}/withdraw", headers=seeker(api, uuid.UUID(applicant))
        )
        assert w.status_code == 200
    assert r.status_code == 200

    body = (await api.get(f"/api/v1/jobs/{job.job_id}/applications/analytics", headers=headers)).json()
    assert body["total"] == 6
    assert body["by_status"] == {
        "submitted": 1,
        "reviewed": 0,
        "shortlisted": 0,
        "interview": 0,
        "offer": 0,
        "hired": 1,
        "rejected": 2,
        "withdrawn": 2,
    }
    assert body["funnel"] == {
        "submitted": 6,
        "reviewed": 3,  # 0, 1 (skipped through) and 3
        "shortlisted": 2,
        "interview": 2,
        "offer": 1,
        "hired": 1,
    }
    assert body["conversion"] == {
        "submitted_to_reviewed": 0.5,
        "reviewed_to_shortlisted": 0.6667,
        "shortlisted_to_interview": 1.0,
        "interview_to_offer": 0.5,
        "offer_to_hired": 1.0,
    }
    assert body["withdrawn"] == 2 and body["rejected"] == 2
    # first company action after 2, 4, 6 and 8 hours
    assert body["time_to_first_review_hours"] == {"count": 4, "median": 5.0, "average": 5.0}
    assert body["time_to_hire_days"] == {"count": 1, "median": 10.0, "average": 10.0}

    company_body = (
        await api.get(f"/api/v1/applications/analytics/companies/{company.id}", headers=headers)
    ).json()
    assert company_body["total"] == 7 and company_body["by_status"]["submitted"] == 2
    assert (
        await api.get(f"/api/v1/applications/analytics/companies/{company.id}", headers=admin(api))
    ).status_code == 200
    is_problem(
        await api.get(f"/api/v1/applications/analytics/companies/{company.id}", headers=employer(api)), 404
    )
    is_problem(await api.get(f"/api/v1/jobs/{job.job_id}/applications/analytics", headers=employer(api)), 404)


async def test_a_forged_cursor_is_400_whatever_its_values(api):
    company = Company()
    job = await open_job(api, company)
    await apply(api, job.job_id, skills=["Xero"])
    path = f"/api/v1/jobs/{job.job_id}/applications"
    headers = employer(api, company.owner)
    an_id = str(uuid.uuid4())
    forged = [
        ("match_score", "desc", {"k": 10**20}),
        ("match_score", "asc", {"k": -(10**20)}),
        ("match_score", "desc", {"k": 101}),
        ("match_score", "desc", {"k": -2}),
        ("match_score", "desc", {"k": "50"}),
        ("match_score", "desc", {"k": 50.5}),
        ("match_score", "desc", {"k": True}),
        ("match_score", "desc", {"k": None}),
        ("status", "asc", {"k": 10**20}),
        ("status", "asc", {"k": -1}),
        ("status", "asc", {"k": [1]}),
        ("submitted_at", "desc", {"k": "99999-01-01T00:00:00+00:00"}),
        ("submitted_at", "desc", {"k": "0001-01-01T00:00:00+14:00"}),
        ("submitted_at", "desc", {"k": "2026-01-01T00:00:00"}),  # no time zone
        ("submitted_at", "desc", {"k": 1767225600}),
        ("match_score", "desc", {"k": 50, "id": 12345}),
        ("match_score", "desc", {"k": 50, "id": None}),
    ]
    for sort, order, values in forged:
        cursor = encode_cursor({"s": sort, "d": order == "desc", "id": an_id, **values})
        r = await api.get(path, params={"sort": sort, "order": order, "cursor": cursor}, headers=headers)
        is_problem(r, 400, "invalid-cursor")
    # The applicant's own list takes the same checks.
    user = uuid.uuid4()
    await apply(api, job.job_id, user)
    cursor = encode_cursor({"s": "submitted_at", "d": True, "k": "99999-01-01T00:00:00+00:00", "id": an_id})
    r = await api.get("/api/v1/applications", params={"cursor": cursor}, headers=seeker(api, user))
    is_problem(r, 400, "invalid-cursor")
    # Values at the edges of what a real cursor holds still work.
    for sort, value in [("match_score", -1), ("match_score", 100), ("status", 0), ("status", 99)]:
        cursor = encode_cursor({"s": sort, "d": True, "k": value, "id": an_id})
        r = await api.get(path, params={"sort": sort, "cursor": cursor}, headers=headers)
        assert r.status_code == 200, (sort, value, r.text)
