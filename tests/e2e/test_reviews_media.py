"""Company reviews and company media through the gateway on the distributed topology:
review moderation, helpful votes, the one-review-per-company-per-year rule; logo and
image uploads, and the refusal of files that are not pictures or are too large."""

from __future__ import annotations

import io
import secrets
from typing import Any

import pytest
import pytest_asyncio
from PIL import Image

pytestmark = pytest.mark.timeout(240)

MEDIA_TABLES = ("company_media", "company_media_renditions")
REVIEW_TABLES = ("company_reviews", "company_review_votes", "company_review_responses", "outbox")


@pytest.fixture(scope="module")
def topology_env() -> dict[str, str]:
    # Every request of the tests reaches the jobs service from the gateway on 127.0.0.1,
    # so the per-address burst rule would hold every review after the third; that rule is
    # covered by the service's own tests.
    return {"REVIEW_BURST_LIMIT": "1000"}


async def fingerprint(databases: Any, tables: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for table in tables:
        rows = await databases.fetch(
            "jobs",
            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM {table} t",  # noqa: S608
        )
        out[table] = rows[0]["h"]
    return out


def review_body(frontend: Any, **overrides: Any) -> dict[str, Any]:
    """A review with nothing a spam check holds back (its own words, no links)."""
    unique = frontend.word()
    body: dict[str, Any] = {
        "ratings": {
            "overall": 4,
            "work_life_balance": 5,
            "pay_benefits": 3,
            "culture": 4,
            "management": 4,
            "career_growth": 3,
        },
        "title": "Supportive team, steady projects",
        "pros": f"Supportive colleagues who share what they know, flexible hours, a modern office {unique}.",
        "cons": "Promotions take a long time and the budget for training courses was cut again this year.",
        "job_title": "Software Engineer",
        "employment_status": "former",
        "location_state": "NSW",
    }
    body.update(overrides)
    return body


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def people(frontend, employer) -> dict[str, Any]:
    company = await frontend.company_for(employer)
    return {
        "company": company,
        "owner": employer,
        "other_employer": await frontend.signup("employer"),
        "author": await frontend.signup("job_seeker"),
        "voter": await frontend.signup("job_seeker"),
        "admin": await frontend.admin(),
    }


# ---------------------------------------------------------------- reviews


async def test_a_review_is_published_by_moderation_voted_on_and_answered(frontend, people, helpers):
    http = frontend.http
    company_id = people["company"]["id"]
    author, voter, admin = people["author"], people["voter"], people["admin"]
    base = f"/api/v1/companies/{company_id}/reviews"

    # only job seekers review companies
    refused = await http.post(base, json=review_body(frontend), headers=people["owner"].headers)
    helpers.assert_problem(refused, 403)
    helpers.assert_problem(await http.post(base, json=review_body(frontend)), 401)

    r = await http.post(base, json=review_body(frontend, anonymous=True), headers=author.headers)
    assert r.status_code == 201, r.text
    review = r.json()
    assert review["status"] == "pending" and review["author_id"] == author.id  # the author sees themself
    url = f"{base}/{review['id']}"

    # not public until a moderator publishes it
    assert review["id"] not in [x["id"] for x in (await http.get(base)).json()["items"]]
    helpers.assert_problem(await http.get(url), 404)
    helpers.assert_problem(await http.put(f"{url}/vote", headers=voter.headers), 404)

    for who in (author, voter, people["owner"]):
        helpers.assert_problem(
            await http.get("/api/v1/companies/reviews/moderation", headers=who.headers), 403
        )
    queue = await http.get(
        "/api/v1/companies/reviews/moderation", params={"limit": 100}, headers=admin.headers
    )
    assert queue.status_code == 200, queue.text
    [held] = [x for x in queue.json()["items"] if x["id"] == review["id"]]
    assert held["author_id"] == author.id and held["hold_reasons"] == []

    decide = f"/api/v1/companies/reviews/{review['id']}/moderation"
    helpers.assert_problem(
        await http.post(decide, json={"approve": True}, headers=people["owner"].headers), 403
    )
    no_reason = await http.post(decide, json={"approve": False}, headers=admin.headers)
    assert any(e["field"] == "reason" for e in helpers.assert_problem(no_reason, 422)["errors"])
    r = await http.post(decide, json={"approve": True}, headers=admin.headers)
    assert r.status_code == 200 and r.json()["status"] == "published", r.text
    again = await http.post(
        decide, json={"approve": False, "reason": "Changed my mind"}, headers=admin.headers
    )
    helpers.assert_problem(again, 409)

    # published: public, anonymous to everyone else, counted in the summary
    public = await http.get(url)
    assert public.status_code == 200 and public.json()["author_id"] is None, public.text
    assert review["id"] in [x["id"] for x in (await http.get(base)).json()["items"]]
    summary = (await http.get(f"{base}/summary")).json()
    assert summary["review_count"] == 1 and summary["averages"]["overall"] == 4

    # helpful votes: once per person, never on your own review, signed in only
    r = await http.put(f"{url}/vote", headers=voter.headers)
    assert r.status_code == 200 and r.json() == {"review_id": review["id"], "helpful_count": 1, "voted": True}
    r = await http.put(f"{url}/vote", headers=voter.headers)
    assert r.json()["helpful_count"] == 1
    r = await http.put(f"{url}/vote", headers=people["other_employer"].headers)
    assert r.json()["helpful_count"] == 2
    own = await http.put(f"{url}/vote", headers=author.headers)
    assert helpers.assert_problem(own, 403)["type"].endswith("/own-review")
    helpers.assert_problem(await http.put(f"{url}/vote"), 401)
    r = await http.delete(f"{url}/vote", headers=voter.headers)
    assert r.status_code == 200 and r.json()["helpful_count"] == 1 and r.json()["voted"] is False
    assert (await http.get(url)).json()["helpful_count"] == 1

    # the company answers; nobody else can
    answer = {"body": "Thank you for the feedback: we have doubled the training budget for next year."}
    outsider = await http.put(f"{url}/response", json=answer, headers=people["other_employer"].headers)
    helpers.assert_problem(outsider, 403)
    r = await http.put(f"{url}/response", json=answer, headers=people["owner"].headers)
    assert r.status_code == 200, r.text
    assert (await http.get(url)).json()["company_response"]["body"] == answer["body"]


async def test_one_review_per_company_per_year(frontend, people, databases, helpers):
    http = frontend.http
    author = await frontend.signup("job_seeker")
    base = f"/api/v1/companies/{people['company']['id']}/reviews"
    first = await http.post(base, json=review_body(frontend), headers=author.headers)
    assert first.status_code == 201, first.text

    before = await fingerprint(databases, REVIEW_TABLES)
    second = await http.post(
        base, json=review_body(frontend, title="Second thoughts"), headers=author.headers
    )
    problem = helpers.assert_problem(second, 409)
    assert problem["type"].endswith("/review-limit") and int(second.headers["retry-after"]) > 360 * 86400
    assert await fingerprint(databases, REVIEW_TABLES) == before

    # withdrawing the first does not reset the year
    assert (await http.delete(f"{base}/{first.json()['id']}", headers=author.headers)).status_code == 204
    third = await http.post(base, json=review_body(frontend, title="Third time"), headers=author.headers)
    helpers.assert_problem(third, 409)

    # another company is another matter
    other = await frontend.create_company(people["other_employer"], name=f"Other Co {frontend.word()}")
    r = await http.post(
        f"/api/v1/companies/{other['id']}/reviews", json=review_body(frontend), headers=author.headers
    )
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text


async def test_a_rejected_review_stays_private_with_its_reason(frontend, people, helpers):
    http = frontend.http
    author = await frontend.signup("job_seeker")
    base = f"/api/v1/companies/{people['company']['id']}/reviews"
    review = (await http.post(base, json=review_body(frontend), headers=author.headers)).json()
    reason = "Reviews must describe your own experience of working there."
    r = await http.post(
        f"/api/v1/companies/reviews/{review['id']}/moderation",
        json={"approve": False, "reason": reason},
        headers=people["admin"].headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
    helpers.assert_problem(await http.get(f"{base}/{review['id']}"), 404)
    mine = (await http.get("/api/v1/companies/reviews/mine", headers=author.headers)).json()["items"]
    assert [(x["id"], x["status"], x["rejection_reason"]) for x in mine] == [
        (review["id"], "rejected", reason)
    ]


# ---------------------------------------------------------------- media


def picture(fmt: str = "PNG", size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 90)).save(out, fmt)
    return out.getvalue()


async def test_logo_and_image_uploads_and_their_renditions(frontend, people, helpers):
    http = frontend.http
    company_id = people["company"]["id"]
    files = {"file": ("logo.png", picture(), "image/png")}

    for who, status in ((people["other_employer"], 403), (people["author"], 403)):
        helpers.assert_problem(
            await http.put(f"/api/v1/companies/{company_id}/logo", files=files, headers=who.headers), status
        )
    helpers.assert_problem(await http.put(f"/api/v1/companies/{company_id}/logo", files=files), 401)

    r = await http.put(f"/api/v1/companies/{company_id}/logo", files=files, headers=people["owner"].headers)
    assert r.status_code == 200, r.text
    logo = r.json()
    assert logo["kind"] == "logo" and (logo["width"], logo["height"]) == (640, 480)
    assert set(logo["renditions"]) == {"64", "128", "256"}
    rendition = logo["renditions"]["256"]
    served = await http.get(rendition["url"])  # public, through the gateway
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(served.content)).size == (256, 256)
    assert (await http.get(f"/api/v1/companies/{company_id}/logo")).json()["id"] == logo["id"]

    r = await http.post(
        f"/api/v1/companies/{company_id}/images",
        files={"file": ("office.jpg", picture("JPEG", (2000, 1000)), "image/jpeg")},
        data={"alt_text": "Our Parramatta office"},
        headers=people["admin"].headers,
    )
    assert r.status_code == 201, r.text
    image = r.json()
    assert image["alt_text"] == "Our Parramatta office" and set(image["renditions"]) == {
        "480",
        "1024",
        "1600",
    }
    gallery = (await http.get(f"/api/v1/companies/{company_id}/images")).json()
    assert [i["id"] for i in gallery["items"]] == [image["id"]]


@pytest.mark.parametrize(
    ("name", "content", "content_type", "status", "problem_type"),
    [
        (
            "cv.png",
            b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" * 50,
            "image/png",
            415,
            "/unsupported-media-type",
        ),
        ("notes.jpg", b"Not a picture at all.\n" * 100, "image/jpeg", 415, None),
        ("broken.png", picture()[:200], "image/png", 415, None),  # the start of a PNG only
        ("empty.png", b"", "image/png", 415, None),
        ("huge.png", secrets.token_bytes(6 * 1024 * 1024), "image/png", 413, "/file-too-large"),
    ],
)
async def test_uploads_that_are_not_pictures_or_too_large_are_refused(
    frontend, people, databases, helpers, name, content, content_type, status, problem_type
):
    http = frontend.http
    company_id = people["company"]["id"]
    before = await fingerprint(databases, MEDIA_TABLES)
    for method, path in (("PUT", "logo"), ("POST", "images")):
        r = await http.request(
            method,
            f"/api/v1/companies/{company_id}/{path}",
            files={"file": (name, content, content_type)},
            headers=people["owner"].headers,
        )
        problem = helpers.assert_problem(r, status)
        if problem_type:
            assert problem["type"].endswith(problem_type), problem
    assert await fingerprint(databases, MEDIA_TABLES) == before
