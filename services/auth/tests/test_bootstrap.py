"""``aujobs-auth grant-admin EMAIL``: the first admin, made from the command line against
the service's real database (and the real Redis for the token denylist)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from aujobs_auth.bootstrap import NoSuchAccount, grant_admin
from aujobs_common.security import MemoryDenylist


async def cli(
    *args: str, database_url: str, redis_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "VIRTUAL_ENV", "TMPDIR"}}
    env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "aujobs_auth", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def role_changes(client, h, user_id: str) -> list[tuple]:
    return await h.sql(
        client,
        "SELECT actor_id, detail FROM audit_log WHERE kind = 'role_changed' AND user_id = CAST(:id AS uuid)",
        id=user_id,
    )


async def test_grant_admin_makes_an_admin_signs_them_out_and_is_audited(redis_auth, redis_url, h):
    email, user = await h.register(redis_auth, role="employer")
    tokens = await h.login(redis_auth, email)
    assert (await redis_auth.get("/api/v1/auth/me", headers=h.bearer(tokens))).status_code == 200

    done = await cli(
        "grant-admin", email.upper(), database_url=redis_auth.settings.database_url, redis_url=redis_url
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert email in done.stdout and "admin" in done.stdout and "1 session" in done.stdout

    # signed out everywhere at once: the access token is denylisted, the refresh token revoked
    me = await redis_auth.get("/api/v1/auth/me", headers=h.bearer(tokens))
    assert me.status_code == 401, me.text
    refresh = await redis_auth.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401, refresh.text

    # the next sign-in carries the new role, which the admin endpoints accept
    again = await h.login(redis_auth, email)
    assert again["user"]["roles"] == ["admin", "employer"]
    assert sorted(h.claims(again)["roles"]) == ["admin", "employer"]
    r = await redis_auth.get(
        "/api/v1/auth/audit", params={"kind": "role_changed", "user_id": user["id"]}, headers=h.bearer(again)
    )
    assert r.status_code == 200, r.text
    [entry] = r.json()["items"]
    assert entry["actor_id"] is None and entry["ip_address"] is None
    assert entry["detail"] == {"before": ["employer"], "after": ["admin", "employer"], "via": "cli"}

    # a second run changes nothing and audits nothing
    twice = await cli(
        "grant-admin", email, database_url=redis_auth.settings.database_url, redis_url=redis_url
    )
    assert twice.returncode == 0 and "already an admin" in twice.stdout, twice.stdout + twice.stderr
    assert len(await role_changes(redis_auth, h, user["id"])) == 1
    assert (await redis_auth.get("/api/v1/auth/me", headers=h.bearer(again))).status_code == 200


async def test_grant_admin_refuses_an_unknown_email_and_changes_nothing(auth, h):
    _, user = await h.register(auth, role="job_seeker")
    before = await h.sql(auth, "SELECT id, roles FROM users ORDER BY id")
    audit_before = await h.sql(auth, "SELECT count(*) FROM audit_log")

    done = await cli("grant-admin", "nobody@example.com.au", database_url=auth.settings.database_url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no account" in done.stdout and "nobody@example.com.au" in done.stdout

    missing = await cli("grant-admin", database_url=auth.settings.database_url)
    assert missing.returncode == 2 and "email" in missing.stderr  # argparse: the argument is required

    assert await h.sql(auth, "SELECT id, roles FROM users ORDER BY id") == before
    assert await h.sql(auth, "SELECT count(*) FROM audit_log") == audit_before
    assert await role_changes(auth, h, user["id"]) == []


async def test_grant_admin_function_denylists_live_tokens_in_the_given_denylist(auth, h):
    """The function the embedded platform and the end-to-end tests call in process."""
    email, user = await h.register(auth, role="job_seeker")
    tokens = await h.login(auth, email)
    denylist = MemoryDenylist()

    granted = await grant_admin(auth.runtime.db, email, denylist=denylist)

    assert granted.changed and granted.roles == ["admin", "job_seeker"] and granted.sessions_revoked == 1
    assert str(granted.user_id) == user["id"]
    assert await denylist.is_revoked(h.claims(tokens)["jti"])
    [(actor, detail)] = await role_changes(auth, h, user["id"])
    assert actor is None and detail["via"] == "cli"
    with pytest.raises(NoSuchAccount):
        await grant_admin(auth.runtime.db, "nobody@example.com.au")
