"""Company reviews on a real PostgreSQL database: submission and moderation, the
one-review-per-year rule, spam holds, reports, helpful votes, company responses,
listing, aggregate ratings with schema.org JSON-LD, and who may call what."""

from __future__ import annotations

import itertools
import string
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from starlette.requests import Request

from aujobs_common.clientip import client_ip, parse_networks
from aujobs_common.errors import ProblemError
from aujobs_common.security import Principal
from aujobs_common.testing.waiting import eventually
from aujobs_jobs import reviews
from aujobs_jobs.review_schemas import ReviewCreate

from .support import admin, employer, is_problem, seeker

COMPANY = {"name": "Eucalypt Software", "website": "https://eucalypt.example"}
RATINGS = {
    "overall": 4,
    "work_life_balance": 5,
    "pay_benefits": 3,
    "culture": 4,
    "management": 2,
    "career_growth": 3,
}
_serial = itertools.count(1)


def _word(n: int) -> str:
    """A distinct letters-only word per call, so no two reviews share their text."""
    letters = ""
    while n:
        n, rest = divmod(n, 26)
        letters += string.ascii_lowercase[rest]
    return "team" + letters


def review_body(**change):
    word = _word(next(_serial))
    return {
        "ratings": dict(RATINGS),
        "title": "Good people, slow promotions",
        "pros": f"Supportive colleagues in the {word} group and flexible hours that suit families well.",
        "cons": "Promotions take years and the office is a long commute from most suburbs.",
        "job_title": "Software Engineer",
        "employment_status": "current",
        "location_state": "NSW",
        **change,
    }


@pytest.fixture
async def api(start_jobs):
    tokens, service = start_jobs(["au.jobs.review.*.v1"])
    async with service as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        yield client


def fresh_ip() -> str:
    return f"2001:db8::{next(_serial):x}"


async def make_company(api, owner=None, **change):
    r = await api.post("/api/v1/companies", json={**COMPANY, **change}, headers=employer(api, owner))
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def with_recruiter(api, owner, company_id):
    invite = await api.post(
        f"/api/v1/companies/{company_id}/invitations",
        json={"email": "recruiter@example.com"},
        headers=employer(api, owner),
    )
    recruiter = uuid.uuid4()
    accepted = await api.post(
        f"/api/v1/companies/invitations/{invite.json()['token']}/accept", headers=employer(api, recruiter)
    )
    assert accepted.status_code == 200, accepted.text
    return recruiter


async def submit(api, company_id, author=None, *, ip=None, expect=201, **change):
    headers = {**seeker(api, author), "X-Real-IP": ip or fresh_ip()}
    r = await api.post(f"/api/v1/companies/{company_id}/reviews", json=review_body(**change), headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


async def decide(api, review_id, approve=True, reason=None):
    body = {"approve": approve, **({"reason": reason} if reason else {})}
    r = await api.post(f"/api/v1/companies/reviews/{review_id}/moderation", json=body, headers=admin(api))
    assert r.status_code == 200, r.text
    return r.json()


async def published(api, company_id, author=None, **change):
    review = await submit(api, company_id, author, **change)
    assert review["status"] == "pending", review
    return await decide(api, review["id"])


async def public_ids(api, company_id, **params):
    r = await api.get(f"/api/v1/companies/{company_id}/reviews", params=params)
    assert r.status_code == 200, r.text
    return [item["id"] for item in r.json()["items"]]


async def queue(api):
    r = await api.get("/api/v1/companies/reviews/moderation", headers=admin(api))
    assert r.status_code == 200, r.text
    return {item["id"]: item for item in r.json()["items"]}


async def mine(api, author):
    r = await api.get("/api/v1/companies/reviews/mine", headers=seeker(api, author))
    assert r.status_code == 200, r.text
    return r.json()["items"]


# ---------------------------------------------------------------- submission and moderation


async def test_new_review_waits_for_moderation_and_is_not_public(api):
    company_id = await make_company(api)
    author = uuid.uuid4()
    review = await submit(api, company_id, author)
    assert review["status"] == "pending" and review["author_id"] == str(author)
    assert review["ratings"] == RATINGS and review["published_at"] is None
    assert review["employment_status"] == "current" and review["location_state"] == "NSW"

    url = f"/api/v1/companies/{company_id}/reviews/{review['id']}"
    assert await public_ids(api, company_id) == []
    is_problem(await api.get(url), 404)
    is_problem(await api.get(url, headers=seeker(api)), 404)
    assert (await api.get(url, headers=seeker(api, author))).json()["status"] == "pending"
    assert (await api.get(url, headers=admin(api))).status_code == 200
    assert [r["id"] for r in await mine(api, author)] == [review["id"]]
    assert review["id"] in await queue(api)
    summary = (await api.get(f"/api/v1/companies/{company_id}/reviews/summary")).json()
    assert summary["review_count"] == 0 and summary["json_ld"] is None
    assert not [e for e in api.events if e.type == "au.jobs.review.published.v1"]


async def test_approval_publishes_with_the_new_aggregate(api):
    company_id = await make_company(api)
    first = await published(api, company_id, ratings={**RATINGS, "overall": 4})
    second = await submit(api, company_id, ratings={**RATINGS, "overall": 5})
    decided = await decide(api, second["id"])
    assert decided["status"] == "published" and decided["published_at"]
    assert await public_ids(api, company_id) == [second["id"], first["id"]]
    assert second["id"] not in await queue(api)

    events = await eventually(
        lambda: [
            e
            for e in api.events
            if e.type == "au.jobs.review.published.v1" and e.data["review_id"] == second["id"]
        ]
    )
    data = events[0].data
    assert data["company_id"] == company_id and data["overall"] == 5
    assert data["company_rating_average"] == 4.5 and data["company_review_count"] == 2
    assert datetime.fromisoformat(data["published_at"]) == datetime.fromisoformat(decided["published_at"])


async def test_rejection_needs_a_reason_and_only_the_author_sees_it(api):
    company_id = await make_company(api)
    author = uuid.uuid4()
    review = await submit(api, company_id, author)
    url = f"/api/v1/companies/reviews/{review['id']}/moderation"
    problem = is_problem(await api.post(url, json={"approve": False}, headers=admin(api)), 422)
    assert problem["errors"][0]["field"] == "reason"
    assert (await queue(api))[review["id"]]["status"] == "pending"

    rejected = await decide(api, review["id"], approve=False, reason="Names a colleague")
    assert rejected["status"] == "rejected" and rejected["rejection_reason"] == "Names a colleague"
    own = await api.get(f"/api/v1/companies/{company_id}/reviews/{review['id']}", headers=seeker(api, author))
    assert own.json()["status"] == "rejected" and own.json()["rejection_reason"] == "Names a colleague"
    assert await public_ids(api, company_id) == []
    is_problem(await api.post(url, json={"approve": True}, headers=admin(api)), 409)
    is_problem(
        await api.post(
            f"/api/v1/companies/reviews/{uuid.uuid4()}/moderation", json={"approve": True}, headers=admin(api)
        ),
        404,
    )
    assert not [e for e in api.events if e.type == "au.jobs.review.published.v1"]


async def test_anonymous_author_is_known_to_admins_only(api):
    company_id = await make_company(api)
    author = uuid.uuid4()
    review = await submit(api, company_id, author, anonymous=True)
    assert review["author_id"] == str(author)  # the author sees themself
    assert (await queue(api))[review["id"]]["author_id"] == str(author)
    await decide(api, review["id"])
    named = await published(api, company_id)

    url = f"/api/v1/companies/{company_id}/reviews/{review['id']}"
    for headers in ({}, seeker(api), employer(api)):
        assert (await api.get(url, headers=headers)).json()["author_id"] is None
        listed = (await api.get(f"/api/v1/companies/{company_id}/reviews", headers=headers)).json()["items"]
        authors = {item["id"]: item["author_id"] for item in listed}
        assert authors == {review["id"]: None, named["id"]: named["author_id"]}
    assert (await api.get(url, headers=admin(api))).json()["author_id"] == str(author)
    assert (await api.get(url, headers=seeker(api, author))).json()["author_id"] == str(author)


# ---------------------------------------------------------------- one review per year


async def test_second_review_within_a_year_is_refused_even_after_deleting(api):
    company_id = await make_company(api)
    other_company = await make_company(api, name="Banksia Health")
    author = uuid.uuid4()
    first = await submit(api, company_id, author)
    r = await api.post(
        f"/api/v1/companies/{company_id}/reviews",
        json=review_body(),
        headers={**seeker(api, author), "X-Real-IP": fresh_ip()},
    )
    problem = is_problem(r, 409)
    assert problem["type"].endswith("/review-limit")
    again = datetime.fromisoformat(first["created_at"]) + timedelta(days=365)
    assert again.isoformat() in problem["detail"]
    assert 364 * 86400 < int(r.headers["Retry-After"]) <= 365 * 86400
    assert [m["id"] for m in await mine(api, author)] == [first["id"]]

    deleted = await api.delete(
        f"/api/v1/companies/{company_id}/reviews/{first['id']}", headers=seeker(api, author)
    )
    assert deleted.status_code == 204
    await submit(api, company_id, author, expect=409)
    await submit(api, other_company, author)  # another company is fine


async def test_cooldown_follows_the_clock_and_counts_rejected_reviews(api):
    company_id = uuid.UUID(await make_company(api))
    author = Principal(user_id=uuid.uuid4(), roles=frozenset({"job_seeker"}), email_verified=True)
    settings = api.app.state.runtime.settings
    db = api.app.state.runtime.db
    start = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)

    async def create(at):
        async with db.transaction() as session:
            data = ReviewCreate(**review_body())
            return await reviews.create_review(
                session=session, company_id=company_id, author=author, data=data, settings=settings, now=at
            )

    first = await create(start)
    async with db.transaction() as session:
        await reviews.decide(
            session=session, review_id=first.id, moderator=author, approve=False, reason="Spam", now=start
        )
    with pytest.raises(ProblemError) as refused:
        await create(start + timedelta(days=364, hours=23))
    assert refused.value.status == 409 and refused.value.type.endswith("/review-limit")
    assert (start + timedelta(days=365)).isoformat() in (refused.value.detail or "")
    second = await create(start + timedelta(days=365, minutes=1))
    assert second.status == "pending"


# ---------------------------------------------------------------- spam checks


@pytest.mark.parametrize(
    "change, reason",
    [
        (
            {"pros": "Great place, apply at https://jobs.example.com today and grow your career fast."},
            "contains_link",
        ),
        (
            {"cons": "Recruiters spam you; visit www.cheap-jobs.biz for better roles in every suburb."},
            "contains_link",
        ),
        (
            {"pros": "Email me at someone@example.com for the inside scoop on the interview process."},
            "contains_email",
        ),
        (
            {"cons": "Call 0412 345 678 for a referral bonus before the hiring window closes again."},
            "contains_phone",
        ),
        ({"title": "Best company ever!!!!!!!!"}, "repeated_text"),
        (
            {"pros": "great great great great place to work with supportive people and good pay"},
            "repeated_text",
        ),
        ({"pros": "Good place overall.", "cons": "Nothing bad really."}, "too_short"),
    ],
)
async def test_suspicious_reviews_are_held_with_reasons(api, change, reason):
    company_id = await make_company(api)
    review = await submit(api, company_id, **change)
    assert review["status"] == "held"
    item = (await queue(api))[review["id"]]
    assert reason in item["hold_reasons"], item["hold_reasons"]
    assert await public_ids(api, company_id) == []
    # Held reviews are moderated like pending ones.
    assert (await decide(api, review["id"]))["status"] == "published"
    assert await public_ids(api, company_id) == [review["id"]]


async def test_ordinary_review_trips_no_check(api):
    company_id = await make_company(api)
    body = review_body(
        pros="Salary of $120,000 in 2024, hybrid work from 2019 - 2023, and a decent ESOP scheme.",
        cons="The Node.js codebase is old, e.g. tests are slow; management changes every year or so.",
    )
    reasons = reviews.content_reasons(ReviewCreate(**body))
    assert reasons == []
    assert (await submit(api, company_id, pros=body["pros"], cons=body["cons"]))["status"] == "pending"


async def test_same_text_by_anyone_is_held_as_duplicate(api):
    company_id = await make_company(api)
    other_company = await make_company(api, name="Banksia Health")
    body = review_body()
    first = await submit(api, company_id, pros=body["pros"], cons=body["cons"])
    assert first["status"] == "pending"
    copied = await submit(api, other_company, pros=body["pros"].upper(), cons=body["cons"] + "!")
    assert copied["status"] == "held"
    assert (await queue(api))[copied["id"]]["hold_reasons"] == ["duplicate_text"]


async def test_burst_from_one_account_is_held(api):
    author = uuid.uuid4()
    statuses = []
    for i in range(4):
        company_id = await make_company(api, name=f"Company {i}")
        statuses.append((await submit(api, company_id, author))["status"])
    assert statuses == ["pending", "pending", "pending", "held"]
    held = [item for item in (await queue(api)).values() if item["status"] == "held"]
    assert [item["hold_reasons"] for item in held] == [["burst_account"]]


async def test_burst_from_one_address_is_held_when_a_trusted_proxy_says_so(api):
    address = "203.0.113.7"
    statuses = []
    for i in range(4):
        company_id = await make_company(api, name=f"Company {i}")
        statuses.append((await submit(api, company_id, ip=address))["status"])
    assert statuses == ["pending", "pending", "pending", "held"]
    held = [item for item in (await queue(api)).values() if item["status"] == "held"]
    assert [item["hold_reasons"] for item in held] == [["burst_ip"]]
    # Other addresses are not affected.
    assert (await submit(api, await make_company(api, name="Another")))["status"] == "pending"


def _request(peer: str, headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "client": (peer, 1234), "headers": raw, "method": "GET", "path": "/"})


def test_forwarded_address_is_believed_only_from_trusted_peers():
    trusted = parse_networks(["10.0.0.0/8", "::1"])
    assert client_ip(_request("10.1.2.3", {"X-Real-IP": "203.0.113.9"}), trusted) == "203.0.113.9"
    assert client_ip(_request("10.1.2.3", {"X-Forwarded-For": "1.1.1.1, 198.51.100.4"}), trusted) == (
        "198.51.100.4"
    )
    assert client_ip(_request("10.1.2.3", {"X-Real-IP": "not-an-ip"}), trusted) == "10.1.2.3"
    assert client_ip(_request("198.51.100.20", {"X-Real-IP": "203.0.113.9"}), trusted) == "198.51.100.20"
    assert client_ip(_request("::1", {"X-Real-IP": "2001:db8::1"}), trusted) == "2001:db8::1"


# ---------------------------------------------------------------- reports


def unpublished_events(api, review_id):
    kind = "au.jobs.review.unpublished.v1"
    return [e for e in api.events if e.type == kind and e.data["review_id"] == review_id]


async def test_reports_send_a_review_back_to_moderation(api):
    company_id = await make_company(api)
    author = uuid.uuid4()
    review = await published(api, company_id, author)
    url = f"/api/v1/companies/{company_id}/reviews/{review['id']}/reports"
    body = {"reason": "Names a colleague"}
    is_problem(await api.post(url, json=body), 401)
    is_problem(await api.post(url, json=body, headers=seeker(api, author)), 403)
    is_problem(await api.post(url, json={"reason": ""}, headers=seeker(api)), 422)

    reporters = [uuid.uuid4() for _ in range(3)]
    first = await api.post(url, json=body, headers=seeker(api, reporters[0]))
    assert first.status_code == 201 and first.json()["reason"] == "Names a colleague"
    is_problem(await api.post(url, json=body, headers=seeker(api, reporters[0])), 409)
    assert await public_ids(api, company_id) == [review["id"]]
    assert (await api.post(url, json=body, headers=employer(api, reporters[1]))).status_code == 201
    assert await public_ids(api, company_id) == [review["id"]]
    assert (await api.post(url, json=body, headers=seeker(api, reporters[2]))).status_code == 201

    assert await public_ids(api, company_id) == []
    summary = (await api.get(f"/api/v1/companies/{company_id}/reviews/summary")).json()
    assert summary["review_count"] == 0
    (gone,) = await eventually(lambda: unpublished_events(api, review["id"]))
    assert gone.data["reason"] == "reported" and gone.data["company_review_count"] == 0
    item = (await queue(api))[review["id"]]
    assert item["status"] == "held" and item["hold_reasons"] == ["reported"]
    assert item["open_report_count"] == 3 and {r["user_id"] for r in item["reports"]} == set(
        map(str, reporters)
    )
    is_problem(await api.post(url, json=body, headers=seeker(api)), 404)  # no longer public

    cleared = await decide(api, review["id"])
    assert cleared["status"] == "published" and cleared["open_report_count"] == 0
    assert await public_ids(api, company_id) == [review["id"]]
    # Another report after the decision does not hide it straight away.
    assert (await api.post(url, json=body, headers=seeker(api))).status_code == 201
    assert await public_ids(api, company_id) == [review["id"]]


async def test_pending_reviews_cannot_be_reported(api):
    company_id = await make_company(api)
    review = await submit(api, company_id)
    r = await api.post(
        f"/api/v1/companies/{company_id}/reviews/{review['id']}/reports",
        json={"reason": "Looks fake"},
        headers=seeker(api),
    )
    is_problem(r, 404)
    assert (await queue(api))[review["id"]]["reports"] == []


# ---------------------------------------------------------------- votes


async def test_helpful_votes_count_once_per_user(api):
    company_id = await make_company(api)
    author = uuid.uuid4()
    review = await published(api, company_id, author)
    url = f"/api/v1/companies/{company_id}/reviews/{review['id']}/vote"
    voter, other = uuid.uuid4(), uuid.uuid4()

    r = await api.put(url, headers=seeker(api, voter))
    assert r.status_code == 200 and r.json() == {"review_id": review["id"], "helpful_count": 1, "voted": True}
    assert (await api.put(url, headers=seeker(api, voter))).json()["helpful_count"] == 1
    assert (await api.put(url, headers=employer(api, other))).json()["helpful_count"] == 2
    is_problem(await api.put(url, headers=seeker(api, author)), 403)
    is_problem(await api.put(url), 401)
    is_problem(await api.delete(url), 401)

    r = await api.delete(url, headers=seeker(api, voter))
    assert r.json() == {"review_id": review["id"], "helpful_count": 1, "voted": False}
    assert (await api.delete(url, headers=seeker(api, voter))).json()["helpful_count"] == 1
    public = await api.get(f"/api/v1/companies/{company_id}/reviews/{review['id']}")
    assert public.json()["helpful_count"] == 1

    pending = await submit(api, company_id)
    is_problem(
        await api.put(f"/api/v1/companies/{company_id}/reviews/{pending['id']}/vote", headers=seeker(api)),
        404,
    )
    is_problem(
        await api.put(f"/api/v1/companies/{company_id}/reviews/{uuid.uuid4()}/vote", headers=seeker(api)), 404
    )


# ---------------------------------------------------------------- company response


async def test_company_response_permissions_and_replacement(api):
    owner = uuid.uuid4()
    company_id = await make_company(api, owner)
    recruiter = await with_recruiter(api, owner, company_id)
    review = await published(api, company_id)
    url = f"/api/v1/companies/{company_id}/reviews/{review['id']}/response"

    for headers, status in (
        (employer(api), 403),
        (seeker(api), 403),
        (admin(api), 403),
        ({}, 401),
    ):
        is_problem(await api.put(url, json={"body": "Not ours to say"}, headers=headers), status)
    is_problem(await api.put(url, json={"body": ""}, headers=employer(api, owner)), 422)
    review_url = f"/api/v1/companies/{company_id}/reviews/{review['id']}"
    assert (await api.get(review_url)).json()["company_response"] is None

    r = await api.put(
        url, json={"body": "Thanks, we are working on promotions."}, headers=employer(api, owner)
    )
    assert r.status_code == 200 and r.json()["body"] == "Thanks, we are working on promotions."
    r = await api.put(
        url, json={"body": "Update: new promotion rounds twice a year."}, headers=employer(api, recruiter)
    )
    assert r.status_code == 200
    shown = (await api.get(review_url)).json()["company_response"]
    assert shown["body"] == "Update: new promotion rounds twice a year."
    listed = (await api.get(f"/api/v1/companies/{company_id}/reviews")).json()["items"]
    assert listed[0]["company_response"]["body"] == shown["body"]

    for headers, status in ((employer(api), 403), (seeker(api), 403), ({}, 401)):
        is_problem(await api.delete(url, headers=headers), status)
    assert (await api.delete(url, headers=employer(api, recruiter))).status_code == 204
    assert (await api.get(review_url)).json()["company_response"] is None
    is_problem(await api.delete(url, headers=employer(api, owner)), 404)

    pending = await submit(api, company_id)
    r = await api.put(
        f"/api/v1/companies/{company_id}/reviews/{pending['id']}/response",
        json={"body": "Too early"},
        headers=employer(api, owner),
    )
    is_problem(r, 404)
    other_company = await make_company(api, name="Banksia Health")
    r = await api.put(
        f"/api/v1/companies/{other_company}/reviews/{review['id']}/response",
        json={"body": "Wrong company"},
        headers=employer(api, owner),
    )
    is_problem(r, 403)
    is_problem(
        await api.put(
            f"/api/v1/companies/{uuid.uuid4()}/reviews/{review['id']}/response",
            json={"body": "Nobody"},
            headers=employer(api, owner),
        ),
        404,
    )


# ---------------------------------------------------------------- listing


async def test_sorting_filtering_and_paging(api):
    company_id = await make_company(api)
    overall = [3, 5, 1, 4, 5]
    status = ["current", "former", "former", "current", "current"]
    ids = []
    for rating, employment in zip(overall, status, strict=True):
        review = await published(
            api, company_id, ratings={**RATINGS, "overall": rating}, employment_status=employment
        )
        ids.append(review["id"])
    for voters, review_id in ((3, ids[2]), (1, ids[0])):
        for _ in range(voters):
            await api.put(f"/api/v1/companies/{company_id}/reviews/{review_id}/vote", headers=seeker(api))

    newest = list(reversed(ids))
    assert await public_ids(api, company_id) == newest
    assert await public_ids(api, company_id, sort="most_helpful") == [ids[2], ids[0], ids[4], ids[3], ids[1]]
    assert await public_ids(api, company_id, sort="highest") == [ids[4], ids[1], ids[3], ids[0], ids[2]]
    assert await public_ids(api, company_id, sort="lowest") == [ids[2], ids[0], ids[3], ids[4], ids[1]]
    assert await public_ids(api, company_id, min_rating=4) == [ids[4], ids[3], ids[1]]
    assert await public_ids(api, company_id, max_rating=3) == [ids[2], ids[0]]
    assert await public_ids(api, company_id, min_rating=3, max_rating=4) == [ids[3], ids[0]]
    assert await public_ids(api, company_id, employment_status="former") == [ids[2], ids[1]]

    for sort, expected in (
        ("newest", newest),
        ("highest", [ids[4], ids[1], ids[3], ids[0], ids[2]]),
        ("most_helpful", [ids[2], ids[0], ids[4], ids[3], ids[1]]),
    ):
        seen, cursor = [], None
        while True:
            params = {"sort": sort, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await api.get(f"/api/v1/companies/{company_id}/reviews", params=params)).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == expected, sort

    first = (await api.get(f"/api/v1/companies/{company_id}/reviews", params={"limit": 2})).json()
    url = f"/api/v1/companies/{company_id}/reviews"
    is_problem(await api.get(url, params={"sort": "lowest", "cursor": first["next_cursor"]}), 400)
    is_problem(await api.get(url, params={"cursor": "!!bad"}), 400)
    for params in ({"min_rating": 0}, {"max_rating": 6}, {"sort": "random"}, {"employment_status": "intern"}):
        is_problem(await api.get(url, params=params), 422)
    is_problem(await api.get(url, params={"min_rating": 4, "max_rating": 2}), 422)
    is_problem(await api.get(f"/api/v1/companies/{uuid.uuid4()}/reviews"), 404)


# ---------------------------------------------------------------- aggregates


async def test_summary_with_employer_aggregate_rating(api):
    company_id = await make_company(api)
    await published(api, company_id, ratings={**RATINGS, "overall": 5, "culture": 5})
    await published(api, company_id, ratings={**RATINGS, "overall": 4, "culture": 2})
    await published(api, company_id, ratings={**RATINGS, "overall": 4, "culture": 3})
    await submit(api, company_id, ratings={**RATINGS, "overall": 1})  # pending: not counted

    summary = (await api.get(f"/api/v1/companies/{company_id}/reviews/summary")).json()
    assert summary["review_count"] == 3
    assert summary["averages"] == {
        "overall": 4.33,
        "work_life_balance": 5.0,
        "pay_benefits": 3.0,
        "culture": 3.33,
        "management": 2.0,
        "career_growth": 3.0,
    }
    assert summary["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1}
    assert summary["json_ld"] == {
        "@context": "https://schema.org",
        "@type": "EmployerAggregateRating",
        "itemReviewed": {
            "@type": "Organization",
            "name": COMPANY["name"],
            "sameAs": "https://eucalypt.example/",
        },
        "ratingValue": 4.33,
        "bestRating": 5,
        "worstRating": 1,
        "ratingCount": 3,
    }

    bare = await make_company(api, name="Banksia Health", website=None)
    empty = (await api.get(f"/api/v1/companies/{bare}/reviews/summary")).json()
    assert empty["review_count"] == 0 and empty["json_ld"] is None
    assert empty["averages"]["overall"] is None and empty["distribution"]["3"] == 0
    await published(api, bare)
    ld = (await api.get(f"/api/v1/companies/{bare}/reviews/summary")).json()["json_ld"]
    assert (
        ld["itemReviewed"] == {"@type": "Organization", "name": "Banksia Health"} and ld["ratingValue"] == 4
    )
    is_problem(await api.get(f"/api/v1/companies/{uuid.uuid4()}/reviews/summary"), 404)

    async with api.app.state.runtime.db.session() as session:
        many = await reviews.rating_summaries(
            session=session, company_ids=[uuid.UUID(company_id), uuid.UUID(bare), uuid.uuid4()]
        )
    assert [s.review_count for s in many.values()] == [3, 1, 0]


# ---------------------------------------------------------------- permissions and validation


@pytest.mark.parametrize(
    "headers, status",
    [
        (lambda api: employer(api), 403),
        (lambda api: admin(api), 403),
        (lambda api: seeker(api, email_verified=False), 403),
        (lambda api: {}, 401),
    ],
)
async def test_only_verified_job_seekers_write_reviews(api, headers, status):
    company_id = await make_company(api)
    r = await api.post(f"/api/v1/companies/{company_id}/reviews", json=review_body(), headers=headers(api))
    is_problem(r, status)
    assert await queue(api) == {}


async def test_unknown_company_is_404_and_creates_nothing(api):
    author = uuid.uuid4()
    r = await api.post(
        f"/api/v1/companies/{uuid.uuid4()}/reviews", json=review_body(), headers=seeker(api, author)
    )
    is_problem(r, 404)
    assert await mine(api, author) == []


@pytest.mark.parametrize(
    "change, field",
    [
        ({"ratings": {**RATINGS, "overall": 0}}, "ratings.overall"),
        ({"ratings": {**RATINGS, "culture": 6}}, "ratings.culture"),
        ({"ratings": {k: v for k, v in RATINGS.items() if k != "management"}}, "ratings.management"),
        ({"title": None}, "title"),
        ({"pros": "   "}, "pros"),
        ({"employment_status": "intern"}, "employment_status"),
        ({"location_state": "XX"}, "location_state"),
        ({"author_id": str(uuid.uuid4())}, "author_id"),
    ],
)
async def test_invalid_review_is_rejected_and_nothing_is_created(api, change, field):
    company_id = await make_company(api)
    author = uuid.uuid4()
    body = {k: v for k, v in review_body(**change).items() if v is not None}
    r = await api.post(f"/api/v1/companies/{company_id}/reviews", json=body, headers=seeker(api, author))
    problem = is_problem(r, 422)
    assert any(e["field"].startswith(field) for e in problem["errors"]), problem
    assert await mine(api, author) == []
    assert await queue(api) == {}
    # Nothing was used up: the author may still review the company.
    await submit(api, company_id, author)


async def test_moderation_is_for_admins_only(api):
    owner = uuid.uuid4()
    company_id = await make_company(api, owner)
    recruiter = await with_recruiter(api, owner, company_id)
    author = uuid.uuid4()
    review = await submit(api, company_id, author)
    url = f"/api/v1/companies/reviews/{review['id']}/moderation"
    for headers, status in (
        (employer(api, owner), 403),
        (employer(api, recruiter), 403),
        (employer(api), 403),
        (seeker(api, author), 403),
        ({}, 401),
    ):
        is_problem(await api.get("/api/v1/companies/reviews/moderation", headers=headers), status)
        is_problem(await api.post(url, json={"approve": True}, headers=headers), status)
    assert (await queue(api))[review["id"]]["status"] == "pending"
    is_problem(await api.get("/api/v1/companies/reviews/mine"), 401)


async def test_moderation_queue_is_oldest_first_and_pages(api):
    company_id = await make_company(api)
    ids = [(await submit(api, company_id))["id"] for _ in range(3)]
    held = (await submit(api, company_id, pros="Good place overall.", cons="Nothing bad really."))["id"]
    await decide(api, ids[1])
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await api.get("/api/v1/companies/reviews/moderation", params=params, headers=admin(api))
        ).json()
        seen += [(item["id"], item["status"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [(ids[0], "pending"), (ids[2], "pending"), (held, "held")]


async def test_author_deletes_own_review_only(api):
    owner = uuid.uuid4()
    company_id = await make_company(api, owner)
    author = uuid.uuid4()
    review = await published(api, company_id, author)
    url = f"/api/v1/companies/{company_id}/reviews/{review['id']}"
    for headers, status in (
        (seeker(api), 403),
        (employer(api, owner), 403),
        (admin(api), 403),
        ({}, 401),
    ):
        is_problem(await api.delete(url, headers=headers), status)
    assert await public_ids(api, company_id) == [review["id"]]

    assert (await api.delete(url, headers=seeker(api, author))).status_code == 204
    assert await public_ids(api, company_id) == []
    (gone,) = await eventually(lambda: unpublished_events(api, review["id"]))
    assert gone.data["reason"] == "withdrawn" and gone.data["company_review_count"] == 0
    assert await mine(api, author) == []
    is_problem(await api.get(url, headers=seeker(api, author)), 404)
    is_problem(await api.delete(url, headers=seeker(api, author)), 404)
    summary = (await api.get(f"/api/v1/companies/{company_id}/reviews/summary")).json()
    assert summary["review_count"] == 0

    pending = await submit(api, company_id)
    is_problem(
        await api.delete(f"/api/v1/companies/{company_id}/reviews/{pending['id']}", headers=seeker(api)), 404
    )


async def test_idempotency_key_creates_one_review(api):
    company_id = await make_company(api)
    author = uuid.uuid4()
    headers = {**seeker(api, author), "Idempotency-Key": "review-1", "X-Real-IP": fresh_ip()}
    body = review_body()
    first = await api.post(f"/api/v1/companies/{company_id}/reviews", json=body, headers=headers)
    second = await api.post(f"/api/v1/companies/{company_id}/reviews", json=body, headers=headers)
    assert first.status_code == second.status_code == 201 and first.json()["id"] == second.json()["id"]
    assert len(await mine(api, author)) == 1
