"""Two-factor sign-in with TOTP and recovery codes."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pyotp


def code(secret: str, *, steps_ahead: int = 0) -> str:
    """A code from the authenticator app (``steps_ahead``: a later 30 s step, which the
    service accepts within its one-step drift window — a code is never accepted twice)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


async def _challenge(auth, h, email: str, password: str | None = None) -> str:
    r = await auth.post("/api/v1/auth/login", json={"email": email, "password": password or h.PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["two_factor_required"] is True and "access_token" not in body
    assert body["expires_in"] == 300
    return body["challenge_token"]


async def _enable(auth, h, tokens) -> tuple[str, list[str]]:
    setup = await auth.post("/api/v1/auth/2fa/setup", headers=h.bearer(tokens))
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    r = await auth.post("/api/v1/auth/2fa/enable", json={"code": code(secret)}, headers=h.bearer(tokens))
    assert r.status_code == 200, r.text
    return secret, r.json()["recovery_codes"]


async def test_two_factor_full_flow(auth, h):
    email, tokens = await h.signup(auth)

    setup = await auth.post("/api/v1/auth/2fa/setup", headers=h.bearer(tokens))
    assert setup.status_code == 200, setup.text
    secret, uri = setup.json()["secret"], setup.json()["otpauth_uri"]
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp" and email in uri.replace("%40", "@")
    assert parse_qs(parts.query)["secret"] == [secret] and parse_qs(parts.query)["issuer"] == [
        "Australia Jobs"
    ]
    # Not on until a code confirms it.
    assert (await auth.get("/api/v1/auth/me", headers=h.bearer(tokens))).json()["two_factor_enabled"] is False
    stored = await h.sql(auth, "SELECT totp_secret_encrypted FROM users WHERE email = :e", e=email)
    assert secret.encode() not in bytes(stored[0][0])  # encrypted at rest

    wrong = await auth.post("/api/v1/auth/2fa/enable", json={"code": "000000"}, headers=h.bearer(tokens))
    assert wrong.status_code == 400 and wrong.json()["type"].endswith("invalid-two-factor-code")
    r = await auth.post(
        "/api/v1/auth/2fa/enable", json={"code": pyotp.TOTP(secret).now()}, headers=h.bearer(tokens)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    recovery = body["recovery_codes"]
    assert len(recovery) == 10 and len(set(recovery)) == 10 and body["user"]["two_factor_enabled"] is True
    stored = await h.sql(auth, "SELECT code_hash FROM recovery_codes")
    assert len(stored) == 10 and not {c.replace("-", "") for c in recovery} & {row[0] for row in stored}
    await h.wait_events(auth, "security_alert", email=email, kind="two_factor_enabled")
    again = await auth.post("/api/v1/auth/2fa/setup", headers=h.bearer(tokens))
    assert again.status_code == 409

    # Sign-in now takes two steps.
    challenge = await _challenge(auth, h, email)
    bad = await auth.post("/api/v1/auth/login/2fa", json={"challenge_token": challenge, "code": "123456"})
    assert bad.status_code == 401 and bad.json()["type"].endswith("invalid-two-factor-code")
    good_code = code(secret, steps_ahead=1)
    ok = await auth.post("/api/v1/auth/login/2fa", json={"challenge_token": challenge, "code": good_code})
    assert ok.status_code == 200, ok.text
    signed_in = ok.json()
    assert signed_in["user"]["two_factor_enabled"] is True
    assert (await auth.get("/api/v1/auth/me", headers=h.bearer(signed_in))).status_code == 200
    # The challenge is single use, and so is the code.
    reused = await auth.post("/api/v1/auth/login/2fa", json={"challenge_token": challenge, "code": good_code})
    assert reused.status_code == 401 and reused.json()["type"].endswith("invalid-challenge")
    replay = await auth.post(
        "/api/v1/auth/login/2fa",
        json={"challenge_token": await _challenge(auth, h, email), "code": good_code},
    )
    assert replay.status_code == 401

    # A recovery code works once.
    ok = await auth.post(
        "/api/v1/auth/login/2fa",
        json={"challenge_token": await _challenge(auth, h, email), "recovery_code": recovery[0].upper()},
    )
    assert ok.status_code == 200, ok.text
    twice = await auth.post(
        "/api/v1/auth/login/2fa",
        json={"challenge_token": await _challenge(auth, h, email), "recovery_code": recovery[0]},
    )
    assert twice.status_code == 401

    # Turning it off needs proof.
    wrong = await auth.post(
        "/api/v1/auth/2fa/disable", json={"password": "not my password"}, headers=h.bearer(tokens)
    )
    assert wrong.status_code == 400
    neither = await auth.post("/api/v1/auth/2fa/disable", json={}, headers=h.bearer(tokens))
    assert neither.status_code == 422
    off = await auth.post("/api/v1/auth/2fa/disable", json={"password": h.PASSWORD}, headers=h.bearer(tokens))
    assert off.status_code == 200 and off.json()["two_factor_enabled"] is False
    await h.wait_events(auth, "security_alert", email=email, kind="two_factor_disabled")
    plain = await h.login(auth, email)
    assert plain["two_factor_required"] is False and plain["access_token"]
    assert not await h.sql(auth, "SELECT 1 FROM recovery_codes")

    alerts = h.events_of(auth, "security_alert", email=email)
    assert all("secret" not in str(e.data) and secret not in str(e.data) for e in alerts)


async def test_disable_with_a_recovery_code_and_new_codes(auth, h):
    _, tokens = await h.signup(auth)
    secret, recovery = await _enable(auth, h, tokens)
    fresh = await auth.post(
        "/api/v1/auth/2fa/recovery-codes",
        json={"code": code(secret, steps_ahead=1)},
        headers=h.bearer(tokens),
    )
    assert fresh.status_code == 200
    new_codes = fresh.json()["recovery_codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(recovery)
    old = await auth.post(
        "/api/v1/auth/2fa/disable", json={"recovery_code": recovery[1]}, headers=h.bearer(tokens)
    )
    assert old.status_code == 400  # replaced
    r = await auth.post(
        "/api/v1/auth/2fa/disable", json={"recovery_code": new_codes[1]}, headers=h.bearer(tokens)
    )
    assert r.status_code == 200 and r.json()["two_factor_enabled"] is False


async def test_wrong_codes_burn_the_challenge_then_wait(auth, h):
    email, tokens = await h.signup(auth)
    await _enable(auth, h, tokens)
    challenge = await _challenge(auth, h, email)
    for _ in range(5):
        r = await auth.post("/api/v1/auth/login/2fa", json={"challenge_token": challenge, "code": "000000"})
        assert r.status_code == 401 and r.json()["type"].endswith("invalid-two-factor-code")
    burnt = await auth.post("/api/v1/auth/login/2fa", json={"challenge_token": challenge, "code": "000000"})
    assert burnt.json()["type"].endswith("invalid-challenge")
    limited = await auth.post(
        "/api/v1/auth/login/2fa", json={"challenge_token": await _challenge(auth, h, email), "code": "000000"}
    )
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
