"""Sessions, logout and the access-token denylist."""

from __future__ import annotations

from datetime import datetime

import pytest
from redis.asyncio import Redis


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_logout_revokes_session_and_denylists_access_token(start_auth, redis_url, h, backend):
    overrides = {"redis_url": redis_url} if backend == "redis" else {}
    async with start_auth(**overrides) as auth:
        email, _ = await h.register(auth)
        tokens = await h.login(auth, email)
        other = await h.login(auth, email)  # another device: stays signed in
        sid = h.claims(tokens)["sid"]
        sessions = (await auth.get("/api/v1/auth/sessions", headers=h.bearer(tokens))).json()["items"]
        assert {s["id"] for s in sessions if s["current"]} == {sid}

        r = await auth.post(
            "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=h.bearer(tokens)
        )
        assert r.status_code == 204, r.text
        me = await auth.get("/api/v1/auth/me", headers=h.bearer(tokens))
        assert me.status_code == 401 and me.json()["detail"] == "token has been revoked"
        refresh = await auth.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refresh.status_code == 401
        assert (await auth.get("/api/v1/auth/me", headers=h.bearer(other))).status_code == 200

        if backend == "redis":
            redis = Redis.from_url(redis_url)
            try:
                ttl = await redis.ttl(f"aujobs:denylist:{h.claims(tokens)['jti']}")
            finally:
                await redis.aclose()
            assert 900 <= ttl <= 900 + 61  # until the token expires, plus the clock-skew margin


async def test_logout_needs_a_token(auth):
    r = await auth.post("/api/v1/auth/logout")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")


async def test_sessions_list_revoke_one_and_all(auth, h):
    email, _ = await h.register(auth)
    laptop = await h.login(auth, email, ua=h.CHROME, ip="203.0.113.7")
    phone = await h.login(auth, email, ua=h.IPHONE, ip="198.51.100.20")

    page = (await auth.get("/api/v1/auth/sessions", headers=h.bearer(laptop))).json()
    by_id = {s["id"]: s for s in page["items"]}
    assert len(by_id) == 2 and page["next_cursor"] is None
    mine = by_id[h.claims(laptop)["sid"]]
    assert mine["current"] is True and mine["device"] == "Chrome 131 on Windows"
    assert mine["ip_address"] == "203.0.113.7" and mine["created_at"] and mine["last_used_at"]
    theirs = by_id[h.claims(phone)["sid"]]
    assert theirs["current"] is False and theirs["device"] == "Safari 17 on iPhone"

    first = await auth.get("/api/v1/auth/sessions", params={"limit": 1}, headers=h.bearer(laptop))
    second = await auth.get(
        "/api/v1/auth/sessions",
        params={"limit": 1, "cursor": first.json()["next_cursor"]},
        headers=h.bearer(laptop),
    )
    assert {first.json()["items"][0]["id"], second.json()["items"][0]["id"]} == set(by_id)

    # Refreshing keeps the session and moves "last used".
    rotated = (
        await auth.post(
            "/api/v1/auth/refresh",
            json={"refresh_token": phone["refresh_token"]},
            headers={"X-Real-IP": "198.51.100.21"},
        )
    ).json()
    assert h.claims(rotated)["sid"] == theirs["id"]
    again = {
        s["id"]: s
        for s in (await auth.get("/api/v1/auth/sessions", headers=h.bearer(laptop))).json()["items"]
    }
    moved = datetime.fromisoformat(again[theirs["id"]]["last_used_at"])
    assert moved > datetime.fromisoformat(theirs["last_used_at"])
    assert again[theirs["id"]]["ip_address"] == "198.51.100.21"

    # Someone else cannot see or touch them.
    _, stranger = await h.signup(auth)
    assert (
        await auth.delete(f"/api/v1/auth/sessions/{theirs['id']}", headers=h.bearer(stranger))
    ).status_code == 404
    assert (await auth.get("/api/v1/auth/sessions", headers=h.bearer(stranger))).json()["items"][0][
        "id"
    ] != theirs["id"]
    assert (await auth.get("/api/v1/auth/me", headers=h.bearer(rotated))).status_code == 200

    # Revoke the phone from the laptop: its refresh and access tokens stop working.
    r = await auth.delete(f"/api/v1/auth/sessions/{theirs['id']}", headers=h.bearer(laptop))
    assert r.status_code == 204
    assert (
        await auth.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    ).status_code == 401
    assert (await auth.get("/api/v1/auth/me", headers=h.bearer(rotated))).status_code == 401
    left = (await auth.get("/api/v1/auth/sessions", headers=h.bearer(laptop))).json()["items"]
    assert [s["id"] for s in left] == [mine["id"]]

    # Revoke all: this one too, and the owner hears about it.
    tablet = await h.login(auth, email)
    r = await auth.post("/api/v1/auth/sessions/revoke-all", headers=h.bearer(laptop))
    assert r.status_code == 204
    for tokens in (laptop, tablet):
        assert (await auth.get("/api/v1/auth/me", headers=h.bearer(tokens))).status_code == 401
        refresh = await auth.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refresh.status_code == 401
    alert = await h.wait_events(auth, "security_alert", email=email, kind="all_sessions_revoked")
    assert alert[0].data["user_id"] == laptop["user"]["id"]


async def test_revoke_all_can_keep_the_current_session(auth, h):
    email, current = await h.signup(auth)
    other = await h.login(auth, email)
    r = await auth.post(
        "/api/v1/auth/sessions/revoke-all", params={"keep_current": "true"}, headers=h.bearer(current)
    )
    assert r.status_code == 204
    assert (await auth.get("/api/v1/auth/me", headers=h.bearer(current))).status_code == 200
    assert (await auth.get("/api/v1/auth/me", headers=h.bearer(other))).status_code == 401


async def test_unknown_session_is_404(auth, h):
    _, tokens = await h.signup(auth)
    r = await auth.delete(
        "/api/v1/auth/sessions/0190f0d2-0000-7000-8000-000000000000", headers=h.bearer(tokens)
    )
    assert r.status_code == 404 and r.json()["type"].endswith("session-not-found")
