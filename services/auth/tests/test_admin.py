"""The audit log and signing-key rotation (admin only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from jose import jwt

from aujobs_common.testing.waiting import eventually


async def _audit(auth, h, admin, **params):
    r = await auth.get("/api/v1/auth/audit", params=params, headers=h.bearer(admin))
    assert r.status_code == 200, r.text
    return r.json()


async def test_audit_log_records_security_events_for_admins_only(auth, h):
    ua = {"User-Agent": h.CHROME, "X-Real-IP": "203.0.113.9"}
    email, user = await h.register(auth)
    await auth.post("/api/v1/auth/login", json={"email": email, "password": "wrong password!"}, headers=ua)
    tokens = await h.login(auth, email, ua=h.CHROME, ip="203.0.113.9")
    await auth.post("/api/v1/auth/request-reset", json={"email": email})
    await auth.get(f"/api/v1/auth/verify-email/{await h.verification_token(auth, email)}")
    await auth.post("/api/v1/auth/logout", headers={**h.bearer(tokens), **ua})
    admin = await h.make_admin(auth)

    entries = (await _audit(auth, h, admin, user_id=user["id"], limit=100))["items"]
    kinds = [e["kind"] for e in entries]
    assert kinds == [  # newest first
        "logout",
        "email_verified",
        "password_reset_requested",
        "login_succeeded",
        "login_failed",
        "email_verification_sent",
        "user_registered",
    ]
    login_ok = next(e for e in entries if e["kind"] == "login_succeeded")
    assert login_ok["ip_address"] == "203.0.113.9" and login_ok["user_agent"] == h.CHROME
    assert login_ok["detail"] == {"method": "password"}
    # Failures are recorded with the email typed, known or not.
    await auth.post("/api/v1/auth/login", json={"email": "nobody@example.com.au", "password": "guess guess!"})
    failed = (await _audit(auth, h, admin, kind="login_failed"))["items"]
    assert [(e["detail"]["email"], e["user_id"]) for e in failed] == [
        ("nobody@example.com.au", None),
        (email, user["id"]),
    ]

    dump = json.dumps(entries)
    for secret in (h.PASSWORD, "wrong password!", tokens["access_token"], tokens["refresh_token"]):
        assert secret not in dump

    # Filters and pages.
    since = await _audit(auth, h, admin, since=(datetime.now(UTC) + timedelta(minutes=1)).isoformat())
    assert since["items"] == []
    several = await _audit(auth, h, admin, kind=["login_succeeded", "logout"], user_id=user["id"])
    assert {e["kind"] for e in several["items"]} == {"login_succeeded", "logout"}
    first = await _audit(auth, h, admin, limit=2)
    second = await _audit(auth, h, admin, limit=2, cursor=first["next_cursor"])
    assert len(first["items"]) == len(second["items"]) == 2
    assert not {e["id"] for e in first["items"]} & {e["id"] for e in second["items"]}
    assert first["items"][-1]["id"] > second["items"][0]["id"]

    # Not for anyone else.
    r = await auth.get("/api/v1/auth/audit", headers=h.bearer(await h.login(auth, email)))
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert (await auth.get("/api/v1/auth/audit")).status_code == 401
    bad = await auth.get("/api/v1/auth/audit", params={"cursor": "bm90LWpzb24"}, headers=h.bearer(admin))
    assert bad.status_code == 400


async def test_admin_rotates_signing_keys(auth, h):
    _, seeker = await h.signup(auth, role="job_seeker")
    assert (await auth.post("/api/v1/auth/keys/rotate", headers=h.bearer(seeker))).status_code == 403
    admin = await h.make_admin(auth)
    before = {k["kid"] for k in (await auth.get("/.well-known/jwks.json")).json()["keys"]}
    r = await auth.post("/api/v1/auth/keys/rotate", headers=h.bearer(admin))
    assert r.status_code == 200, r.text
    new = r.json()
    assert datetime.fromisoformat(new["activates_at"]) > datetime.now(UTC) + timedelta(minutes=9)
    published = {k["kid"] for k in (await auth.get("/.well-known/jwks.json")).json()["keys"]}
    assert published == before | {new["kid"]}
    # Published first; the old key signs until the new one activates.
    assert jwt.get_unverified_header(admin["access_token"])["kid"] in before
    audit = await _audit(auth, h, admin, kind="signing_key_rotated")
    assert audit["items"][0]["detail"] == {"kid": new["kid"], "reason": "manual"}
    assert audit["items"][0]["actor_id"] == admin["user"]["id"]


async def test_keys_rotate_when_too_old(auth, h):
    maintenance = auth.runtime.extras["maintenance"]
    assert await maintenance.rotate_keys_if_due() is None  # the key is new
    kid = await maintenance.rotate_keys_if_due(now=datetime.now(UTC) + timedelta(days=31))
    assert kid is not None
    assert kid in {k["kid"] for k in (await auth.get("/.well-known/jwks.json")).json()["keys"]}
    assert await maintenance.rotate_keys_if_due() is None  # the newest key is new again
    admin = await h.make_admin(auth)
    audit = await _audit(auth, h, admin, kind="signing_key_rotated")
    assert audit["items"][0]["detail"] == {"kid": kid, "reason": "scheduled"}


async def test_the_periodic_loop_rotates_and_reminds(start_auth, h):
    async with start_auth(
        maintenance_interval_seconds=0.05,
        signing_key_max_age_days=1 / 86400,  # one second
        verification_reminder_after_hours=0,
        signing_key_bits=1024,
    ) as auth:
        email, _ = await h.register(auth)
        await h.wait_events(auth, "email_verification_requested", count=2, email=email)
        assert h.events_of(auth, "email_verification_requested", email=email)[-1].data["reminder"] is True

        async def keys() -> set[str]:
            return {k["kid"] for k in (await auth.get("/.well-known/jwks.json")).json()["keys"]}

        await eventually(lambda: _more_than_one(keys))


async def _more_than_one(keys) -> bool:
    return len(await keys()) > 1
