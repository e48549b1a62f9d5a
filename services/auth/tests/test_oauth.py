"""Sign in with Google and LinkedIn against a local OpenID provider that signs real
tokens (``aujobs_common.testing.oidc_provider``, served by uvicorn on 127.0.0.1, so
discovery, the token endpoint and the JWKS go over real HTTP), and the auth service on a
fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest_asyncio
from alembic import command

from aujobs_auth.app import MIGRATIONS
from aujobs_auth.oidc import TokenBox
from aujobs_common.migrations import alembic_config, upgrade_async
from aujobs_common.pg import to_asyncpg_dsn
from aujobs_common.testing.oidc_provider import (
    KID,
    PROVIDER_KEY,
    LocalIdP,
    free_port,
    local_idp,
    rsa_pem,
    s256,
)

FRONTEND = "http://frontend.test"
ATTACKER_KEY = rsa_pem()


@pytest_asyncio.fixture
async def idp() -> AsyncIterator[LocalIdP]:
    async with local_idp() as provider:
        yield provider


def idp_settings(provider: LocalIdP) -> dict[str, Any]:
    return provider.settings(oauth_redirect_base_url="http://testserver", frontend_url=FRONTEND)


@pytest_asyncio.fixture
async def oauth(start_auth, idp: LocalIdP) -> AsyncIterator[Any]:
    async with start_auth(**idp_settings(idp)) as client:
        client.idp = idp  # type: ignore[attr-defined]
        yield client


# ------------------------------------------------------------------ helpers


def person(**overrides: Any) -> dict[str, Any]:
    return {
        "sub": uuid.uuid4().hex,
        "email": f"oauth-{uuid.uuid4().hex[:8]}@example.com.au",
        "email_verified": True,
        "name": "Charlotte Nguyen",
        "picture": "https://img.example/charlotte.png",
        **overrides,
    }


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def at_provider(client: Any, authorization_url: str) -> str:
    """The browser at the provider: returns the callback URL it is sent back to."""
    r = await client.idp.http.get(authorization_url)
    assert r.status_code in (302, 307), r.text
    return r.headers["location"]


async def back_at_auth(client: Any, callback_url: str) -> dict[str, str]:
    """The browser back at the callback: returns the frontend URL's query."""
    r = await client.get(callback_url)
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    assert location.startswith(f"{FRONTEND}/auth/callback?"), location
    assert "access_token" not in location
    return query(location)


async def sign_in(client: Any, provider: str = "google", **params: str) -> dict[str, str]:
    r = await client.get(f"/api/v1/auth/{provider}", params=params)
    assert r.status_code == 302, r.text
    return await back_at_auth(client, await at_provider(client, r.headers["location"]))


async def exchange(client: Any, code: str) -> httpx.Response:
    return await client.post("/api/v1/auth/oauth/exchange", json={"code": code})


async def signed_in(client: Any, provider: str = "google") -> dict[str, Any]:
    result = await sign_in(client, provider)
    assert "code" in result, result
    r = await exchange(client, result["code"])
    assert r.status_code == 200, r.text
    return r.json()


async def link(client: Any, tokens: dict[str, Any], provider: str, h: Any) -> dict[str, str]:
    r = await client.post(f"/api/v1/auth/{provider}/link", headers=h.bearer(tokens))
    assert r.status_code == 200, r.text
    return await back_at_auth(client, await at_provider(client, r.json()["authorization_url"]))


async def count_users(client: Any, h: Any) -> int:
    return (await h.sql(client, "SELECT count(*) FROM users"))[0][0]


# ------------------------------------------------------------------ tests


async def test_new_user_signs_up_with_google_and_signs_in_again(oauth, h):
    google = oauth.idp.tenants["google"]
    google.user = person()
    r = await oauth.get("/api/v1/auth/google", params={"return_to": "/jobs/42"})
    assert r.status_code == 302
    authorize = query(r.headers["location"])
    assert r.headers["location"].startswith(f"{google.issuer}/authorize?")
    assert authorize["code_challenge_method"] == "S256" and authorize["nonce"] and authorize["state"]
    result = await back_at_auth(oauth, await at_provider(oauth, r.headers["location"]))
    assert result["provider"] == "google" and result["return_to"] == f"{FRONTEND}/jobs/42"
    # the IdP got the verifier whose S256 is the challenge it was sent
    assert s256(google.verifiers[-1]) == authorize["code_challenge"]

    r = await exchange(oauth, result["code"])
    assert r.status_code == 200, r.text
    tokens = r.json()
    user = tokens["user"]
    assert user["email"] == google.user["email"] and user["roles"] == ["job_seeker"]
    assert user["email_verified"] is True and h.claims(tokens)["email_verified"] is True
    assert (await exchange(oauth, result["code"])).status_code == 400, "exchange codes are single use"

    me = await oauth.get("/api/v1/auth/me", headers=h.bearer(tokens))
    assert me.status_code == 200 and me.json()["id"] == user["id"]
    identities = (await oauth.get("/api/v1/auth/identities", headers=h.bearer(tokens))).json()
    assert [(i["provider"], i["name"], i["picture"]) for i in identities] == [
        ("google", "Charlotte Nguyen", "https://img.example/charlotte.png")
    ]
    await h.wait_events(oauth, "registered", user_id=user["id"])
    (password_hash,) = (await h.sql(oauth, "SELECT password_hash FROM users WHERE id = :id", id=user["id"]))[
        0
    ]
    assert password_hash is None

    # the provider's refresh token is stored encrypted, not as plaintext
    (row,) = await h.sql(
        oauth,
        "SELECT refresh_token_encrypted, access_token_encrypted FROM oauth_identities WHERE user_id = :id",
        id=user["id"],
    )
    raw_refresh, raw_access = google.issued_refresh_tokens[-1], google.issued_access_tokens[-1]
    assert raw_refresh.encode() not in bytes(row[0]) and raw_access.encode() not in bytes(row[1])
    box = TokenBox(oauth.settings.auth_key_encryption_secret)
    assert box.decrypt(bytes(row[0])) == raw_refresh
    dump = await h.sql(oauth, "SELECT t::text FROM oauth_identities t")
    assert raw_refresh not in dump[0][0]

    # returning user: same account, no second one
    again = await signed_in(oauth)
    assert again["user"]["id"] == user["id"] and await count_users(oauth, h) == 1
    audit = await h.sql(
        oauth, "SELECT kind, detail->>'method' FROM audit_log WHERE user_id = :id ORDER BY id", id=user["id"]
    )
    assert ("user_registered", "google") in audit and audit.count(("login_succeeded", "google")) == 2

    # return_to must stay on the frontend
    bad = await oauth.get("/api/v1/auth/google", params={"return_to": "https://evil.example/x"})
    assert bad.status_code == 422 and "invalid-return-to" in bad.json()["type"]


async def test_linkedin_headline_and_unverified_email_new_user(oauth, h):
    linkedin = oauth.idp.tenants["linkedin"]
    linkedin.user = person(email_verified="false", headline="Senior Data Engineer at Canva")
    tokens = await signed_in(oauth, "linkedin")
    assert tokens["user"]["email_verified"] is False
    [identity] = (await oauth.get("/api/v1/auth/identities", headers=h.bearer(tokens))).json()
    assert identity["provider"] == "linkedin" and identity["headline"] == "Senior Data Engineer at Canva"
    assert identity["email_verified"] is False
    # an unverified address gets the usual verification email
    await h.wait_events(oauth, "email_verification_requested", email=linkedin.user["email"])


async def test_email_match_links_only_when_provider_verified_it(oauth, h):
    email, registered = await h.register(oauth, role="employer")
    google = oauth.idp.tenants["google"]
    google.user = person(email=email.upper(), email_verified=False)
    assert (await sign_in(oauth))["error"] == "email_not_verified"
    assert await h.sql(oauth, "SELECT count(*) FROM oauth_identities") == [(0,)]
    assert await count_users(oauth, h) == 1

    google.user = person(email=email, email_verified=True)
    tokens = await signed_in(oauth)
    assert tokens["user"]["id"] == registered["id"] and tokens["user"]["roles"] == ["employer"]
    assert tokens["user"]["email_verified"] is True, "the provider vouched for the address"
    await h.wait_events(oauth, "security_alert", user_id=registered["id"], kind="provider_linked")
    # the password still works too
    assert (await h.login(oauth, email))["user"]["id"] == registered["id"]


async def test_explicit_linking_identity_in_use_and_unlink_rules(oauth, h):
    google, linkedin = oauth.idp.tenants["google"], oauth.idp.tenants["linkedin"]
    _, alice = await h.signup(oauth)
    google.user = person(email="alice.personal@gmail.example", email_verified=False)
    assert await link(oauth, alice, "google", h) == {"linked": "google", "provider": "google"}
    listed = (await oauth.get("/api/v1/auth/identities", headers=h.bearer(alice))).json()
    assert [i["provider"] for i in listed] == ["google"]
    await h.wait_events(oauth, "security_alert", user_id=alice["user"]["id"], kind="provider_linked")
    # alice now signs in with that Google account
    assert (await signed_in(oauth))["user"]["id"] == alice["user"]["id"]

    # the same Google account cannot be linked to bob
    _, bob = await h.signup(oauth)
    assert (await link(oauth, bob, "google", h))["error"] == "identity_in_use"

    # an attacker's link URL opened in the victim's browser links nothing (no state cookie)
    google.user = person()
    r = await oauth.post("/api/v1/auth/google/link", headers=h.bearer(bob))
    async with httpx.AsyncClient(transport=oauth._transport, base_url=oauth.base_url) as victim:
        victim.idp = oauth.idp  # type: ignore[attr-defined]
        callback = await at_provider(victim, r.json()["authorization_url"])
        assert (await back_at_auth(victim, callback))["error"] == "invalid_state"
    assert (await oauth.get("/api/v1/auth/identities", headers=h.bearer(bob))).json() == []

    # unlinking: alice has a password, so she may
    r = await oauth.delete("/api/v1/auth/identities/google", headers=h.bearer(alice))
    assert r.status_code == 204
    await h.wait_events(oauth, "security_alert", user_id=alice["user"]["id"], kind="provider_unlinked")
    assert (await oauth.delete("/api/v1/auth/identities/google", headers=h.bearer(alice))).status_code == 404

    # a Google-only account cannot drop its only way in, until it has another
    google.user = person()
    carol = await signed_in(oauth)
    r = await oauth.delete("/api/v1/auth/identities/google", headers=h.bearer(carol))
    assert r.status_code == 409 and "last-sign-in-method" in r.json()["type"]
    linkedin.user = person()
    assert (await link(oauth, carol, "linkedin", h))["linked"] == "linkedin"
    assert (await oauth.delete("/api/v1/auth/identities/google", headers=h.bearer(carol))).status_code == 204
    kinds = await h.sql(oauth, "SELECT kind FROM audit_log WHERE kind LIKE 'provider_%' ORDER BY id")
    assert [k for (k,) in kinds].count("provider_unlinked") == 2


async def test_denied_consent_and_state_checks(oauth, h):
    google = oauth.idp.tenants["google"]
    google.user = person()
    google.deny = True
    assert (await sign_in(oauth))["error"] == "access_denied"
    google.deny = False

    # a state the server never issued
    r = await oauth.get("/api/v1/auth/google")
    callback = await at_provider(oauth, r.headers["location"])
    tampered = callback.replace(f"state={query(callback)['state']}", "state=forged-state-value")
    assert (await back_at_auth(oauth, tampered))["error"] == "invalid_state"
    # the real state is still good once; a replay of the same callback is refused
    assert "code" in await back_at_auth(oauth, callback)
    assert (await back_at_auth(oauth, callback))["error"] == "invalid_state"

    # an expired flow
    r = await oauth.get("/api/v1/auth/google")
    callback = await at_provider(oauth, r.headers["location"])
    await h.sql(
        oauth, "UPDATE oauth_flows SET expires_at = now() - interval '1 second' WHERE used_at IS NULL"
    )
    assert (await back_at_auth(oauth, callback))["error"] == "invalid_state"

    # a sign-in finished in another browser (login CSRF): the state cookie is missing
    r = await oauth.get("/api/v1/auth/google")
    callback = await at_provider(oauth, r.headers["location"])
    oauth.cookies.clear()
    assert (await back_at_auth(oauth, callback))["error"] == "invalid_state"
    assert await count_users(oauth, h) == 1
    failures = await h.sql(oauth, "SELECT detail->>'error' FROM audit_log WHERE kind = 'oauth_failed'")
    assert sorted(e for (e,) in failures) == ["access_denied"] + ["invalid_state"] * 4


async def test_invalid_id_tokens_are_refused_and_create_no_user(oauth, h):
    google = oauth.idp.tenants["google"]
    google.user = person()
    now = int(time.time())
    spoilers: list[dict[str, Any]] = [
        {"tamper": {"nonce": "a-nonce-from-another-sign-in"}},
        {"tamper": {"aud": "someone-elses-client"}},
        {"tamper": {"iss": "https://evil.example"}},
        {"tamper": {"exp": now - 3600, "iat": now - 7200}},
        {"sign_with": (ATTACKER_KEY, KID)},
        {"sign_with": (ATTACKER_KEY, "attacker-kid")},
    ]
    for spoiler in spoilers:
        google.tamper = spoiler.get("tamper", {})
        google.sign_with = spoiler.get("sign_with", (PROVIDER_KEY, KID))
        assert (await sign_in(oauth))["error"] == "invalid_id_token", spoiler
    assert await count_users(oauth, h) == 0
    assert await h.sql(oauth, "SELECT count(*) FROM oauth_identities") == [(0,)]

    google.tamper, google.sign_with = {}, (PROVIDER_KEY, KID)
    assert (await signed_in(oauth))["user"]["email"] == google.user["email"]


async def test_pkce_verifier_is_checked_by_the_token_endpoint(oauth, h):
    google = oauth.idp.tenants["google"]
    google.user = person()
    r = await oauth.get("/api/v1/auth/google")
    callback = await at_provider(oauth, r.headers["location"])
    # someone swaps the stored verifier: the provider refuses the code
    box = TokenBox(oauth.settings.auth_key_encryption_secret)
    await h.sql(
        oauth,
        "UPDATE oauth_flows SET code_verifier_encrypted = :v WHERE used_at IS NULL",
        v=box.encrypt("a" * 64),
    )
    assert (await back_at_auth(oauth, callback))["error"] == "invalid_grant"
    assert google.rejected == ["a" * 64] and await count_users(oauth, h) == 0


async def test_provider_down_and_disabled_providers(oauth, start_auth, h):
    google = oauth.idp.tenants["google"]
    google.user = person()
    google.token_status = 503
    assert (await sign_in(oauth))["error"] == "provider_unavailable"
    assert await count_users(oauth, h) == 0

    dead = f"http://127.0.0.1:{free_port()}/nobody-home"
    async with start_auth(
        **{**idp_settings(oauth.idp), "google_issuer": dead, "linkedin_client_id": None}
    ) as other:
        r = await other.get("/api/v1/auth/google")
        assert r.status_code == 302
        assert query(r.headers["location"]) == {"error": "provider_unavailable", "provider": "google"}
        r = await other.get("/api/v1/auth/linkedin")
        assert r.status_code == 404 and "provider-disabled" in r.json()["type"]
        assert "LinkedIn" in r.json()["detail"]


async def test_provider_access_token_is_refreshed_when_expired(oauth, h):
    google = oauth.idp.tenants["google"]
    google.user = person()
    tokens = await signed_in(oauth)
    user_id = uuid.UUID(tokens["user"]["id"])
    service = oauth.runtime.extras["oauth"]
    first = google.issued_access_tokens[-1]
    assert await service.provider_access_token(user_id, "google") == first
    assert google.refresh_grants == 0

    await h.sql(
        oauth,
        "UPDATE oauth_identities SET access_token_expires_at = now() - interval '1 minute' "
        "WHERE user_id = :id",
        id=user_id,
    )
    fresh = await service.provider_access_token(user_id, "google")
    assert fresh != first and fresh == google.issued_access_tokens[-1] and google.refresh_grants == 1
    # stored (encrypted) with the rotated refresh token: the next call needs no refresh
    assert await service.provider_access_token(user_id, "google") == fresh and google.refresh_grants == 1
    (stored,) = (await h.sql(oauth, "SELECT refresh_token_encrypted FROM oauth_identities"))[0]
    box = TokenBox(oauth.settings.auth_key_encryption_secret)
    assert box.decrypt(bytes(stored)) == google.issued_refresh_tokens[-1]


async def test_two_factor_accounts_get_a_challenge_from_the_exchange(oauth, h):
    import pyotp

    google = oauth.idp.tenants["google"]
    google.user = person()
    tokens = await signed_in(oauth)
    setup = (await oauth.post("/api/v1/auth/2fa/setup", headers=h.bearer(tokens))).json()
    code = pyotp.TOTP(setup["secret"]).now()
    r = await oauth.post("/api/v1/auth/2fa/enable", json={"code": code}, headers=h.bearer(tokens))
    assert r.status_code == 200, r.text
    result = await sign_in(oauth)
    r = await exchange(oauth, result["code"])
    assert r.status_code == 200 and r.json()["two_factor_required"] is True and "access_token" not in r.json()


async def test_migration_0003_downgrades_and_upgrades(fresh_database_url):
    await upgrade_async(MIGRATIONS, fresh_database_url)
    await asyncio.to_thread(command.downgrade, alembic_config(MIGRATIONS, fresh_database_url), "0002")
    conn = await asyncpg.connect(to_asyncpg_dsn(fresh_database_url))
    try:
        assert await conn.fetchval("SELECT to_regclass('oauth_identities')") is None
        assert await conn.fetchval("SELECT to_regclass('users')") is not None
        await upgrade_async(MIGRATIONS, fresh_database_url)
        assert await conn.fetchval("SELECT to_regclass('oauth_flows')") is not None
    finally:
        await conn.close()
