"""Password reset and change."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

NEW_PASSWORD = "platypus marmalade orbit"


async def test_reset_flow_signs_out_everywhere(auth, h):
    email, user = await h.register(auth)
    laptop = await h.login(auth, email)
    phone = await h.login(auth, email)

    known = await auth.post("/api/v1/auth/request-reset", json={"email": email.upper()})
    unknown = await auth.post("/api/v1/auth/request-reset", json={"email": h.new_email()})
    assert known.status_code == unknown.status_code == 202 and known.json() == unknown.json()
    [requested] = await h.wait_events(auth, "password_reset_requested")
    data = requested.data
    assert data["email"] == email and data["user_id"] == user["id"]
    assert timedelta(hours=23, minutes=59) < datetime.fromisoformat(data["expires_at"]) - datetime.now(UTC)
    stored = await h.sql(auth, "SELECT token_hash FROM one_time_tokens WHERE purpose = 'reset_password'")
    assert [r[0] for r in stored] == [hashlib.sha256(data["token"].encode()).hexdigest()]

    weak = await auth.post(f"/api/v1/auth/reset-password/{data['token']}", json={"password": "Password2026!"})
    assert weak.status_code == 422 and weak.json()["type"].endswith("weak-password")

    r = await auth.post(f"/api/v1/auth/reset-password/{data['token']}", json={"password": NEW_PASSWORD})
    assert r.status_code == 204, r.text
    for tokens in (laptop, phone):
        assert (await auth.get("/api/v1/auth/me", headers=h.bearer(tokens))).status_code == 401
        refresh = await auth.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refresh.status_code == 401
    old = await auth.post("/api/v1/auth/login", json={"email": email, "password": h.PASSWORD})
    assert old.status_code == 401
    assert (await h.login(auth, email, NEW_PASSWORD))["user"]["id"] == user["id"]
    [alert] = await h.wait_events(auth, "security_alert", email=email, kind="password_reset")
    assert alert.data["user_id"] == user["id"]

    again = await auth.post(
        f"/api/v1/auth/reset-password/{data['token']}", json={"password": NEW_PASSWORD + "!"}
    )
    assert again.status_code == 400 and again.json()["type"].endswith("reset-token-used")
    bogus = await auth.post("/api/v1/auth/reset-password/" + "y" * 43, json={"password": NEW_PASSWORD})
    assert bogus.status_code == 404


async def test_reset_token_expires_and_a_new_request_replaces_it(auth, h):
    email, _ = await h.register(auth)
    await auth.post("/api/v1/auth/request-reset", json={"email": email})
    await auth.post("/api/v1/auth/request-reset", json={"email": email})
    first, second = (e.data["token"] for e in await h.wait_events(auth, "password_reset_requested", count=2))
    r = await auth.post(f"/api/v1/auth/reset-password/{first}", json={"password": NEW_PASSWORD})
    assert r.status_code == 400  # superseded
    await h.sql(auth, "UPDATE one_time_tokens SET expires_at = now() - interval '1 second'")
    r = await auth.post(f"/api/v1/auth/reset-password/{second}", json={"password": NEW_PASSWORD})
    assert r.status_code == 410 and r.json()["type"].endswith("reset-token-expired")
    await h.login(auth, email)  # unchanged


async def test_change_password(auth, h):
    email, current = await h.signup(auth)
    other = await h.login(auth, email)
    wrong = await auth.post(
        "/api/v1/auth/change-password",
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=h.bearer(current),
    )
    assert wrong.status_code == 400 and wrong.json()["type"].endswith("invalid-current-password")
    weak = await auth.post(
        "/api/v1/auth/change-password",
        json={"current_password": h.PASSWORD, "new_password": "qwertyuiop12"},
        headers=h.bearer(current),
    )
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "new_password"
    ok = await auth.post(
        "/api/v1/auth/change-password",
        json={"current_password": h.PASSWORD, "new_password": NEW_PASSWORD},
        headers=h.bearer(current),
    )
    assert ok.status_code == 204, ok.text
    assert (await auth.get("/api/v1/auth/me", headers=h.bearer(current))).status_code == 200
    assert (await auth.get("/api/v1/auth/me", headers=h.bearer(other))).status_code == 401
    await h.login(auth, email, NEW_PASSWORD)
    await h.wait_events(auth, "security_alert", email=email, kind="password_changed")
