"""Job postings on a real PostgreSQL database: the fields and their normalisation, the
workflow (moderation, scheduling, expiry with the clock moved, renewal), templates,
featuring, JSON-LD and who may do what."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from aujobs_common.testing.waiting import eventually

from .conftest import Clock
from .support import is_problem

COMPANY = {
    "name": "Eucalypt Software",
    "industry": "Information & Communication Technology",
    "website": "https://eucalypt.example",
}

JOB = {
    "title": "Senior Python Developer",
    "description": "<p>Build the backend of <strong>Australia's best</strong> job board.</p>"
    "<ul><li>FastAPI</li><li>PostgreSQL</li></ul>",
    "location": {"suburb": "Parramatta", "state": "NSW", "postcode": "2150"},
    "work_arrangement": "hybrid",
    "salary": {"minimum_cents": 15_000_000, "maximum_cents": 18_000_000, "period": "annual"},
    "work_type": "full_time",
    "classification": "Information & Communication Technology",
    "sub_classification": "Developers/Programmers",
    "skills": ["Python", "postgres", "JS"],
    "benefits": ["Hybrid work", "Extra leave"],
}


class Actors:
    """Headers for every kind of caller around one company."""

    def __init__(self, client) -> None:
        self.client = client
        self.owner_id, self.recruiter_id = uuid.uuid4(), uuid.uuid4()
        self.owner = self.employer(self.owner_id)
        self.recruiter = self.employer(self.recruiter_id)
        self.other_employer = self.employer(uuid.uuid4())
        self.seeker = client.tokens.headers(uuid.uuid4(), roles=["job_seeker"], email_verified=True)
        self.admin = client.tokens.headers(uuid.uuid4(), roles=["admin"], email_verified=True)
        self.company: dict = {}

    def employer(self, user_id, *, email_verified=True):
        return self.client.tokens.headers(user_id, roles=["employer"], email_verified=email_verified)

    async def setup(self, *, verified: bool = True) -> None:
        api = self.client
        r = await api.post("/api/v1/companies", json=COMPANY, headers=self.owner)
        assert r.status_code == 201, r.text
        self.company = r.json()
        invite = await api.post(
            f"/api/v1/companies/{self.company['id']}/invitations",
            json={"email": "recruiter@example.com"},
            headers=self.owner,
        )
        token = invite.json()["token"]
        accepted = await api.post(f"/api/v1/companies/invitations/{token}/accept", headers=self.recruiter)
        assert accepted.status_code == 200, accepted.text
        if verified:
            await api.post(f"/api/v1/companies/{self.company['id']}/verification-request", headers=self.owner)
            r = await api.post(
                f"/api/v1/companies/{self.company['id']}/verification",
                json={"approve": True},
                headers=self.admin,
            )
            assert r.status_code == 200, r.text

    async def draft(self, headers=None, **change) -> dict:
        body = {**JOB, "company_id": self.company["id"], **change}
        r = await self.client.post("/api/v1/jobs", json=body, headers=headers or self.owner)
        assert r.status_code == 201, r.text
        return r.json()

    async def live(self, **change) -> dict:
        job = await self.draft(**change)
        r = await self.client.post(f"/api/v1/jobs/{job['id']}/publish", headers=self.owner)
        assert r.status_code == 200 and r.json()["status"] == "active", r.text
        return r.json()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
async def jobs(start_jobs, clock):
    tokens, service = start_jobs(["au.jobs.job.*.v1"], clock=clock)
    async with service as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        yield client


@pytest.fixture
async def actors(jobs):
    actors = Actors(jobs)
    await actors.setup()
    return actors


def events_of(jobs, kind: str, job_id: str) -> list:
    return [e for e in jobs.events if e.type == f"au.jobs.job.{kind}.v1" and e.data["job_id"] == job_id]


async def run_clock(jobs):
    return await jobs.app.state.runtime.extras["workflow"].run_once()


# ---------------------------------------------------------------- fields


async def test_fields_are_normalised_sanitised_and_carried_by_the_event(jobs, actors):
    job = await actors.draft(
        description='<p onclick="steal()">Great <b>team</b> building great software.</p>'
        "<script>alert(1)</script>"
        '<a href="javascript:alert(1)">x</a><a href="https://eucalypt.example/about">About us</a>',
        salary={
            "minimum_cents": 5_000,
            "maximum_cents": 6_000,
            "period": "hourly",
            "super_mode": "plus_super",
        },
        screening_questions=[
            {"kind": "yes_no", "prompt": "Do you hold a driver licence?"},
            {
                "kind": "multi_choice",
                "prompt": "Which stacks?",
                "options": ["Django", "FastAPI"],
                "required": False,
            },
        ],
        application_method={"kind": "external", "url": "https://careers.eucalypt.example/apply/42"},
        closing_date=(actors.client.app.state.runtime.extras["clock"]() + timedelta(days=20))
        .date()
        .isoformat(),
    )
    assert "<script" not in job["description"] and "onclick" not in job["description"]
    assert "javascript:" not in job["description"] and "<b>team</b>" in job["description"]
    assert "alert" not in job["description_text"] and "Great team" in job["description_text"]
    assert job["company_name"] == "Eucalypt Software" and job["company_verified"] is True
    names = [s["name"] for s in job["skills"]]
    assert names[0] == "Python" and len(names) == 3 and "postgres" not in names and "JS" not in names
    assert all(s["matched"] for s in job["skills"])
    # hourly x 38 h x 52 weeks
    assert job["salary"]["annual_minimum_cents"] == 5_000 * 1976
    assert job["salary"]["annual_maximum_cents"] == 6_000 * 1976
    assert "hour" in job["salary"]["formatted"]
    questions = job["screening_questions"]
    assert questions[0]["built_in"] == "work_rights" and questions[0]["kind"] == "single_choice"
    assert [q["kind"] for q in questions[1:]] == ["yes_no", "multi_choice"]
    assert job["application_method"] == {
        "kind": "external",
        "url": "https://careers.eucalypt.example/apply/42",
    }
    assert job["work_arrangement"] == "hybrid" and job["structured_data"] is None  # drafts have none

    r = await jobs.post(f"/api/v1/jobs/{job['id']}/publish", headers=actors.owner)
    assert r.status_code == 200, r.text
    (event,) = await eventually(lambda: events_of(jobs, "published", job["id"]))
    data = event.data
    assert data["company_id"] == actors.company["id"] and data["company_verified"] is True
    assert data["salary"]["annual_minimum_cents"] == 5_000 * 1976
    assert data["screening_questions"][0]["id"] == "work_rights"
    assert data["skills"] == names and data["work_arrangement"] == "hybrid"
    assert data["expires_at"] and data["application_method"]["kind"] == "external"


@pytest.mark.parametrize(
    ("period", "amount", "annual"),
    [
        ("hourly", 4_500, 4_500 * 38 * 52),
        ("daily", 60_000, 60_000 * 5 * 52),
        ("weekly", 200_000, 200_000 * 52),
        ("monthly", 900_000, 900_000 * 12),
        ("annual", 12_000_000, 12_000_000),
    ],
)
async def test_salary_is_annualised_per_period(jobs, actors, period, amount, annual):
    job = await actors.draft(salary={"minimum_cents": amount, "maximum_cents": amount * 2, "period": period})
    assert job["salary"]["annual_minimum_cents"] == annual
    assert job["salary"]["annual_maximum_cents"] == annual * 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"classification": "Basket Weaving"}, "classification"),
        ({"sub_classification": "Nursing - Aged Care"}, "sub_classification"),
        ({"salary": {"minimum_cents": 9, "maximum_cents": 1}}, "salary"),
        ({"salary": {"minimum_cents": 1, "maximum_cents": 2, "display_text": "x" * 51}}, "salary"),
        ({"work_arrangement": "on_the_moon"}, "work_arrangement"),
        ({"screening_questions": [{"kind": "single_choice", "prompt": "Pick one", "options": ["A"]}]}, None),
        ({"screening_questions": [{"kind": "yes_no", "prompt": "Ok?", "options": ["Yes", "No"]}]}, None),
        ({"application_method": {"kind": "external"}}, "application_method"),
        ({"application_method": {"kind": "external", "url": "http://insecure.example"}}, None),
        ({"description": "<p>   </p><script>much text hidden in a script tag</script>"}, "description"),
        ({"location": {"suburb": "Atlantis", "state": "NSW"}}, "location"),
        ({"skills": [""]}, "skills"),
    ],
)
async def test_invalid_fields_are_rejected_and_change_nothing(jobs, actors, change, field):
    job = await actors.draft()
    r = await jobs.patch(f"/api/v1/jobs/{job['id']}", json=change, headers=actors.owner)
    problem = is_problem(r, 422)
    if field:
        assert any(e["field"].startswith(field) for e in problem["errors"]), problem
    after = (await jobs.get(f"/api/v1/jobs/{job['id']}", headers=actors.owner)).json()
    assert after["version"] == job["version"] and after["updated_at"] == job["updated_at"]


# ---------------------------------------------------------------- workflow


async def test_a_verified_company_publishes_without_moderation(jobs, actors, clock):
    job = await actors.live()
    assert job["published_at"] and job["moderation_flags"] == []
    assert job["expires_at"].startswith((clock.now + timedelta(days=30)).date().isoformat())
    ld = job["structured_data"]
    assert ld["@type"] == "JobPosting" and ld["title"] == JOB["title"]
    assert ld["hiringOrganization"]["name"] == "Eucalypt Software"
    assert ld["baseSalary"]["currency"] == "AUD" and ld["identifier"]["value"] == job["id"]
    assert ld["directApply"] is True and ld["employmentType"] == "FULL_TIME"
    public = (await jobs.get(f"/api/v1/jobs/{job['id']}")).json()
    assert public["status"] == "active" and public["structured_data"] == ld


async def test_an_unverified_company_waits_for_moderation(jobs, clock):
    actors = Actors(jobs)
    await actors.setup(verified=False)
    job = await actors.draft()
    r = await jobs.post(f"/api/v1/jobs/{job['id']}/publish", headers=actors.owner)
    assert r.status_code == 200 and r.json()["status"] == "pending", r.text
    assert r.json()["moderation_flags"] == ["company_unverified"]
    await eventually(lambda: events_of(jobs, "submitted", job["id"]))
    # not public while pending; visible in the admin queue
    assert (await jobs.get(f"/api/v1/jobs/{job['id']}")).status_code == 404
    queue = (await jobs.get("/api/v1/jobs/moderation", headers=actors.admin)).json()
    assert [j["id"] for j in queue["items"]] == [job["id"]]
    for who in (actors.owner, actors.seeker):
        is_problem(await jobs.get("/api/v1/jobs/moderation", headers=who), 403)

    rejected = await jobs.post(
        f"/api/v1/jobs/{job['id']}/moderation",
        json={"approve": False, "reason": "Please add the salary range"},
        headers=actors.admin,
    )
    assert rejected.json()["status"] == "draft"
    assert rejected.json()["moderation_reason"] == "Please add the salary range"
    (event,) = await eventually(lambda: events_of(jobs, "rejected", job["id"]))
    assert event.data["reason"] == "Please add the salary range"

    await jobs.post(f"/api/v1/jobs/{job['id']}/publish", headers=actors.owner)
    approved = await jobs.post(
        f"/api/v1/jobs/{job['id']}/moderation", json={"approve": True}, headers=actors.admin
    )
    assert approved.json()["status"] == "active", approved.text
    await eventually(lambda: events_of(jobs, "published", job["id"]))


async def test_verifying_the_company_releases_postings_held_only_for_that(jobs, clock):
    actors = Actors(jobs)
    await actors.setup(verified=False)
    waiting = await actors.draft()
    flagged = await actors.draft(
        description="<p>Apply by texting 0412 345 678 with your CV today please.</p>"
    )
    for job in (waiting, flagged):
        r = await jobs.post(f"/api/v1/jobs/{job['id']}/publish", headers=actors.owner)
        assert r.json()["status"] == "pending"
    company_url = f"/api/v1/companies/{actors.company['id']}"
    await jobs.post(f"{company_url}/verification-request", headers=actors.owner)
    r = await jobs.post(f"{company_url}/verification", json={"approve": True}, headers=actors.admin)
    assert r.status_code == 200, r.text
    released = (await jobs.get(f"/api/v1/jobs/{waiting['id']}")).json()
    assert released["status"] == "active" and released["company_verified"] is True
    await eventually(lambda: events_of(jobs, "published", waiting["id"]))
    still = (await jobs.get(f"/api/v1/jobs/{flagged['id']}", headers=actors.owner)).json()
    assert still["status"] == "pending"
    assert still["moderation_flags"] == ["company_unverified", "contact_details_in_description"]


async def test_flagged_content_is_held_even_for_a_verified_company(jobs, actors):
    job = await actors.draft(
        description="<p>Great role. Send your CV to jobs.now@gmail.com or call 0412 345 678 today.</p>",
        salary={"minimum_cents": 1_500, "maximum_cents": 1_800, "period": "hourly"},
    )
    r = await jobs.post(f"/api/v1/jobs/{job['id']}/publish", headers=actors.owner)
    assert r.json()["status"] == "pending"
    assert set(r.json()["moderation_flags"]) == {
        "contact_details_in_description",
        "salary_below_minimum_wage",
    }
    # Flags are for the company and moderators, not the public.
    approved = await jobs.post(
        f"/api/v1/jobs/{job['id']}/moderation", json={"approve": True}, headers=actors.admin
    )
    assert approved.json()["status"] == "active"
    assert (await jobs.get(f"/api/v1/jobs/{job['id']}")).json()["moderation_flags"] == []


async def test_editing_a_live_posting_into_flagged_content_sends_it_back(jobs, actors):
    job = await actors.live()
    r = await jobs.patch(
        f"/api/v1/jobs/{job['id']}",
        json={"description": "<p>Pay a small fee for your starter kit and earn $500 per day from home!</p>"},
        headers=actors.recruiter,
    )
    assert r.json()["status"] == "pending" and "suspicious_phrases" in r.json()["moderation_flags"]
    assert (await jobs.get(f"/api/v1/jobs/{job['id']}")).status_code == 404


@pytest.mark.parametrize(
    ("setup", "action", "body"),
    [
        ("draft", "close", None),
        ("draft", "renew", None),
        ("draft", "withdraw", None),
        ("active", "publish", None),
        ("active", "withdraw", None),
        ("closed", "publish", None),
        ("closed", "close", None),
        ("closed", "renew", None),
    ],
)
async def test_invalid_transitions_are_409_and_change_nothing(jobs, actors, setup, action, body):
    job = await actors.draft() if setup == "draft" else await actors.live()
    if setup == "closed":
        job = (await jobs.post(f"/api/v1/jobs/{job['id']}/close", headers=actors.owner)).json()
    r = await jobs.post(f"/api/v1/jobs/{job['id']}/{action}", json=body, headers=actors.owner)
    assert is_problem(r, 409)["type"].endswith("invalid-transition")
    after = (await jobs.get(f"/api/v1/jobs/{job['id']}", headers=actors.owner)).json()
    assert (after["status"], after["version"]) == (job["status"], job["version"])
    moderate = await jobs.post(
        f"/api/v1/jobs/{job['id']}/moderation", json={"approve": True}, headers=actors.admin
    )
    is_problem(moderate, 409)


async def test_closed_and_expired_postings_cannot_be_edited(jobs, actors):
    job = await actors.live()
    await jobs.post(f"/api/v1/jobs/{job['id']}/close", headers=actors.owner)
    r = await jobs.patch(f"/api/v1/jobs/{job['id']}", json={"title": "Changed"}, headers=actors.owner)
    is_problem(r, 409)
    closed = (await jobs.get(f"/api/v1/jobs/{job['id']}")).json()
    assert (
        closed["title"] == JOB["title"] and closed["status"] == "closed" and closed["structured_data"] is None
    )


async def test_scheduled_publish_goes_live_when_the_clock_reaches_it(jobs, actors, clock):
    job = await actors.draft()
    at = clock.now + timedelta(hours=2)
    r = await jobs.post(
        f"/api/v1/jobs/{job['id']}/publish", json={"publish_at": at.isoformat()}, headers=actors.owner
    )
    assert r.json()["status"] == "scheduled" and r.json()["published_at"] is None
    assert (await jobs.get(f"/api/v1/jobs/{job['id']}")).status_code == 404
    clock.advance(hours=1)
    assert (await run_clock(jobs)).published == 0
    clock.advance(hours=1, minutes=1)
    assert (await run_clock(jobs)).published == 1
    live = (await jobs.get(f"/api/v1/jobs/{job['id']}")).json()
    assert live["status"] == "active" and live["published_at"].startswith(clock.now.date().isoformat())
    await eventually(lambda: events_of(jobs, "published", job["id"]))
    assert len(events_of(jobs, "scheduled", job["id"])) == 1


@pytest.mark.parametrize(
    "publish_at",
    [
        lambda now: now - timedelta(minutes=1),
        lambda now: now + timedelta(days=91),
        lambda now: "2030-01-01T09:00:00",
    ],
)
async def test_bad_publish_times_are_rejected(jobs, actors, clock, publish_at):
    job = await actors.draft()
    at = publish_at(clock.now)
    r = await jobs.post(
        f"/api/v1/jobs/{job['id']}/publish",
        json={"publish_at": at if isinstance(at, str) else at.isoformat()},
        headers=actors.owner,
    )
    is_problem(r, 422)
    assert (await jobs.get(f"/api/v1/jobs/{job['id']}", headers=actors.owner)).json()["status"] == "draft"


async def test_postings_expire_after_30_days_with_one_reminder_and_can_be_renewed(jobs, actors, clock):
    job = await actors.live()
    clock.advance(days=26)
    assert (await run_clock(jobs)).reminded == 0
    clock.advance(days=1, minutes=1)  # 3 days before expiry
    assert (await run_clock(jobs)).reminded == 1
    assert (await run_clock(jobs)).reminded == 0  # once
    (reminder,) = await eventually(lambda: events_of(jobs, "expiry_reminder", job["id"]))
    assert reminder.data["owner_id"] == str(actors.owner_id) and reminder.data["title"] == JOB["title"]

    clock.advance(days=3)
    done = await run_clock(jobs)
    assert done.expired == 1
    expired = (await jobs.get(f"/api/v1/jobs/{job['id']}")).json()
    assert expired["status"] == "expired" and expired["structured_data"] is None
    (event,) = await eventually(lambda: events_of(jobs, "expired", job["id"]))
    assert event.data["status"] == "expired" and event.data["title"] == JOB["title"]
    assert job["id"] not in [j["id"] for j in (await jobs.get("/api/v1/jobs")).json()["items"]]

    renewed = await jobs.post(f"/api/v1/jobs/{job['id']}/renew", headers=actors.recruiter)
    assert renewed.json()["status"] == "active", renewed.text
    assert renewed.json()["expires_at"].startswith((clock.now + timedelta(days=30)).date().isoformat())


async def test_the_closing_date_ends_the_posting_that_day(jobs, actors, clock):
    closing = (clock.now + timedelta(days=5)).date()
    job = await actors.live(closing_date=closing.isoformat())
    end_of_day = datetime.combine(closing, time(23, 59, 59), tzinfo=ZoneInfo("Australia/Sydney"))
    assert datetime.fromisoformat(job["expires_at"]) == end_of_day
    clock.advance(days=7)
    assert (await run_clock(jobs)).expired == 1
    renew = await jobs.post(f"/api/v1/jobs/{job['id']}/renew", headers=actors.owner)
    assert is_problem(renew, 409)["type"].endswith("closing-date-passed")


# ---------------------------------------------------------------- templates and featuring


async def test_templates_start_new_drafts(jobs, actors):
    job = await actors.draft(screening_questions=[{"kind": "yes_no", "prompt": "Can you start in January?"}])
    r = await jobs.post(
        "/api/v1/jobs/templates", json={"name": "Python dev", "job_id": job["id"]}, headers=actors.owner
    )
    assert r.status_code == 201, r.text
    template = r.json()
    listed = await jobs.get(
        "/api/v1/jobs/templates", params={"company_id": actors.company["id"]}, headers=actors.recruiter
    )
    assert [t["name"] for t in listed.json()] == ["Python dev"]

    r = await jobs.post(
        f"/api/v1/jobs/templates/{template['id']}/jobs",
        json={"title": "Python Developer (Brisbane)"},
        headers=actors.recruiter,
    )
    assert r.status_code == 201, r.text
    copy = r.json()
    assert (
        copy["title"] == "Python Developer (Brisbane)"
        and copy["status"] == "draft"
        and copy["id"] != job["id"]
    )
    assert [q["prompt"] for q in copy["screening_questions"]][1:] == ["Can you start in January?"]
    assert copy["salary"] == job["salary"] and copy["skills"] == job["skills"]

    for outsider in (actors.other_employer, actors.seeker):
        r = await jobs.post(f"/api/v1/jobs/templates/{template['id']}/jobs", json={}, headers=outsider)
        assert r.status_code in (403, 404), r.text
    r = await jobs.get(
        "/api/v1/jobs/templates", params={"company_id": actors.company["id"]}, headers=actors.other_employer
    )
    is_problem(r, 403)


async def test_admins_feature_a_posting_for_a_window(jobs, actors, clock):
    job = await actors.live()
    window = {
        "featured_from": (clock.now - timedelta(hours=1)).isoformat(),
        "featured_until": (clock.now + timedelta(days=7)).isoformat(),
    }
    for who in (actors.owner, actors.seeker):
        is_problem(await jobs.put(f"/api/v1/jobs/{job['id']}/featured", json=window, headers=who), 403)
    r = await jobs.put(f"/api/v1/jobs/{job['id']}/featured", json=window, headers=actors.admin)
    assert r.json()["featured"] is True, r.text
    backwards = {"featured_from": window["featured_until"], "featured_until": window["featured_from"]}
    is_problem(
        await jobs.put(f"/api/v1/jobs/{job['id']}/featured", json=backwards, headers=actors.admin), 422
    )
    clock.advance(days=8)
    assert (await jobs.get(f"/api/v1/jobs/{job['id']}")).json()["featured"] is False
    updated = await eventually(
        lambda: [e for e in events_of(jobs, "updated", job["id"]) if e.data["featured"]]
    )
    assert updated[0].data["featured_until"]


# ---------------------------------------------------------------- who may do what


async def test_permission_matrix(jobs, actors):
    job = await actors.draft(headers=actors.recruiter)
    url = f"/api/v1/jobs/{job['id']}"
    # A draft is the company's: others cannot even see it.
    for who, status in (
        (actors.owner, 200),
        (actors.recruiter, 200),
        (actors.admin, 200),
        (actors.other_employer, 404),
        (actors.seeker, 404),
        ({}, 404),
    ):
        assert (await jobs.get(url, headers=who)).status_code == status
    for who, status in ((actors.other_employer, 404), (actors.seeker, 403), ({}, 401)):
        r = await jobs.patch(url, json={"title": "Taken over"}, headers=who)
        is_problem(r, status)
    # Creating for a company needs membership.
    body = {**JOB, "company_id": actors.company["id"]}
    for who, status in ((actors.other_employer, 403), (actors.seeker, 403), ({}, 401)):
        is_problem(await jobs.post("/api/v1/jobs", json=body, headers=who), status)
    unknown = await jobs.post(
        "/api/v1/jobs", json={**body, "company_id": str(uuid.uuid4())}, headers=actors.owner
    )
    is_problem(unknown, 422)

    live = await jobs.post(f"{url}/publish", headers=actors.recruiter)
    assert live.json()["status"] == "active"
    for who, status in ((actors.other_employer, 403), (actors.seeker, 403), ({}, 401)):
        is_problem(await jobs.post(f"{url}/close", headers=who), status)
        is_problem(await jobs.patch(url, json={"title": "Taken over"}, headers=who), status)
    for who in (actors.owner, actors.recruiter, actors.other_employer, actors.seeker):
        is_problem(await jobs.post(f"{url}/moderation", json={"approve": True}, headers=who), 403)
    edited = await jobs.patch(url, json={"title": "Lead Python Developer"}, headers=actors.owner)
    assert edited.status_code == 200 and edited.json()["title"] == "Lead Python Developer"
    unverified_employer = actors.employer(actors.owner_id, email_verified=False)
    draft = await actors.draft()
    is_problem(await jobs.post(f"/api/v1/jobs/{draft['id']}/publish", headers=unverified_employer), 403)
    closed = await jobs.post(f"{url}/close", headers=actors.admin)
    assert closed.json()["status"] == "closed"

    mine = (await jobs.get("/api/v1/jobs", params={"mine": "true"}, headers=actors.recruiter)).json()
    assert {j["id"] for j in mine["items"]} == {job["id"], draft["id"]}
    theirs = (await jobs.get("/api/v1/jobs", params={"mine": "true"}, headers=actors.other_employer)).json()
    assert theirs["items"] == []


async def test_renaming_the_company_republishes_its_live_postings(jobs, actors):
    job = await actors.live()
    r = await jobs.patch(
        f"/api/v1/companies/{actors.company['id']}", json={"name": "Eucalypt Group"}, headers=actors.owner
    )
    assert r.status_code == 200, r.text
    updated = await eventually(
        lambda: [
            e for e in events_of(jobs, "updated", job["id"]) if e.data["company_name"] == "Eucalypt Group"
        ]
    )
    assert (
        updated and (await jobs.get(f"/api/v1/jobs/{job['id']}")).json()["company_name"] == "Eucalypt Group"
    )


async def test_the_json_ld_names_the_company_with_its_logo(jobs, actors):
    image = BytesIO()
    Image.new("RGB", (300, 300), (20, 120, 60)).save(image, "PNG")
    r = await jobs.put(
        f"/api/v1/companies/{actors.company['id']}/logo",
        files={"file": ("logo.png", image.getvalue(), "image/png")},
        headers=actors.owner,
    )
    assert r.status_code == 200, r.text
    job = await actors.live()
    organisation = job["structured_data"]["hiringOrganization"]
    assert organisation["name"] == "Eucalypt Software"
    assert organisation["logo"].startswith("http://localhost:8000/api/v1/companies/")
    logo = await jobs.get(organisation["logo"].removeprefix("http://localhost:8000"))
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/webp"


async def test_the_moderation_queue_pages_oldest_first(jobs, clock):
    actors = Actors(jobs)
    await actors.setup(verified=False)
    submitted = []
    for n in range(3):
        job = await actors.draft(title=f"Warehouse Storeperson {n}")
        clock.advance(minutes=5)
        r = await jobs.post(f"/api/v1/jobs/{job['id']}/publish", headers=actors.owner)
        assert r.json()["status"] == "pending"
        submitted.append(job["id"])
    first = (await jobs.get("/api/v1/jobs/moderation", params={"limit": 2}, headers=actors.admin)).json()
    assert [j["id"] for j in first["items"]] == submitted[:2] and first["next_cursor"]
    second = await jobs.get(
        "/api/v1/jobs/moderation", params={"limit": 2, "cursor": first["next_cursor"]}, headers=actors.admin
    )
    assert [j["id"] for j in second.json()["items"]] == submitted[2:] and second.json()["next_cursor"] is None
    bad = await jobs.get("/api/v1/jobs/moderation", params={"cursor": "bm90LWpzb24"}, headers=actors.admin)
    is_problem(bad, 400)
    # SREs see the backlog and that the workflow clock runs.
    await run_clock(jobs)
    metrics = (await jobs.get("/metrics")).text
    assert "aujobs_jobs_moderation_backlog 3.0" in metrics
    assert "aujobs_jobs_workflow_last_run_timestamp_seconds" in metrics


async def test_page_views_by_visitors_are_counted_for_the_company(jobs, actors):
    job = await actors.live()
    for visitor in ({}, {}, actors.seeker, actors.other_employer):
        assert (await jobs.get(f"/api/v1/jobs/{job['id']}", headers=visitor)).status_code == 200
    for member in (actors.owner, actors.recruiter):  # the company's own views do not count
        assert (await jobs.get(f"/api/v1/jobs/{job['id']}", headers=member)).status_code == 200
    r = await jobs.get(f"/api/v1/jobs/{job['id']}/analytics", headers=actors.recruiter)
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["views"] == 4
    # counted in memory, written in one go: nothing is left unwritten after a read
    assert await jobs.app.state.runtime.extras["view_tally"].flush() == 0


async def test_template_overrides_that_do_not_fit_the_template_are_a_422(jobs, actors):
    job = await actors.draft()
    template = (
        await jobs.post(
            "/api/v1/jobs/templates", json={"name": "ICT", "job_id": job["id"]}, headers=actors.owner
        )
    ).json()
    before = (await jobs.get("/api/v1/jobs", params={"mine": "true"}, headers=actors.owner)).json()["items"]
    # a sub-classification of another classification than the template's
    r = await jobs.post(
        f"/api/v1/jobs/templates/{template['id']}/jobs",
        json={"sub_classification": "Nursing - Aged Care"},
        headers=actors.owner,
    )
    problem = is_problem(r, 422)
    assert any(e["field"].startswith("sub_classification") for e in problem["errors"]), problem
    after = (await jobs.get("/api/v1/jobs", params={"mine": "true"}, headers=actors.owner)).json()["items"]
    assert len(after) == len(before)
