"""Email verification: the token issued at registration, verify, resend, reminders."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta


async def test_registration_issues_a_verification_token_that_works_once(auth, h):
    email, user = await h.register(auth)
    [requested] = await h.wait_events(auth, "email_verification_requested", email=email)
    data = requested.data
    assert data["user_id"] == user["id"] and data["reminder"] is False and len(data["token"]) >= 40
    expires = datetime.fromisoformat(data["expires_at"])
    assert timedelta(hours=23, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=24)
    # Only the hash is stored.
    stored = await h.sql(auth, "SELECT token_hash FROM one_time_tokens WHERE purpose = 'verify_email'")
    assert [row[0] for row in stored] == [hashlib.sha256(data["token"].encode()).hexdigest()]

    tokens = await h.login(auth, email)  # unverified users can sign in
    assert h.claims(tokens)["email_verified"] is False and tokens["user"]["email_verified"] is False

    r = await auth.get(f"/api/v1/auth/verify-email/{data['token']}")
    assert r.status_code == 200, r.text
    assert r.json()["email_verified"] is True and r.json()["id"] == user["id"]
    [verified] = await h.wait_events(auth, "email_verified", email=email)
    assert verified.data["user_id"] == user["id"] and verified.data["verified_at"]

    again = await auth.post(f"/api/v1/auth/verify-email/{data['token']}")
    assert again.status_code == 400 and again.json()["type"].endswith("verification-token-used")
    unknown = await auth.post("/api/v1/auth/verify-email/" + "x" * 43)
    assert unknown.status_code == 404 and unknown.json()["type"].endswith("verification-token-invalid")

    # New tokens say so.
    refreshed = (
        await auth.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).json()
    assert h.claims(refreshed)["email_verified"] is True and refreshed["user"]["email_verified"] is True
    assert len(h.events_of(auth, "email_verified")) == 1


async def test_an_expired_token_is_a_clear_410(auth, h):
    email, _ = await h.register(auth)
    token = await h.verification_token(auth, email)
    await h.sql(auth, "UPDATE one_time_tokens SET expires_at = now() - interval '1 minute'")
    r = await auth.get(f"/api/v1/auth/verify-email/{token}")
    assert r.status_code == 410 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("verification-token-expired") and "expired" in problem["detail"]
    me = (await auth.get("/api/v1/auth/me", headers=h.bearer(await h.login(auth, email)))).json()
    assert me["email_verified"] is False


async def test_resend_always_answers_202_and_sends_only_when_needed(auth, h):
    email, _ = await h.register(auth)
    verified_email, _ = await h.register(auth)
    await auth.get(f"/api/v1/auth/verify-email/{await h.verification_token(auth, verified_email)}")
    await h.wait_events(auth, "email_verified", email=verified_email)

    answers = [
        await auth.post("/api/v1/auth/resend-verification", json={"email": who})
        for who in (email.upper(), h.new_email(), verified_email)
    ]
    assert {r.status_code for r in answers} == {202} and len({r.text for r in answers}) == 1
    sent = await h.wait_events(auth, "email_verification_requested", count=2, email=email)
    assert len(sent) == 2 and sent[0].data["token"] != sent[1].data["token"]
    # Either link works.
    assert (await auth.post(f"/api/v1/auth/verify-email/{sent[0].data['token']}")).status_code == 200
    assert (await auth.post(f"/api/v1/auth/verify-email/{sent[1].data['token']}")).status_code == 200
    assert len(await h.wait_events(auth, "email_verified", email=email)) == 1
    assert len(h.events_of(auth, "email_verification_requested", email=verified_email)) == 1


async def test_reminders_go_once_to_users_still_unverified(auth, h):
    late, late_user = await h.register(auth)
    done, _ = await h.register(auth)
    await auth.get(f"/api/v1/auth/verify-email/{await h.verification_token(auth, done)}")
    maintenance = auth.runtime.extras["maintenance"]

    assert await maintenance.send_due_reminders() == 0  # not due yet
    later = datetime.now(UTC) + timedelta(hours=48, minutes=1)
    assert await maintenance.send_due_reminders(now=later) == 1
    assert await maintenance.send_due_reminders(now=later + timedelta(days=3)) == 0  # once per user

    reminders = await h.wait_events(auth, "email_verification_requested", count=2, email=late)
    reminder = reminders[-1].data
    assert reminder["reminder"] is True and reminder["user_id"] == late_user["id"]
    assert datetime.fromisoformat(reminder["expires_at"]) == later + timedelta(hours=24)
    assert not [
        e for e in h.events_of(auth, "email_verification_requested", email=done) if e.data["reminder"]
    ]
    # The reminder's link works.
    r = await auth.get(f"/api/v1/auth/verify-email/{reminder['token']}")
    assert r.status_code == 200 and r.json()["email_verified"] is True
