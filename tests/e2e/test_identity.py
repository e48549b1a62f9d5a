"""Identity end to end on the distributed platform (issue 3): sign in with Google against
a local OpenID provider, logout, password reset with the real email and the
email-verification gate, all through the gateway only, as a browser and a frontend do;
and the operator's ``aujobs-auth grant-admin`` that makes the first admin.

The topology's auth service is configured for the module's local provider
(``oidc_provider``, GOOGLE_*/LINKEDIN_*), and its OAuth callbacks come back through the
gateway (OAUTH_REDIRECT_BASE_URL is the gateway's URL)."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from jose import jwt
from redis.asyncio import Redis

from aujobs_common.testing.oidc_provider import LocalIdP
from aujobs_common.testing.waiting import eventually

pytestmark = pytest.mark.timeout(120)

RESET_LINK = re.compile(r"/reset-password/([A-Za-z0-9_\-]+)")


@pytest.fixture(scope="module")
def topology_env(oidc_provider: LocalIdP) -> dict[str, str]:
    """The auth service signs in with the module's local OpenID provider."""
    return oidc_provider.env()


@pytest_asyncio.fixture
async def browser(topology: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A browser at the gateway's origin: keeps cookies, follows no redirect by itself."""
    async with httpx.AsyncClient(
        base_url=topology.gateway_url, follow_redirects=False, timeout=15.0
    ) as client:
        yield client


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def email_to(frontend: Any, address: str, subject: str, *, timeout: float = 15.0) -> dict[str, Any]:
    """The first email to ``address`` whose subject contains ``subject``."""

    async def find() -> dict[str, Any] | None:
        for message in await frontend.mail():
            if message["to"].endswith(address) and subject.lower() in message["subject"].lower():
                return message
        return None

    return await eventually(find, timeout=timeout)


async def test_sign_in_with_google_through_the_gateway(
    topology, oidc_provider, browser, frontend, employer, gateway_http, helpers
):
    google = oidc_provider.tenants["google"]
    email = f"google.{uuid.uuid4().hex[:10]}@gmail.e2e.example"
    google.user = {
        "sub": uuid.uuid4().hex,
        "email": email,
        "email_verified": True,
        "name": "Matilda Brown",
        "picture": "https://img.example/matilda.png",
    }

    # the frontend sends the browser to the gateway, which sends it to the provider
    r = await browser.get("/api/v1/auth/google", params={"return_to": "/jobs"})
    assert r.status_code == 302, r.text
    authorize = r.headers["location"]
    assert authorize.startswith(f"{google.issuer}/authorize?"), authorize
    params = query(authorize)
    callback_url = f"{topology.gateway_url}/api/v1/auth/google/callback"
    assert params["redirect_uri"] == callback_url, params
    assert params["code_challenge_method"] == "S256" and params["state"] and params["nonce"]
    assert browser.cookies, "the flow's state cookie came back through the gateway"

    # the user consents at the provider, which sends the browser back to the gateway
    r = await browser.get(authorize)
    assert r.status_code in (302, 307), r.text
    callback = r.headers["location"]
    assert callback.startswith(f"{callback_url}?"), callback

    # auth finishes the flow (code exchange and ID token checks over real HTTP)
    r = await browser.get(callback)
    assert r.status_code == 302, r.text
    landing = r.headers["location"]
    assert landing.startswith(f"{helpers.FRONTEND_URL}/auth/callback?"), landing
    result = query(landing)
    assert result.get("provider") == "google" and result.get("code"), result
    assert result["return_to"] == f"{helpers.FRONTEND_URL}/jobs", result

    # the frontend swaps the one-time code for tokens
    r = await browser.post("/api/v1/auth/oauth/exchange", json={"code": result["code"]})
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["token_type"] == "bearer" and tokens["access_token"] and tokens["refresh_token"]
    again = await browser.post("/api/v1/auth/oauth/exchange", json={"code": result["code"]})
    assert again.status_code == 400, "exchange codes are single use"

    seeker = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = await gateway_http.get("/api/v1/auth/me", headers=seeker)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == email and me.json()["roles"] == ["job_seeker"]
    assert me.json()["email_verified"] is True, "the provider vouched for the address"

    # the new job seeker searches and finds a live job
    keyword = helpers.word()
    job = await frontend.post_job(employer, f"Site Reliability Engineer {keyword}")
    await frontend.wait_searchable(keyword, job["id"])
    found = await gateway_http.get("/api/v1/search/jobs", params={"q": keyword}, headers=seeker)
    assert found.status_code == 200, found.text
    assert [h["job_id"] for h in found.json()["items"]] == [job["id"]]

    # signing in again with the same Google account is the same user
    r = await browser.get("/api/v1/auth/google")
    r = await browser.get((await browser.get(r.headers["location"])).headers["location"])
    code = query(r.headers["location"])["code"]
    second = (await browser.post("/api/v1/auth/oauth/exchange", json={"code": code})).json()
    assert second["user"]["id"] == me.json()["id"]


async def test_logout_revokes_the_access_token_at_the_gateway_at_once(
    frontend, gateway_http, redis_url, helpers
):
    account = await frontend.signup("job_seeker", verified=False)
    assert (await gateway_http.get("/api/v1/auth/me", headers=account.headers)).status_code == 200

    r = await gateway_http.post(
        "/api/v1/auth/logout",
        json={"refresh_token": account.tokens["refresh_token"]},
        headers=account.headers,
    )
    assert r.status_code == 204, r.text

    # no wait: the very next request with the same token is refused by the gateway
    for path in ("/api/v1/auth/me", "/api/v1/jobs?mine=true"):
        r = await gateway_http.get(path, headers=account.headers)
        body = helpers.assert_problem(r, 401)
        assert body["type"].endswith("invalid-token") and "revoked" in body["detail"], body
        assert r.headers["www-authenticate"].startswith("Bearer"), r.headers

    # the denylist entry is in the real Redis, until the token would have expired (plus the
    # auth service's margin for clock skew)
    jti = jwt.get_unverified_claims(account.tokens["access_token"])["jti"]
    redis = Redis.from_url(redis_url)
    try:
        ttl = await redis.ttl(f"aujobs:denylist:{jti}")
    finally:
        await redis.aclose()
    assert account.tokens["expires_in"] - 60 < ttl <= account.tokens["expires_in"] + 120, ttl

    r = await gateway_http.post(
        "/api/v1/auth/refresh", json={"refresh_token": account.tokens["refresh_token"]}
    )
    helpers.assert_problem(r, 401)


async def test_password_reset_with_the_real_email(frontend, gateway_http, helpers):
    account = await frontend.signup("job_seeker", verified=False)
    earlier = dict(account.tokens)

    r = await gateway_http.post("/api/v1/auth/request-reset", json={"email": account.email})
    assert r.status_code == 202, r.text
    unknown_email = f"nobody.{uuid.uuid4().hex[:10]}@e2e.australiajobs.example"
    unknown = await gateway_http.post("/api/v1/auth/request-reset", json={"email": unknown_email})
    assert unknown.status_code == 202 and unknown.json() == r.json(), "no hint whether the email exists"

    message = await email_to(frontend, account.email, "reset your password")
    link = RESET_LINK.search(message["text"])
    assert link, message["text"]
    assert f"{helpers.FRONTEND_URL}/reset-password/{link.group(1)}" in message["text"]

    new_password = "new-kangaroo-paddock-" + secrets.token_hex(4)
    r = await gateway_http.post(
        f"/api/v1/auth/reset-password/{link.group(1)}", json={"password": new_password}
    )
    assert r.status_code == 204, r.text
    r = await gateway_http.post(
        f"/api/v1/auth/reset-password/{link.group(1)}", json={"password": new_password}
    )
    assert r.status_code >= 400 and r.headers["content-type"].startswith(helpers.PROBLEM_JSON), "single use"

    old = await gateway_http.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    helpers.assert_problem(old, 401)
    account.password = new_password
    await frontend.login(account)

    # every earlier session is signed out
    r = await gateway_http.post("/api/v1/auth/refresh", json={"refresh_token": earlier["refresh_token"]})
    helpers.assert_problem(r, 401)
    r = await gateway_http.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {earlier['access_token']}"}
    )
    helpers.assert_problem(r, 401)
    assert (await gateway_http.get("/api/v1/auth/me", headers=account.headers)).status_code == 200

    alert = await email_to(frontend, account.email, "security alert: your password was reset")
    assert "signed out" in alert["text"]
    assert not [m for m in await frontend.mail() if m["to"].endswith(unknown_email)]


async def test_unverified_employer_cannot_publish(frontend, employer, gateway_http, helpers):
    recruiter = await frontend.signup("employer", verified=False)
    assert recruiter.tokens["user"]["email_verified"] is False
    # creating a company needs a verified email; joining one as a recruiter does not
    refused = await gateway_http.post(
        "/api/v1/companies", json=helpers.company_body("Unverified Pty Ltd"), headers=recruiter.headers
    )
    assert helpers.assert_problem(refused, 403)["type"].endswith("email-not-verified")
    company = await frontend.company_for(employer)
    await frontend.add_recruiter(employer, company["id"], recruiter)
    draft = await frontend.create_job(recruiter, f"Data Engineer {helpers.word()}", company_id=company["id"])
    r = await gateway_http.post(f"/api/v1/jobs/{draft['id']}/publish", headers=recruiter.headers)
    assert helpers.assert_problem(r, 403)["type"].endswith("email-not-verified")
    job = await gateway_http.get(f"/api/v1/jobs/{draft['id']}", headers=recruiter.headers)
    assert job.status_code == 200 and job.json()["status"] == "draft"


async def test_grant_admin_from_the_command_line_signs_the_account_out_at_the_gateway(
    topology, frontend, gateway_http, helpers
):
    """The operator's way to the first admin: ``aujobs-auth grant-admin EMAIL`` with the
    auth service's environment; the account's live token is refused at once, and the
    next sign-in carries the role the admin endpoints ask for."""
    account = await frontend.signup("employer")
    audit = await gateway_http.get("/api/v1/auth/audit", headers=account.headers)
    helpers.assert_problem(audit, 403)

    unknown = await helpers.run_auth_cli(topology, "grant-admin", f"nobody.{uuid.uuid4().hex}@example.com")
    assert unknown.returncode == 1 and "no account" in unknown.stdout, (unknown.stdout, unknown.stderr)

    done = await helpers.run_auth_cli(topology, "grant-admin", account.email)
    assert done.returncode == 0 and account.email in done.stdout, (done.stdout, done.stderr)
    refused = await gateway_http.get("/api/v1/auth/me", headers=account.headers)
    assert "revoked" in helpers.assert_problem(refused, 401)["detail"]

    await frontend.login(account)
    assert account.tokens["user"]["roles"] == ["admin", "employer"]
    audit = await gateway_http.get(
        "/api/v1/auth/audit", params={"kind": "role_changed", "user_id": account.id}, headers=account.headers
    )
    assert audit.status_code == 200, audit.text
    [entry] = audit.json()["items"]
    assert entry["actor_id"] is None and entry["detail"]["via"] == "cli"
