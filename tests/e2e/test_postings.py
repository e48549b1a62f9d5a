"""Job postings and companies (issue 4) through the gateway on the distributed topology
(real processes, RabbitMQ, Redis): who may call every jobs and companies endpoint, the
posting workflow's transitions, ABN checking and salary normalisation.

Every refusal is checked to be an RFC 9457 problem that changed nothing: the jobs
database (postings, companies, members, invitations, templates and the outbox) is
fingerprinted before and after."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

pytestmark = pytest.mark.timeout(300)

ACTORS = ("owner", "recruiter", "other_employer", "job_seeker", "admin", "anonymous")
#: The jobs service's tables a refused request must leave exactly as they were.
TABLES = ("job_postings", "companies", "company_members", "company_invitations", "job_templates", "outbox")
#: Contact details in the text: held for moderation even for a verified company.
FLAGGED_DESCRIPTION = "A great role in a friendly team. Call Sam on 0412 345 678 to apply today."


@dataclass
class World:
    """One verified company with its owner and a recruiter, and everyone else."""

    frontend: Any
    databases: Any
    accounts: dict[str, Any]
    company: dict[str, Any]
    made: dict[str, str] = field(default_factory=dict)

    @property
    def http(self) -> Any:
        return self.frontend.http

    def headers(self, actor: str) -> dict[str, str]:
        return {} if actor == "anonymous" else self.accounts[actor].headers

    @property
    def owner(self) -> Any:
        return self.accounts["owner"]

    async def fingerprint(self) -> dict[str, str]:
        out = {}
        for table in TABLES:
            rows = await self.databases.fetch(
                "jobs",
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM {table} t",  # noqa: S608
            )
            out[table] = rows[0]["h"]
        return out

    # -- postings in each state, of the owner's company --------------------------------

    async def draft(self, **overrides: Any) -> dict[str, Any]:
        overrides.setdefault("company_id", self.company["id"])
        return await self.frontend.create_job(
            self.owner, f"Platform Engineer {self.frontend.word()}", **overrides
        )

    async def _publish(self, job: dict[str, Any], body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = await self.http.post(f"/api/v1/jobs/{job['id']}/publish", json=body, headers=self.owner.headers)
        assert r.status_code == 200, r.text
        return r.json()

    async def active(self) -> dict[str, Any]:
        job = await self._publish(await self.draft())
        assert job["status"] == "active", job
        return job

    async def scheduled(self) -> dict[str, Any]:
        at = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        job = await self._publish(await self.draft(), {"publish_at": at})
        assert job["status"] == "scheduled", job
        return job

    async def pending(self) -> dict[str, Any]:
        job = await self._publish(await self.draft(description=FLAGGED_DESCRIPTION))
        assert job["status"] == "pending" and job["moderation_flags"], job
        return job

    async def closed(self) -> dict[str, Any]:
        job = await self.active()
        r = await self.http.post(f"/api/v1/jobs/{job['id']}/close", headers=self.owner.headers)
        assert r.status_code == 200 and r.json()["status"] == "closed", r.text
        return r.json()

    async def template(self) -> dict[str, Any]:
        job = await self.draft()
        r = await self.http.post(
            "/api/v1/jobs/templates",
            json={"name": f"Template {self.frontend.word()}", "job_id": job["id"]},
            headers=self.owner.headers,
        )
        assert r.status_code == 201, r.text
        return r.json()

    # -- companies, members and invitations --------------------------------------------

    async def fresh_company(self) -> dict[str, Any]:
        return await self.frontend.create_company(self.owner, name=f"Fresh Co {self.frontend.word()}")

    async def pending_company(self) -> dict[str, Any]:
        company = await self.fresh_company()
        r = await self.http.post(
            f"/api/v1/companies/{company['id']}/verification-request", headers=self.owner.headers
        )
        assert r.status_code == 200 and r.json()["verification_status"] == "pending", r.text
        return r.json()

    async def member(self) -> dict[str, Any]:
        """A new recruiter of the company (to be removed)."""
        account = await self.frontend.signup("employer", verified=False)
        await self.frontend.add_recruiter(self.owner, self.company["id"], account)
        return account.user

    async def invitation(self) -> dict[str, Any]:
        r = await self.http.post(
            f"/api/v1/companies/{self.company['id']}/invitations",
            json={"email": f"invitee.{uuid.uuid4().hex[:8]}@e2e.australiajobs.example"},
            headers=self.owner.headers,
        )
        assert r.status_code == 201, r.text
        return r.json()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(frontend, employer, databases) -> World:
    recruiter = await frontend.signup("employer")
    company = await frontend.company_for(employer)
    await frontend.add_recruiter(employer, company["id"], recruiter)
    accounts = {
        "owner": employer,
        "recruiter": recruiter,
        "other_employer": await frontend.signup("employer"),
        "job_seeker": await frontend.signup("job_seeker"),
        "admin": await frontend.admin(),
    }
    return World(frontend, databases, accounts, company)


# ---------------------------------------------------------------- the permission matrix


@dataclass(frozen=True)
class Case:
    """``path`` and ``body`` take ``{job}``, ``{company}``, ``{template}``, ``{member}``
    and ``{invitation}`` from what ``target`` makes (a fresh one for every request)."""

    name: str
    method: str
    path: str
    statuses: tuple[int, int, int, int, int, int]  # in the order of ACTORS
    target: str | None = None
    body: Callable[[World, dict[str, str]], Any] | None = None


def job_body(world: World, ids: dict[str, str]) -> dict[str, Any]:
    return world.frontend.job_body(f"Matrix Engineer {world.frontend.word()}", company_id=ids["company"])


def feature_window(world: World, ids: dict[str, str]) -> dict[str, str]:
    now = datetime.now(UTC)
    return {"featured_from": now.isoformat(), "featured_until": (now + timedelta(days=7)).isoformat()}


#                                                                       owner recr other seeker admin anon
CASES = [
    Case("create a job", "POST", "/api/v1/jobs", (201, 201, 403, 403, 201, 401), body=job_body),
    Case("get a draft", "GET", "/api/v1/jobs/{job}", (200, 200, 404, 404, 200, 404), "draft"),
    Case("get an active job", "GET", "/api/v1/jobs/{job}", (200, 200, 200, 200, 200, 200), "active"),
    Case(
        "edit a draft",
        "PATCH",
        "/api/v1/jobs/{job}",
        (200, 200, 404, 403, 200, 401),
        "draft",
        lambda w, ids: {"title": "Principal Platform Engineer"},
    ),
    Case(
        "edit an active job",
        "PATCH",
        "/api/v1/jobs/{job}",
        (200, 200, 403, 403, 200, 401),
        "active",
        lambda w, ids: {"title": "Principal Platform Engineer"},
    ),
    Case("publish", "POST", "/api/v1/jobs/{job}/publish", (200, 200, 404, 403, 200, 401), "draft"),
    Case("withdraw", "POST", "/api/v1/jobs/{job}/withdraw", (200, 200, 404, 403, 200, 401), "scheduled"),
    Case("close", "POST", "/api/v1/jobs/{job}/close", (200, 200, 403, 403, 200, 401), "active"),
    Case("renew", "POST", "/api/v1/jobs/{job}/renew", (200, 200, 403, 403, 200, 401), "active"),
    Case(
        "moderate",
        "POST",
        "/api/v1/jobs/{job}/moderation",
        (403, 403, 403, 403, 200, 401),
        "pending",
        lambda w, ids: {"approve": True},
    ),
    Case(
        "feature",
        "PUT",
        "/api/v1/jobs/{job}/featured",
        (403, 403, 403, 403, 200, 401),
        "active",
        feature_window,
    ),
    Case("stop featuring", "DELETE", "/api/v1/jobs/{job}/featured", (403, 403, 403, 403, 200, 401), "active"),
    Case("moderation queue", "GET", "/api/v1/jobs/moderation", (403, 403, 403, 403, 200, 401)),
    Case(
        "save a template",
        "POST",
        "/api/v1/jobs/templates",
        (201, 201, 404, 403, 201, 401),
        "draft",
        lambda w, ids: {"name": f"Template {w.frontend.word()}", "job_id": ids["job"]},
    ),
    Case(
        "list templates",
        "GET",
        "/api/v1/jobs/templates?company_id={company}",
        (200, 200, 403, 403, 200, 401),
    ),
    Case(
        "draft from a template",
        "POST",
        "/api/v1/jobs/templates/{template}/jobs",
        (201, 201, 404, 403, 201, 401),
        "template",
        lambda w, ids: {"title": "Platform Engineer (Perth)"},
    ),
    Case(
        "delete a template",
        "DELETE",
        "/api/v1/jobs/templates/{template}",
        (204, 204, 404, 403, 204, 401),
        "template",
    ),
    # companies
    Case(
        "create a company",
        "POST",
        "/api/v1/companies",
        (201, 201, 201, 403, 403, 401),
        body=lambda w, ids: w.frontend.company_body(f"New Co {w.frontend.word()}"),
    ),
    Case("list companies", "GET", "/api/v1/companies", (200, 200, 200, 200, 200, 200)),
    Case("get a company", "GET", "/api/v1/companies/{company}", (200, 200, 200, 200, 200, 200)),
    Case(
        "edit a company",
        "PATCH",
        "/api/v1/companies/{company}",
        (200, 200, 403, 403, 200, 401),
        body=lambda w, ids: {"culture": f"Flexible hours {w.frontend.word()}"},
    ),
    Case("list members", "GET", "/api/v1/companies/{company}/members", (200, 200, 403, 403, 200, 401)),
    Case(
        "invite a recruiter",
        "POST",
        "/api/v1/companies/{company}/invitations",
        (201, 403, 403, 403, 403, 401),
        body=lambda w, ids: {"email": f"invitee.{uuid.uuid4().hex[:8]}@e2e.australiajobs.example"},
    ),
    Case(
        "remove a member",
        "DELETE",
        "/api/v1/companies/{company}/members/{member}",
        (204, 403, 403, 403, 403, 401),
        "member",
    ),
    Case(
        "accept an invitation",
        "POST",
        "/api/v1/companies/invitations/{invitation}/accept",
        (200, 200, 200, 403, 403, 401),
        "invitation",
    ),
    Case(
        "ask for verification",
        "POST",
        "/api/v1/companies/{company}/verification-request",
        (200, 403, 403, 403, 403, 401),
        "fresh_company",
    ),
    Case(
        "decide a verification",
        "POST",
        "/api/v1/companies/{company}/verification",
        (403, 403, 403, 403, 200, 401),
        "pending_company",
        lambda w, ids: {"approve": True},
    ),
]


async def make_target(world: World, target: str | None) -> dict[str, str]:
    ids = {"company": world.company["id"]}
    if target is None:
        return ids
    made = await getattr(world, target)()
    key = {
        "template": "template",
        "member": "member",
        "invitation": "invitation",
        "fresh_company": "company",
        "pending_company": "company",
    }.get(target, "job")
    ids[key] = made["token"] if target == "invitation" else made["id"]
    return ids


@pytest.mark.parametrize(
    ("case", "actor"),
    [pytest.param(c, a, id=f"{c.name}-{a}") for c in CASES for a in ACTORS],
)
async def test_who_may_call_each_endpoint(world, helpers, case, actor):
    expected = case.statuses[ACTORS.index(actor)]
    ids = await make_target(world, case.target)
    path = case.path.format(**ids)
    kwargs: dict[str, Any] = {"headers": world.headers(actor)}
    if case.body is not None:
        kwargs["json"] = case.body(world, ids)
    before = await world.fingerprint() if case.method != "GET" else None

    r = await world.http.request(case.method, path, **kwargs)

    if expected >= 400:
        problem = helpers.assert_problem(r, expected)
        assert problem["detail"], problem
        if before is not None:
            assert await world.fingerprint() == before, f"a refused {case.name} changed something"
    else:
        assert r.status_code == expected, (case.name, actor, r.status_code, r.text)
    if actor == "anonymous" and expected == 401:
        assert r.headers["www-authenticate"].startswith("Bearer")


# ---------------------------------------------------------------- workflow transitions


@pytest.mark.parametrize(
    ("state", "action", "body", "after"),
    [
        ("draft", "publish", None, "active"),
        ("draft", "publish", "later", "scheduled"),
        ("pending", "moderation", {"approve": True}, "active"),
        ("pending", "moderation", {"approve": False, "reason": "Take the phone number out."}, "draft"),
        ("pending", "withdraw", None, "draft"),
        ("scheduled", "withdraw", None, "draft"),
        ("active", "close", None, "closed"),
        ("active", "renew", None, "active"),
    ],
)
async def test_valid_transitions_succeed(world, state, action, body, after):
    job = await getattr(world, state)()
    if body == "later":
        body = {"publish_at": (datetime.now(UTC) + timedelta(hours=6)).isoformat()}
    who = world.accounts["admin"] if action == "moderation" else world.owner
    r = await world.http.post(f"/api/v1/jobs/{job['id']}/{action}", json=body, headers=who.headers)
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["status"] == after and changed["version"] > job["version"], changed
    seen = (await world.http.get(f"/api/v1/jobs/{job['id']}", headers=world.owner.headers)).json()
    assert (seen["status"], seen["version"]) == (after, changed["version"])
    if after == "active":
        assert (
            seen["published_at"] and seen["expires_at"] and seen["structured_data"]["@type"] == "JobPosting"
        )
        public = await world.http.get(f"/api/v1/jobs/{job['id']}")
        assert public.status_code == 200 and public.json()["moderation_flags"] == []
    else:
        assert seen["structured_data"] is None
    if action == "renew":
        assert seen["expires_at"] >= job["expires_at"]
    if body and body.get("reason"):
        assert seen["moderation_reason"] == body["reason"]


INVALID = [
    ("draft", "close"),
    ("draft", "renew"),
    ("draft", "withdraw"),
    ("draft", "moderation"),
    ("pending", "publish"),
    ("pending", "close"),
    ("pending", "renew"),
    ("scheduled", "publish"),
    ("scheduled", "close"),
    ("scheduled", "renew"),
    ("scheduled", "moderation"),
    ("active", "publish"),
    ("active", "withdraw"),
    ("active", "moderation"),
    ("closed", "publish"),
    ("closed", "close"),
    ("closed", "renew"),
    ("closed", "withdraw"),
    ("closed", "moderation"),
]


@pytest.mark.parametrize(("state", "action"), INVALID, ids=[f"{s}-{a}" for s, a in INVALID])
async def test_invalid_transitions_are_409_and_change_nothing(world, helpers, state, action):
    job = await getattr(world, state)()
    who, body = world.owner, None
    if action == "moderation":
        who, body = world.accounts["admin"], {"approve": True}
    before = await world.fingerprint()

    r = await world.http.post(f"/api/v1/jobs/{job['id']}/{action}", json=body, headers=who.headers)

    problem = helpers.assert_problem(r, 409)
    assert problem["type"].endswith("/invalid-transition") and state in problem["detail"], problem
    assert await world.fingerprint() == before
    seen = (await world.http.get(f"/api/v1/jobs/{job['id']}", headers=world.owner.headers)).json()
    assert (seen["status"], seen["version"]) == (job["status"], job["version"])


async def test_a_closed_job_cannot_be_edited(world, helpers):
    job = await world.closed()
    before = await world.fingerprint()
    r = await world.http.patch(
        f"/api/v1/jobs/{job['id']}", json={"title": "Reopened"}, headers=world.owner.headers
    )
    assert helpers.assert_problem(r, 409)["type"].endswith("/job-not-editable")
    assert await world.fingerprint() == before


# ---------------------------------------------------------------- ABN and salary


@pytest.mark.parametrize(
    ("abn", "stored"),
    [
        ("51 824 753 556", "51824753556"),  # the ATO's example
        ("51824753556", "51824753556"),
        ("53 004 085 616", "53004085616"),
        ("33 051 775 556", "33051775556"),
        (None, None),  # optional
    ],
)
async def test_a_valid_abn_is_accepted_and_stored_as_digits(world, abn, stored):
    body = world.frontend.company_body(f"ABN Co {world.frontend.word()}", abn=abn)
    r = await world.http.post("/api/v1/companies", json=body, headers=world.owner.headers)
    assert r.status_code == 201, r.text
    assert r.json()["abn"] == stored
    assert (await world.http.get(f"/api/v1/companies/{r.json()['id']}")).json()["abn"] == stored


@pytest.mark.parametrize(
    "abn",
    [
        "51 824 753 557",  # checksum fails
        "15 824 753 556",  # digits swapped
        "5182475355",  # 10 digits
        "518247535566",  # 12 digits
        "51 824 753 55A",
        "",
    ],
)
async def test_an_invalid_abn_is_rejected_on_create_and_edit(world, helpers, abn):
    before = await world.fingerprint()
    body = world.frontend.company_body(f"Bad ABN Co {world.frontend.word()}", abn=abn)
    r = await world.http.post("/api/v1/companies", json=body, headers=world.owner.headers)
    problem = helpers.assert_problem(r, 422)
    assert [e["field"] for e in problem["errors"]] == ["abn"], problem
    r = await world.http.patch(
        f"/api/v1/companies/{world.company['id']}", json={"abn": abn}, headers=world.owner.headers
    )
    assert any(e["field"] == "abn" for e in helpers.assert_problem(r, 422)["errors"])
    assert await world.fingerprint() == before


@pytest.mark.parametrize(
    ("period", "minimum", "multiplier"),
    [
        ("hourly", 4_250, 1976),  # 38 hours x 52 weeks
        ("daily", 42_000, 260),  # 5 days x 52 weeks
        ("weekly", 180_000, 52),
        ("monthly", 850_000, 12),
        ("annual", 11_000_000, 1),
    ],
)
async def test_salary_is_annualised_per_period(world, period, minimum, multiplier):
    salary = {"minimum_cents": minimum, "maximum_cents": minimum * 5 // 4, "period": period}
    job = await world.draft(salary=salary)
    assert job["salary"]["period"] == period and job["salary"]["minimum_cents"] == minimum
    assert job["salary"]["annual_minimum_cents"] == minimum * multiplier
    assert job["salary"]["annual_maximum_cents"] == minimum * 5 // 4 * multiplier
    # and the published posting carries it too, in the public view and its JSON-LD
    live = await world._publish(job)
    assert live["status"] == "active", live
    public = (await world.http.get(f"/api/v1/jobs/{job['id']}")).json()
    assert public["salary"]["annual_minimum_cents"] == minimum * multiplier
    assert public["structured_data"]["baseSalary"]["currency"] == "AUD"
