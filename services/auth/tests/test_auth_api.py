"""Auth service API against a real PostgreSQL database: registration, sign-in, refresh,
the user object, keys. (Fixtures in conftest.py.)"""

from __future__ import annotations

import uuid

import pytest
from jose import jwt

from aujobs_common.testing.waiting import eventually


def _email() -> str:
    return f"user-{uuid.uuid4().hex[:8]}@example.com.au"


async def register(client, email=None, role="employer", password="correct horse battery"):
    email = email or _email()
    r = await client.post("/api/v1/auth/register", json={"email": email, "password": password, "role": role})
    return email, r


async def test_register_login_me_and_user_registered_event(auth):
    email, r = await register(auth, role="job_seeker")
    assert r.status_code == 201, r.text
    user = r.json()
    assert user["email"] == email and user["roles"] == ["job_seeker"] and user["email_verified"] is False
    assert set(user) == {"id", "email", "roles", "email_verified", "two_factor_enabled", "created_at"}
    assert "password" not in r.text and "hash" not in r.text

    r = await auth.post(
        "/api/v1/auth/login", json={"email": email.upper(), "password": "correct horse battery"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"] == user and body["token_type"] == "bearer"
    assert body["two_factor_required"] is False

    jwks = (await auth.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256" and header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert all("d" not in k for k in jwks["keys"]), "private key material must never be published"

    me = await auth.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json() == user

    events = await eventually(lambda: [e for e in auth.events if e.type == "au.jobs.user.registered.v1"])
    assert len(events) == 1 and events[0].data["user_id"] == user["id"]


async def test_password_is_stored_as_argon2id(auth, fresh_database_url):
    import asyncpg

    from aujobs_common.pg import to_asyncpg_dsn

    email, _ = await register(auth)
    conn = await asyncpg.connect(to_asyncpg_dsn(fresh_database_url))
    try:
        stored = await conn.fetchval("SELECT password_hash FROM users WHERE email = $1", email)
    finally:
        await conn.close()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "not-an-email", "password": "long enough password", "role": "employer"}, "email"),
        ({"email": "a@example.com", "password": "short", "role": "employer"}, "password"),
        ({"email": "a@example.com", "password": "long enough password", "role": "admin"}, "role"),
        (
            {
                "email": "a@example.com",
                "password": "long enough password",
                "role": "employer",
                "roles": ["admin"],
            },
            "roles",
        ),
    ],
)
async def test_invalid_registration_is_a_problem_and_creates_nothing(auth, body, field):
    r = await auth.post("/api/v1/auth/register", json=body)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 422 and any(e["field"] == field for e in problem["errors"])
    login = await auth.post(
        "/api/v1/auth/login", json={"email": "a@example.com", "password": "long enough password"}
    )
    assert login.status_code == 401


async def test_duplicate_email_conflicts(auth):
    email, r = await register(auth)
    assert r.status_code == 201
    _, again = await register(auth, email=email.upper())
    assert again.status_code == 409 and again.json()["type"].endswith("email-taken")


async def test_idempotent_registration_replays_first_result(auth):
    email = _email()
    body = {"email": email, "password": "correct horse battery", "role": "employer"}
    first = await auth.post("/api/v1/auth/register", json=body, headers={"Idempotency-Key": "reg-1"})
    second = await auth.post("/api/v1/auth/register", json=body, headers={"Idempotency-Key": "reg-1"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers.get("idempotent-replayed") == "true"


async def test_wrong_password_and_unknown_email_look_the_same(auth):
    email, _ = await register(auth)
    wrong = await auth.post("/api/v1/auth/login", json={"email": email, "password": "not the password!"})
    unknown = await auth.post("/api/v1/auth/login", json={"email": _email(), "password": "not the password!"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_refresh_rotates_and_reuse_revokes_family(auth):
    email, _ = await register(auth)
    tokens = (
        await auth.post("/api/v1/auth/login", json={"email": email, "password": "correct horse battery"})
    ).json()
    r1 = await auth.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r1.status_code == 200
    rotated = r1.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    # The first token again: theft is assumed, the whole family is revoked.
    reuse = await auth.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reuse.status_code == 401 and reuse.json()["type"].endswith("refresh-token-reused")
    after = await auth.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401


async def test_me_rejects_missing_and_tampered_tokens(auth):
    email, _ = await register(auth)
    tokens = (
        await auth.post("/api/v1/auth/login", json={"email": email, "password": "correct horse battery"})
    ).json()
    assert (await auth.get("/api/v1/auth/me")).status_code == 401
    head, payload, sig = tokens["access_token"].split(".")
    tampered = f"{head}.{payload}.{sig[:-4]}AAAA"
    r = await auth.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tampered}"})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")


async def test_key_rotation_publishes_new_key_before_it_signs(auth):
    keys = auth._transport.app.state.runtime.extras["keys"]  # type: ignore[attr-defined]
    before = {k["kid"] for k in (await auth.get("/.well-known/jwks.json")).json()["keys"]}
    new_kid = await keys.rotate()
    published = {k["kid"] for k in (await auth.get("/.well-known/jwks.json")).json()["keys"]}
    assert new_kid in published and before <= published
    email, _ = await register(auth)
    tokens = (
        await auth.post("/api/v1/auth/login", json={"email": email, "password": "correct horse battery"})
    ).json()
    # Not active yet: the old key still signs.
    assert jwt.get_unverified_header(tokens["access_token"])["kid"] in before
