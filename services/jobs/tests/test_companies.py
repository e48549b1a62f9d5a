"""Companies on a real PostgreSQL database: profiles, members, invitations and
verification, with the owner / recruiter / other employer / job seeker / admin /
anonymous permission matrix and the events each change publishes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from aujobs_common.testing.waiting import eventually
from aujobs_jobs.models import CompanyInvitation
from aujobs_jobs.schemas import normalise_abn

from .support import admin, employer, is_problem, seeker

COMPANY = {
    "name": "Eucalypt Software",
    "description": "We build software for Australian employers.",
    "website": "https://eucalypt.example",
    "industry": "Information & Communication Technology",
    "size": "51-200",
    "locations": [
        {"suburb": "Parramatta", "state": "NSW", "postcode": "2150"},
        {"suburb": "Melbourne", "state": "VIC"},
    ],
    "culture": "Flexible hours, friendly people.",
    "benefits": ["Hybrid work", "Extra leave"],
    "social_links": {"linkedin": "https://www.linkedin.com/company/eucalypt"},
    "abn": "51 824 753 556",
}


@pytest.fixture
async def api(start_jobs):
    tokens, service = start_jobs(["au.jobs.company.*.v1"])
    async with service as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        yield client


async def make_company(api, owner, **change):
    r = await api.post("/api/v1/companies", json={**COMPANY, **change}, headers=employer(api, owner))
    assert r.status_code == 201, r.text
    return r.json()


async def with_recruiter(api, owner, company):
    recruiter = uuid.uuid4()
    invite = await api.post(
        f"/api/v1/companies/{company['id']}/invitations",
        json={"email": "recruiter@example.com"},
        headers=employer(api, owner),
    )
    assert invite.status_code == 201, invite.text
    accepted = await api.post(
        f"/api/v1/companies/invitations/{invite.json()['token']}/accept", headers=employer(api, recruiter)
    )
    assert accepted.status_code == 200, accepted.text
    return recruiter


# ---------------------------------------------------------------- ABN


@pytest.mark.parametrize("abn", ["51 824 753 556", "51824753556", "53 004 085 616", "33 102 417 032"])
def test_valid_abns_are_accepted_without_spaces(abn):
    assert normalise_abn(abn) == abn.replace(" ", "")


@pytest.mark.parametrize(
    "abn", ["51 824 753 557", "12345678901", "5182475355", "518247535560", "51-824-753-556", "ABCDEFGHIJK"]
)
def test_invalid_abns_are_rejected(abn):
    with pytest.raises(ValueError):
        normalise_abn(abn)


async def test_abn_is_checked_on_create_and_update(api):
    owner = uuid.uuid4()
    bad = await api.post(
        "/api/v1/companies", json={**COMPANY, "abn": "51 824 753 557"}, headers=employer(api, owner)
    )
    assert any(e["field"] == "abn" for e in is_problem(bad, 422)["errors"])
    company = await make_company(api, owner, abn="53 004 085 616")
    assert company["abn"] == "53004085616"
    r = await api.patch(
        f"/api/v1/companies/{company['id']}", json={"abn": "12345678901"}, headers=employer(api, owner)
    )
    assert any(e["field"] == "abn" for e in is_problem(r, 422)["errors"])
    assert (await api.get(f"/api/v1/companies/{company['id']}")).json()["abn"] == "53004085616"


# ---------------------------------------------------------------- create and read


async def test_text_the_database_cannot_hold_is_a_422_and_creates_nothing(api):
    owner = uuid.uuid4()
    for change in ({"name": "Nul\u0000 Co"}, {"description": "Friendly\u0000 people"}):
        r = await api.post("/api/v1/companies", json={**COMPANY, **change}, headers=employer(api, owner))
        assert is_problem(r, 422)["type"].endswith("/invalid-input")
    assert (await api.get("/api/v1/companies")).json()["items"] == []
    async with api.app.state.runtime.db.session() as session:  # nor an event: it rolled back
        assert await session.scalar(sa.text("SELECT count(*) FROM outbox")) == 0


async def test_create_makes_the_creator_owner_and_publishes_the_profile(api):
    owner = uuid.uuid4()
    company = await make_company(api, owner)
    assert company["abn"] == "51824753556" and company["verified"] is False and company["version"] == 1
    assert company["size"] == "51-200" and company["website"].startswith("https://eucalypt.example")
    parramatta, melbourne = company["locations"]
    assert parramatta["postcode"] == "2150" and parramatta["latitude"] < -33
    assert melbourne["state"] == "VIC" and melbourne["latitude"] is not None
    assert company["social_links"] == {"linkedin": "https://www.linkedin.com/company/eucalypt"}

    public = await api.get(f"/api/v1/companies/{company['id']}")
    assert public.status_code == 200 and public.json() == company
    members = await api.get(f"/api/v1/companies/{company['id']}/members", headers=employer(api, owner))
    assert [(m["user_id"], m["role"]) for m in members.json()] == [(str(owner), "owner")]

    updated = await eventually(lambda: [e for e in api.events if e.type == "au.jobs.company.updated.v1"])
    data = updated[0].data
    assert data["company_id"] == company["id"] and data["version"] == 1 and data["name"] == COMPANY["name"]
    assert data["locations"][0]["suburb"] == "Parramatta" and data["verified"] is False
    assert data["benefits"] == COMPANY["benefits"]


@pytest.mark.parametrize(
    "headers, status",
    [
        (lambda api: seeker(api), 403),
        (lambda api: admin(api), 403),
        (lambda api: {}, 401),
        (lambda api: employer(api, email_verified=False), 403),
    ],
)
async def test_only_verified_employers_create_companies(api, headers, status):
    r = await api.post("/api/v1/companies", json=COMPANY, headers=headers(api))
    is_problem(r, status)
    assert (await api.get("/api/v1/companies")).json()["items"] == []


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": ""}, "name"),
        ({"website": "ftp://eucalypt.example"}, "website"),
        ({"website": "not a url"}, "website"),
        ({"industry": "Astrology"}, "industry"),
        ({"size": "12-34"}, "size"),
        ({"social_links": {"myspace": "https://myspace.com/x"}}, "social_links"),
        ({"locations": [{"suburb": "Parramatta", "state": "XX"}]}, "locations.0.state"),
        ({"benefits": ["  "]}, "benefits"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_invalid_company_is_rejected_and_nothing_is_created(api, change, field):
    r = await api.post("/api/v1/companies", json={**COMPANY, **change}, headers=employer(api))
    problem = is_problem(r, 422)
    assert any(e["field"].startswith(field) for e in problem["errors"]), problem
    assert (await api.get("/api/v1/companies")).json()["items"] == []


async def test_unknown_location_is_a_clear_error(api):
    r = await api.post(
        "/api/v1/companies",
        json={**COMPANY, "locations": [{"suburb": "Atlantis", "state": "VIC"}]},
        headers=employer(api),
    )
    problem = is_problem(r, 422)
    assert "Atlantis" in problem["detail"] and problem["errors"][0]["field"] == "locations.0"
    assert (await api.get("/api/v1/companies")).json()["items"] == []


async def test_idempotency_key_creates_one_company(api):
    owner = uuid.uuid4()
    headers = {**employer(api, owner), "Idempotency-Key": "create-company-1"}
    first = await api.post("/api/v1/companies", json=COMPANY, headers=headers)
    second = await api.post("/api/v1/companies", json=COMPANY, headers=headers)
    assert first.status_code == second.status_code == 201 and first.json()["id"] == second.json()["id"]
    other = await api.post("/api/v1/companies", json={**COMPANY, "name": "Other Co"}, headers=headers)
    is_problem(other, 422)
    assert len((await api.get("/api/v1/companies")).json()["items"]) == 1


async def test_listing_pages_with_a_cursor(api):
    ids = [(await make_company(api, uuid.uuid4(), name=f"Company {i}"))["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/api/v1/companies", params=params)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    is_problem(await api.get("/api/v1/companies", params={"cursor": "!!bad"}), 400)
    assert (await api.get(f"/api/v1/companies/{uuid.uuid4()}")).status_code == 404


# ---------------------------------------------------------------- update


async def test_patch_permission_matrix_and_partial_update(api):
    owner = uuid.uuid4()
    company = await make_company(api, owner)
    recruiter = await with_recruiter(api, owner, company)
    url = f"/api/v1/companies/{company['id']}"

    r = await api.patch(url, json={"culture": "Owner's words"}, headers=employer(api, owner))
    assert r.status_code == 200 and r.json()["culture"] == "Owner's words" and r.json()["version"] == 2
    assert r.json()["name"] == COMPANY["name"] and r.json()["abn"] == "51824753556"
    r = await api.patch(url, json={"size": "201-500"}, headers=employer(api, recruiter))
    assert r.status_code == 200 and r.json()["size"] == "201-500" and r.json()["version"] == 3
    r = await api.patch(url, json={"description": "Moderated"}, headers=admin(api))
    assert r.status_code == 200 and r.json()["version"] == 4

    for headers, status in ((employer(api), 403), (seeker(api), 403), ({}, 401)):
        is_problem(await api.patch(url, json={"name": "Hijacked"}, headers=headers), status)
    is_problem(await api.patch(url, json={"name": None}, headers=employer(api, owner)), 422)
    after = (await api.get(url)).json()
    assert after["name"] == COMPANY["name"] and after["version"] == 4

    updated = await eventually(
        lambda: [e for e in api.events if e.type == "au.jobs.company.updated.v1" and e.data["version"] == 4]
    )
    assert updated[0].data["size"] == "201-500" and updated[0].data["description"] == "Moderated"


# ---------------------------------------------------------------- members


async def test_invitation_flow_and_event(api):
    owner = uuid.uuid4()
    company = await make_company(api, owner)
    url = f"/api/v1/companies/{company['id']}/invitations"
    r = await api.post(url, json={"email": "Recruiter@Example.com"}, headers=employer(api, owner))
    assert r.status_code == 201, r.text
    invitation = r.json()
    assert invitation["email"] == "recruiter@example.com" and invitation["role"] == "recruiter"
    expires = datetime.fromisoformat(invitation["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)

    async with api.app.state.runtime.db.session() as session:
        stored = (await session.scalars(sa.select(CompanyInvitation))).one()
    assert stored.token_hash != invitation["token"] and invitation["token"] not in stored.token_hash

    invited = await eventually(
        lambda: [e for e in api.events if e.type == "au.jobs.company.member_invited.v1"]
    )
    assert invited[0].data == {
        "company_id": company["id"],
        "company_name": COMPANY["name"],
        "email": "recruiter@example.com",
        "token": invitation["token"],
        "expires_at": invited[0].data["expires_at"],
    }
    assert datetime.fromisoformat(invited[0].data["expires_at"]) == expires

    accept = f"/api/v1/companies/invitations/{invitation['token']}/accept"
    is_problem(await api.post(accept), 401)
    is_problem(await api.post(accept, headers=seeker(api)), 403)
    is_problem(await api.post(accept, headers=admin(api)), 403)
    recruiter = uuid.uuid4()
    r = await api.post(accept, headers=employer(api, recruiter))
    assert r.status_code == 200 and r.json()["role"] == "recruiter" and r.json()["user_id"] == str(recruiter)
    is_problem(await api.post(accept, headers=employer(api)), 400)
    is_problem(
        await api.post("/api/v1/companies/invitations/no-such-token/accept", headers=employer(api)), 404
    )
    members = await api.get(f"/api/v1/companies/{company['id']}/members", headers=employer(api, recruiter))
    assert {m["user_id"]: m["role"] for m in members.json()} == {
        str(owner): "owner",
        str(recruiter): "recruiter",
    }


async def test_expired_invitation_is_gone(api):
    owner = uuid.uuid4()
    company = await make_company(api, owner)
    token = (
        await api.post(
            f"/api/v1/companies/{company['id']}/invitations",
            json={"email": "late@example.com"},
            headers=employer(api, owner),
        )
    ).json()["token"]
    async with api.app.state.runtime.db.transaction() as session:
        await session.execute(
            sa.update(CompanyInvitation).values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    r = await api.post(f"/api/v1/companies/invitations/{token}/accept", headers=employer(api))
    is_problem(r, 410)
    members = await api.get(f"/api/v1/companies/{company['id']}/members", headers=employer(api, owner))
    assert len(members.json()) == 1


async def test_invite_permission_matrix(api):
    owner = uuid.uuid4()
    company = await make_company(api, owner)
    recruiter = await with_recruiter(api, owner, company)
    url = f"/api/v1/companies/{company['id']}/invitations"
    body = {"email": "someone@example.com"}
    for headers, status in (
        (employer(api, recruiter), 403),
        (employer(api), 403),
        (seeker(api), 403),
        (admin(api), 403),
        ({}, 401),
    ):
        is_problem(await api.post(url, json=body, headers=headers), status)
    is_problem(await api.post(url, json={"email": "not-an-email"}, headers=employer(api, owner)), 422)
    assert (await api.post(url, json=body, headers=employer(api, owner))).status_code == 201


async def test_members_list_is_for_members_only(api):
    owner = uuid.uuid4()
    company = await make_company(api, owner)
    recruiter = await with_recruiter(api, owner, company)
    url = f"/api/v1/companies/{company['id']}/members"
    for headers in (employer(api, owner), employer(api, recruiter), admin(api)):
        assert (await api.get(url, headers=headers)).status_code == 200
    for headers, status in ((employer(api), 403), (seeker(api), 403), ({}, 401)):
        is_problem(await api.get(url, headers=headers), status)


async def test_remove_member_permission_matrix_and_last_owner(api):
    owner = uuid.uuid4()
    company = await make_company(api, owner)
    recruiter = await with_recruiter(api, owner, company)
    base = f"/api/v1/companies/{company['id']}/members"
    for headers, status in (
        (employer(api, recruiter), 403),
        (employer(api), 403),
        (seeker(api), 403),
        (admin(api), 403),
        ({}, 401),
    ):
        is_problem(await api.delete(f"{base}/{recruiter}", headers=headers), status)
    is_problem(await api.delete(f"{base}/{owner}", headers=employer(api, owner)), 409)
    is_problem(await api.delete(f"{base}/{uuid.uuid4()}", headers=employer(api, owner)), 404)
    assert (await api.delete(f"{base}/{recruiter}", headers=employer(api, owner))).status_code == 204
    members = (await api.get(base, headers=employer(api, owner))).json()
    assert [m["user_id"] for m in members] == [str(owner)]
    # The removed recruiter may no longer change the company.
    r = await api.patch(
        f"/api/v1/companies/{company['id']}", json={"culture": "x"}, headers=employer(api, recruiter)
    )
    is_problem(r, 403)


# ---------------------------------------------------------------- verification


async def test_verification_permission_matrix_approval_and_event(api):
    owner = uuid.uuid4()
    company = await make_company(api, owner)
    recruiter = await with_recruiter(api, owner, company)
    request_url = f"/api/v1/companies/{company['id']}/verification-request"
    decide_url = f"/api/v1/companies/{company['id']}/verification"

    for headers, status in (
        (employer(api, recruiter), 403),
        (employer(api), 403),
        (seeker(api), 403),
        (admin(api), 403),
        ({}, 401),
    ):
        is_problem(await api.post(request_url, headers=headers), status)
    is_problem(await api.post(decide_url, json={"approve": True}, headers=admin(api)), 409)

    r = await api.post(request_url, headers=employer(api, owner))
    assert r.status_code == 200 and r.json()["verification_status"] == "pending" and not r.json()["verified"]
    is_problem(await api.post(request_url, headers=employer(api, owner)), 409)

    for headers, status in (
        (employer(api, owner), 403),
        (employer(api, recruiter), 403),
        (seeker(api), 403),
        ({}, 401),
    ):
        is_problem(await api.post(decide_url, json={"approve": True}, headers=headers), status)

    r = await api.post(decide_url, json={"approve": True}, headers=admin(api))
    assert r.status_code == 200, r.text
    verified = r.json()
    assert verified["verified"] is True and verified["verification_status"] == "verified"
    assert verified["verified_at"]
    assert (await api.get(f"/api/v1/companies/{company['id']}")).json()["verified"] is True

    events = await eventually(lambda: [e for e in api.events if e.type == "au.jobs.company.verified.v1"])
    assert events[0].data["company_id"] == company["id"] and events[0].data["name"] == COMPANY["name"]
    assert events[0].data["owner_ids"] == [str(owner)]
    assert datetime.fromisoformat(events[0].data["verified_at"]) == datetime.fromisoformat(
        verified["verified_at"]
    )
    updated = await eventually(
        lambda: [
            e
            for e in api.events
            if e.type == "au.jobs.company.updated.v1" and e.data["version"] == verified["version"]
        ]
    )
    assert updated[0].data["verified"] is True


async def test_rejection_needs_a_reason_and_publishes_no_verified_event(api):
    owner = uuid.uuid4()
    company = await make_company(api, owner)
    await api.post(f"/api/v1/companies/{company['id']}/verification-request", headers=employer(api, owner))
    decide_url = f"/api/v1/companies/{company['id']}/verification"
    problem = is_problem(await api.post(decide_url, json={"approve": False}, headers=admin(api)), 422)
    assert problem["errors"][0]["field"] == "reason"
    r = await api.post(
        decide_url, json={"approve": False, "reason": "ABN does not match"}, headers=admin(api)
    )
    assert r.status_code == 200 and r.json()["verification_status"] == "rejected" and not r.json()["verified"]
    rejected_version = r.json()["version"]
    await eventually(
        lambda: [
            e
            for e in api.events
            if e.type == "au.jobs.company.updated.v1" and e.data["version"] == rejected_version
        ]
    )
    assert not [e for e in api.events if e.type == "au.jobs.company.verified.v1"]
    # A rejected company may ask again.
    again = await api.post(
        f"/api/v1/companies/{company['id']}/verification-request", headers=employer(api, owner)
    )
    assert again.status_code == 200 and again.json()["verification_status"] == "pending"


async def test_every_membership_change_publishes_the_whole_membership(api):
    """Applications authorises employers from these snapshots: created, joined, removed."""

    def snapshots():
        return [
            {m["user_id"]: m["role"] for m in e.data["members"]}
            for e in api.events
            if e.type == "au.jobs.company.members_changed.v1"
        ]

    owner = uuid.uuid4()
    company = await make_company(api, owner)
    await eventually(lambda: len(snapshots()) == 1)
    recruiter = await with_recruiter(api, owner, company)
    await eventually(lambda: len(snapshots()) == 2)
    r = await api.delete(
        f"/api/v1/companies/{company['id']}/members/{recruiter}", headers=employer(api, owner)
    )
    assert r.status_code == 204, r.text
    await eventually(lambda: len(snapshots()) == 3)
    assert snapshots() == [
        {str(owner): "owner"},
        {str(owner): "owner", str(recruiter): "recruiter"},
        {str(owner): "owner"},
    ]
    changed = [e for e in api.events if e.type == "au.jobs.company.members_changed.v1"]
    assert all(e.data["company_id"] == company["id"] for e in changed)
    times = [datetime.fromisoformat(e.data["changed_at"]) for e in changed]
    assert times == sorted(times)

    # a refused removal (the last owner) publishes nothing
    r = await api.delete(f"/api/v1/companies/{company['id']}/members/{owner}", headers=employer(api, owner))
    is_problem(r, 409)
    assert len(snapshots()) == 3


async def test_memberships_can_be_republished_for_every_company(api):
    """`python -m aujobs_jobs republish-members`: for companies from before the event, or a
    consumer rebuilding its read model; through the outbox like any change."""
    from aujobs_jobs.companies import republish_memberships

    owners = [uuid.uuid4() for _ in range(3)]
    made = [await make_company(api, owner, name=f"Company {n}") for n, owner in enumerate(owners)]
    recruiter = await with_recruiter(api, owners[0], made[0])

    def changed():
        return [e for e in api.events if e.type == "au.jobs.company.members_changed.v1"]

    await eventually(lambda: len(changed()) == 4)  # three created, one joined
    assert await republish_memberships(api.app.state.runtime.db, batch=2) == 3
    api.app.state.runtime.events_committed()
    await eventually(lambda: len(changed()) == 7)
    again = {
        e.data["company_id"]: {m["user_id"]: m["role"] for m in e.data["members"]} for e in changed()[4:]
    }
    assert again == {
        made[0]["id"]: {str(owners[0]): "owner", str(recruiter): "recruiter"},
        made[1]["id"]: {str(owners[1]): "owner"},
        made[2]["id"]: {str(owners[2]): "owner"},
    }
