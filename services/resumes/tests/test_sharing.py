"""Share links on a real database: the owner creates, lists and revokes them; anyone
holding a live link reads the file (or its structured data) without signing in, every
access is counted, and an unknown, revoked or expired link is one and the same 404."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from aujobs_resumes.models import ShareLink

from .support import PDF, is_problem, make_pdf, new_resume, parsed_resume, parser, seeker


def same_404(response):
    """The one answer for every link that does not work, with the privacy headers."""
    body = is_problem(response, 404, "share-link-not-found")
    assert response.headers["cache-control"] == "private, no-store"
    assert "noindex" in response.headers["x-robots-tag"]
    return (body["type"], body["title"], body["detail"], response.headers["content-type"])


async def test_share_link_lifecycle(api):
    me = seeker(api)
    data = make_pdf()
    resume = await new_resume(api, me, data, filename="Charlotte CV.pdf")
    rid, vid = resume["id"], resume["versions"][0]["id"]

    r = await api.post(f"/api/v1/resumes/{rid}/versions/{vid}/share", json={}, headers=me)
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["url"] == f"/api/v1/resumes/shared/{link['token']}"
    assert len(link["token"]) >= 40 and link["active"] is True
    assert link["version_id"] == vid and link["access_count"] == 0
    days = (api.clock.now.__class__.fromisoformat(link["expires_at"]) - api.clock.now).days
    assert days == 14

    # only the hash is stored
    async with api.app.state.runtime.db.session() as session:
        stored = (await session.scalars(sa.select(ShareLink.token_hash))).all()
    assert stored == [hashlib.sha256(link["token"].encode()).hexdigest()]

    # anyone with the link, no token needed
    r = await api.get(link["url"])
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == PDF
    assert r.headers["cache-control"] == "private, no-store"
    assert "noindex" in r.headers["x-robots-tag"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"].startswith("attachment;")

    # the structured data once parsed
    is_problem(await api.get(link["url"], params={"format": "json"}), 409, "resume-not-parsed")
    parser(api).parse = lambda data, kind: parsed_resume(["Python"])
    await parser(api).run_once()
    r = await api.get(link["url"], params={"format": "json"})
    assert r.status_code == 200 and r.json()["skills"] == ["Python"]
    assert r.headers["cache-control"] == "private, no-store"

    r = await api.get(f"/api/v1/resumes/{rid}/shares", headers=me)
    (listed,) = r.json()
    assert "token" not in listed and "url" not in listed
    assert listed["access_count"] == 2 and listed["last_accessed_at"] is not None

    unknown = same_404(await api.get("/api/v1/resumes/shared/" + "A" * 43))
    assert same_404(await api.get("/api/v1/resumes/shared/short")) == unknown

    # revoked: gone, and looks like any unknown link
    r = await api.delete(f"/api/v1/resumes/{rid}/shares/{link['id']}", headers=me)
    assert r.status_code == 204
    assert same_404(await api.get(link["url"])) == unknown
    assert same_404(await api.get(link["url"], params={"format": "json"})) == unknown
    r = await api.get(f"/api/v1/resumes/{rid}/shares", headers=me)
    assert r.json()[0]["active"] is False and r.json()[0]["revoked_at"] is not None
    assert r.json()[0]["access_count"] == 2


async def test_a_link_expires(api):
    me = seeker(api)
    resume = await new_resume(api, me)
    rid, vid = resume["id"], resume["versions"][0]["id"]
    r = await api.post(f"/api/v1/resumes/{rid}/versions/{vid}/share", json={"expires_in_days": 2}, headers=me)
    url = r.json()["url"]
    api.clock.advance(days=1, hours=23)
    assert (await api.get(url)).status_code == 200
    api.clock.advance(hours=1)
    unknown = same_404(await api.get("/api/v1/resumes/shared/" + "B" * 43))
    assert same_404(await api.get(url)) == unknown
    r = await api.get(f"/api/v1/resumes/{rid}/shares", headers=me)
    assert r.json()[0]["active"] is False and r.json()[0]["access_count"] == 1


async def test_link_lifetimes_are_bounded_and_links_are_only_for_my_versions(api):
    me = seeker(api)
    resume = await new_resume(api, me)
    rid, vid = resume["id"], resume["versions"][0]["id"]
    for days in (0, 91):
        r = await api.post(
            f"/api/v1/resumes/{rid}/versions/{vid}/share", json={"expires_in_days": days}, headers=me
        )
        is_problem(r, 422, "validation-error")
    other = await new_resume(api, me, make_pdf(["other"]))
    r = await api.post(
        f"/api/v1/resumes/{rid}/versions/{other['versions'][0]['id']}/share", json={}, headers=me
    )
    is_problem(r, 404, "version-not-found")
    is_problem(await api.delete(f"/api/v1/resumes/{other['id']}/shares/{rid}", headers=me), 404)


async def test_a_link_dies_with_its_resume(api):
    me = seeker(api)
    resume = await new_resume(api, me)
    r = await api.post(
        f"/api/v1/resumes/{resume['id']}/versions/{resume['versions'][0]['id']}/share", headers=me
    )
    url = r.json()["url"]
    assert (await api.get(url)).status_code == 200
    assert (await api.delete(f"/api/v1/resumes/{resume['id']}", headers=me)).status_code == 204
    same_404(await api.get(url))


async def test_live_links_per_resume_are_limited(start_resumes):
    tokens, service = start_resumes(share_links_per_resume_max=2)
    async with service as api:
        api.tokens = tokens
        me = seeker(api)
        resume = await new_resume(api, me)
        url = f"/api/v1/resumes/{resume['id']}/versions/{resume['versions'][0]['id']}/share"
        first = (await api.post(url, headers=me)).json()
        assert (await api.post(url, headers=me)).status_code == 201
        is_problem(await api.post(url, headers=me), 409, "share-limit-reached")
        await api.delete(f"/api/v1/resumes/{resume['id']}/shares/{first['id']}", headers=me)
        assert (await api.post(url, headers=me)).status_code == 201
