"""Admins change roles: audited, effective at the next sign-in, and only by admins."""

from __future__ import annotations


async def test_admin_changes_roles_and_the_user_is_signed_out(auth, h):
    email, user = await h.register(auth, role="job_seeker")
    tokens = await h.login(auth, email)
    admin = await h.make_admin(auth)
    admin_id = h.claims(admin)["sub"]

    r = await auth.put(
        f"/api/v1/auth/users/{user['id']}/roles",
        json={"roles": ["employer", "employer"]},
        headers=h.bearer(admin),
    )
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["employer"]
    # Old sessions end: the refresh token no longer works, the access token is denylisted.
    assert (
        await auth.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 401
    assert (await auth.get("/api/v1/auth/me", headers=h.bearer(tokens))).status_code == 401
    assert h.claims(await h.login(auth, email))["roles"] == ["employer"]

    audit = await auth.get(
        "/api/v1/auth/audit", params={"user_id": user["id"], "kind": "role_changed"}, headers=h.bearer(admin)
    )
    [entry] = audit.json()["items"]
    assert entry["actor_id"] == admin_id
    assert entry["detail"] == {"before": ["job_seeker"], "after": ["employer"]}


async def test_only_admins_change_roles_and_bad_input_changes_nothing(auth, h):
    email, user = await h.register(auth, role="job_seeker")
    seeker = await h.login(auth, email)
    url = f"/api/v1/auth/users/{user['id']}/roles"
    # Not even the user themself may escalate.
    assert (await auth.put(url, json={"roles": ["admin"]}, headers=h.bearer(seeker))).status_code == 403
    admin = await h.make_admin(auth)
    for body in ({"roles": []}, {"roles": ["superuser"]}, {"roles": ["admin"], "extra": 1}):
        r = await auth.put(url, json=body, headers=h.bearer(admin))
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    own = await auth.put(
        f"/api/v1/auth/users/{h.claims(admin)['sub']}/roles",
        json={"roles": ["job_seeker"]},
        headers=h.bearer(admin),
    )
    assert own.status_code == 409
    missing = await auth.put(
        "/api/v1/auth/users/00000000-0000-7000-8000-000000000000/roles",
        json={"roles": ["employer"]},
        headers=h.bearer(admin),
    )
    assert missing.status_code == 404
    me = await auth.get(f"/api/v1/auth/users/{user['id']}", headers=h.bearer(admin))
    assert me.json()["roles"] == ["job_seeker"]
