"""Fixtures for the gateway tests: RSA keys and real RS256 tokens, fake upstream
services (in-process FastAPI apps reached through ``httpx.ASGITransport``) that echo
what they receive, and a factory for gateway apps wired to them."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from jose import jwk, jwt

from aujobs_common.security import StaticKeySource
from aujobs_gateway.app import create_app
from aujobs_gateway.routing import RoutePatterns
from aujobs_gateway.settings import GatewaySettings

ISSUER = "https://auth.test.australiajobs"
AUDIENCE = "australia-jobs-test"
KID = "test-key-1"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


# -- keys and tokens ------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str
    public_pem: str
    public_jwk: dict[str, Any]


def _generate_key(kid: str) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    public_jwk = {**jwk.construct(public_pem, "RS256").to_dict(), "kid": kid, "use": "sig"}
    return SigningKey(kid, private_pem, public_pem, public_jwk)


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return _generate_key(KID)


@pytest.fixture(scope="session")
def attacker_key() -> SigningKey:
    """Another key pair that claims the same key id: a forgery."""
    return _generate_key(KID)


def claims(
    *,
    sub: uuid.UUID | None = None,
    roles: tuple[str, ...] = ("job_seeker",),
    expires_in: int = 300,
    audience: str = AUDIENCE,
    issuer: str = ISSUER,
    jti: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": issuer,
        "aud": audience,
        "sub": str(sub or uuid.uuid4()),
        "iat": now,
        "exp": now + expires_in,
        "jti": jti or uuid.uuid4().hex,
        "roles": list(roles),
        "typ": "access",
        **extra,
    }


@dataclass
class TokenFactory:
    key: SigningKey

    def __call__(self, key: SigningKey | None = None, **kwargs: Any) -> str:
        signer = key or self.key
        return jwt.encode(
            claims(**kwargs), signer.private_pem, algorithm="RS256", headers={"kid": signer.kid}
        )


@pytest.fixture(scope="session")
def make_token(signing_key: SigningKey) -> TokenFactory:
    return TokenFactory(signing_key)


def b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# -- fake upstream services -------------------------------------------------------------


@dataclass
class FakeUpstream:
    """An upstream service that echoes each request and serves ``spec`` at /openapi.json."""

    area: str
    spec: dict[str, Any] = field(default_factory=dict)
    ready: bool = True
    jwks: list[dict[str, Any]] | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        if self.jwks is not None:

            @app.get("/.well-known/jwks.json")
            async def jwks() -> dict[str, Any]:
                return {"keys": self.jwks}

        @app.get("/openapi.json")
        async def openapi() -> dict[str, Any]:
            return self.spec

        @app.get("/readyz")
        async def readyz() -> Response:
            if self.ready:
                return JSONResponse({"status": "ready"})
            return JSONResponse({"status": "not ready"}, status_code=503)

        @app.get("/api/v1/{area}/download")
        async def download(size: int) -> StreamingResponse:
            async def chunks() -> AsyncIterator[bytes]:
                sent = 0
                while sent < size:
                    n = min(65536, size - sent)
                    yield pattern_bytes(sent, n)
                    sent += n

            return StreamingResponse(
                chunks(),
                media_type="application/octet-stream",
                headers={"Content-Length": str(size)},
            )

        @app.api_route("/{path:path}", methods=ALL_METHODS)
        async def echo(request: Request) -> Response:
            digest = hashlib.sha256()
            length = 0
            async for chunk in request.stream():
                digest.update(chunk)
                length += len(chunk)
            call = {
                "area": self.area,
                "method": request.method,
                "raw_path": request.scope["raw_path"].decode(),
                "query": request.scope["query_string"].decode(),
                "headers": [(k.decode(), v.decode()) for k, v in request.scope["headers"]],
                "body_length": length,
                "body_sha256": digest.hexdigest(),
            }
            self.calls.append(call)
            response = JSONResponse(call, headers={"X-Upstream": self.area})
            response.set_cookie("a", "1")
            response.set_cookie("b", "2")
            return response

        self.app = app
        self.transport = httpx.ASGITransport(app=app)

    def header(self, call: dict[str, Any], name: str) -> list[str]:
        return [v for k, v in call["headers"] if k == name.lower()]


def pattern_bytes(offset: int, n: int) -> bytes:
    """Deterministic, incompressible content for the streaming tests."""
    return random.Random(offset).randbytes(n)


class DownTransport(httpx.AsyncBaseTransport):
    """An upstream that cannot be reached (or does not answer in time)."""

    def __init__(self, exc: type[httpx.TransportError] = httpx.ConnectError) -> None:
        self.exc = exc

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise self.exc("upstream is down", request=request)


AUTH_SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "auth", "version": "1"},
    "paths": {
        "/api/v1/auth/login": {
            "post": {
                "operationId": "login",
                "tags": ["auth"],
                "requestBody": {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Credentials"}}}
                },
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/api/v1/auth/me": {
            "get": {
                "operationId": "me",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Profile"}}},
                    }
                },
                "security": [{"HTTPBearer": []}],
            }
        },
        "/.well-known/jwks.json": {"get": {"operationId": "jwks", "responses": {}}},
        "/internal/stats": {"get": {"operationId": "stats", "responses": {}}},
        "/api/v1/jobs/not-really": {"get": {"operationId": "misplaced", "responses": {}}},
    },
    "components": {
        "schemas": {
            "Credentials": {
                "type": "object",
                "properties": {"email": {"type": "string"}, "password": {"type": "string"}},
            },
            "Profile": {
                "type": "object",
                "properties": {"email": {"type": "string"}, "roles": {"type": "array"}},
            },
            "PageInfo": {"type": "object", "properties": {"next": {"type": "string"}}},
        },
        "securitySchemes": {"HTTPBearer": {"type": "http", "scheme": "bearer"}},
    },
}

JOBS_SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "jobs", "version": "1"},
    "paths": {
        "/api/v1/jobs": {
            "get": {
                "operationId": "list_jobs",
                "tags": ["jobs"],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}},
                    }
                },
            },
            "post": {"operationId": "create_job", "responses": {"201": {"description": "ok"}}},
        },
        "/api/v1/jobs/{job_id}": {
            "get": {
                "operationId": "me",  # clashes with auth's operationId
                "responses": {"200": {"description": "ok"}},
            }
        },
    },
    "components": {
        "schemas": {
            "Job": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "employer": {"$ref": "#/components/schemas/Profile"},
                    "page": {"$ref": "#/components/schemas/PageInfo"},
                },
            },
            "Profile": {
                "type": "object",
                "properties": {"company": {"type": "string"}, "abn": {"type": "string"}},
            },
            "PageInfo": {"type": "object", "properties": {"next": {"type": "string"}}},
        }
    },
}


@pytest.fixture
def upstreams() -> dict[str, FakeUpstream]:
    return {
        "auth": FakeUpstream("auth", AUTH_SPEC),
        "jobs": FakeUpstream("jobs", JOBS_SPEC),
        "search": FakeUpstream("search", {"openapi": "3.1.0", "paths": {}}),
    }


# -- the gateway under test ---------------------------------------------------------


@dataclass
class GatewayUnderTest:
    app: FastAPI
    client: httpx.AsyncClient
    upstreams: dict[str, FakeUpstream]

    @property
    def gateway(self) -> Any:
        return self.app.state.gateway


GatewayFactory = Callable[..., Awaitable[GatewayUnderTest]]


@pytest_asyncio.fixture
async def make_gateway(
    signing_key: SigningKey, upstreams: dict[str, FakeUpstream]
) -> AsyncIterator[GatewayFactory]:
    opened: list[tuple[AbstractAsyncContextManager[Any], httpx.AsyncClient]] = []

    async def factory(
        *,
        transports: dict[str, httpx.AsyncBaseTransport] | None = None,
        client_ip: str = "198.51.100.7",
        **overrides: Any,
    ) -> GatewayUnderTest:
        if transports is None:
            transports = {area: u.transport for area, u in upstreams.items()}
        values: dict[str, Any] = {
            "jwt_issuer": ISSUER,
            "jwt_audience": AUDIENCE,
            "redis_url": None,
            "log_json": False,
            "gateway_routes": {area: f"http://{area}.internal:8000" for area in transports},
            "rate_limit_key_prefix": f"test:gateway:{uuid.uuid4().hex}",
        }
        values.update(overrides)
        app = create_app(
            GatewaySettings(**values),
            transports=transports,
            key_source=StaticKeySource([signing_key.public_jwk]),
        )
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(client_ip, 40000)),
            base_url="https://api.australiajobs.test",
        )
        opened.append((lifespan, client))
        return GatewayUnderTest(app, client, upstreams)

    yield factory
    for lifespan, client in reversed(opened):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest_asyncio.fixture
async def gw(make_gateway: GatewayFactory) -> GatewayUnderTest:
    return await make_gateway()


# -- helpers ------------------------------------------------------------------------


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def avoid_window_edge(window: int) -> None:
    """Fixed windows: make sure a burst of test requests does not straddle two."""
    left = window - time.time() % window
    if left < 3:
        await asyncio.sleep(left + 0.05)


def all_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in all_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in all_refs(v)]
    return []


# -- routing --------------------------------------------------------------------------


async def test_routes_by_area_preserving_path_and_query(gw: GatewayUnderTest) -> None:
    r = await gw.client.get("/api/v1/jobs/abc%2Fdef/caf%C3%A9?q=software%20engineer&loc=Perth&x=1&x=2")
    assert r.status_code == 200, r.text
    echoed = r.json()
    assert echoed["area"] == "jobs"
    assert echoed["raw_path"] == "/api/v1/jobs/abc%2Fdef/caf%C3%A9"
    assert echoed["query"] == "q=software%20engineer&loc=Perth&x=1&x=2"
    assert r.headers["x-upstream"] == "jobs"

    r = await gw.client.get("/api/v1/search?q=nurse")
    assert r.json()["area"] == "search" and r.json()["raw_path"] == "/api/v1/search"

    r = await gw.client.post("/api/v1/auth/login", json={"email": "a@b.au", "password": "x"})
    assert r.json()["area"] == "auth" and r.json()["method"] == "POST"

    r = await gw.client.get("/.well-known/jwks.json")
    assert r.json()["area"] == "auth" and r.json()["raw_path"] == "/.well-known/jwks.json"


async def test_a_jobs_applicants_go_to_the_applications_service_and_need_a_token(
    make_gateway: GatewayFactory, upstreams: dict[str, FakeUpstream], make_token: TokenFactory
) -> None:
    applications = FakeUpstream("applications", {"openapi": "3.1.0", "paths": {}})
    transports = {area: u.transport for area, u in upstreams.items()}
    gw = await make_gateway(transports={**transports, "applications": applications.transport})
    for path in ["/api/v1/jobs/42/applications", "/api/v1/jobs/42/applications/bulk-status"]:
        r = await gw.client.get(path, headers=bearer(make_token()))
        assert r.status_code == 200, r.text
        assert r.json()["area"] == "applications" and r.json()["raw_path"] == path
    # the public "GET /api/v1/jobs/*" does not open a job's applicants
    assert_problem(await gw.client.get("/api/v1/jobs/42/applications"), 401)
    # the rest of the job stays with the jobs service, and public
    r = await gw.client.get("/api/v1/jobs/42/applications-guide")
    assert r.json()["area"] == "jobs"
    r = await gw.client.get("/api/v1/jobs/42")
    assert r.json()["area"] == "jobs"


def test_subroutes_must_be_api_paths_to_one_area() -> None:
    with pytest.raises(ValueError):
        GatewaySettings(gateway_subroutes={"/admin/*": "applications"})
    with pytest.raises(ValueError):
        GatewaySettings(gateway_subroutes={"/api/v1/jobs/*/x": "a/b"})


async def test_every_method_is_proxied(gw: GatewayUnderTest, make_token: TokenFactory) -> None:
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]:
        r = await gw.client.request(method, "/api/v1/jobs/1", headers=bearer(make_token()))
        assert r.status_code == 200, (method, r.text)
        assert r.json()["method"] == method
    r = await gw.client.head("/api/v1/jobs/1")
    assert r.status_code == 200 and r.content == b""


async def test_multi_valued_response_headers_pass_through(gw: GatewayUnderTest) -> None:
    r = await gw.client.get("/api/v1/jobs")
    cookies = r.headers.get_list("set-cookie")
    assert len(cookies) == 2 and cookies[0].startswith("a=1") and cookies[1].startswith("b=2")


async def test_unknown_area_is_a_problem_404(gw: GatewayUnderTest) -> None:
    body = assert_problem(await gw.client.get("/api/v1/payroll/x"), 404)
    assert body["instance"] == "/api/v1/payroll/x"
    assert_problem(await gw.client.post("/nowhere"), 404)
    assert_problem(await gw.client.get("/.well-known/other"), 404)
    assert all(not u.calls for u in gw.upstreams.values())


async def test_dot_segments_are_refused(gw: GatewayUnderTest) -> None:
    # public glob GET /api/v1/jobs/* must not open /api/v1/auth/me
    r = await gw.client.get("/api/v1/jobs/%2E%2E/%2E%2E/auth/me")
    assert_problem(r, 400)
    # an encoded '?' must not hide the rest of the path from the checks
    assert_problem(await gw.client.get("/api/v1/jobs%3F/%2E%2E/auth/me"), 400)
    assert_problem(await gw.client.post("/api/v1/auth/register%3F/x"), 401)
    assert not gw.upstreams["jobs"].calls and not gw.upstreams["auth"].calls


# -- authentication -------------------------------------------------------------------


async def test_protected_route_without_token_is_401(gw: GatewayUnderTest) -> None:
    r = await gw.client.get("/api/v1/auth/me")
    body = assert_problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert body["type"].endswith("authentication-required")
    assert_problem(await gw.client.post("/api/v1/jobs", json={}), 401)
    assert_problem(await gw.client.delete("/api/v1/jobs/1"), 401)
    assert_problem(await gw.client.post("/api/v1/jobs/1/publish"), 401)
    assert_problem(await gw.client.post("/api/v1/jobs/1/apply-start/x"), 401)
    # linking and the linked identities need a signed-in user (only GET google* is public)
    assert_problem(await gw.client.post("/api/v1/auth/google/link"), 401)
    assert_problem(await gw.client.get("/api/v1/auth/identities"), 401)
    assert_problem(await gw.client.delete("/api/v1/auth/identities/linkedin"), 401)
    assert not gw.upstreams["auth"].calls and not gw.upstreams["jobs"].calls


async def test_public_routes_need_no_token(gw: GatewayUnderTest) -> None:
    for method, path in [
        ("GET", "/api/v1/jobs"),
        ("GET", "/api/v1/jobs/123"),
        ("HEAD", "/api/v1/jobs/123"),
        ("POST", "/api/v1/jobs/123/apply-start"),
        ("POST", "/api/v1/search/clicks"),
        ("GET", "/api/v1/search/suggest?q=a"),
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/reset-password/tok"),
        ("POST", "/api/v1/auth/verify-email/tok"),
        ("GET", "/api/v1/auth/google/callback?code=x"),
        ("POST", "/api/v1/auth/oauth/exchange"),
    ]:
        r = await gw.client.request(method, path)
        assert r.status_code == 200, (method, path, r.text)


def hs256_signed_with_public_key(key: SigningKey) -> str:
    """The algorithm-confusion attack: HMAC keyed with the (public) RSA key."""
    signing_input = b64url({"alg": "HS256", "typ": "JWT", "kid": key.kid}) + "." + b64url(claims())
    mac = hmac.new(key.public_pem.encode(), signing_input.encode(), "sha256").digest()
    return signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _bad_tokens(good: SigningKey, attacker: SigningKey) -> dict[str, str]:
    factory = TokenFactory(good)
    none_token = b64url({"alg": "none", "typ": "JWT", "kid": good.kid}) + "." + b64url(claims()) + "."
    return {
        "forged": factory(key=attacker),
        "expired": factory(expires_in=-600),
        "wrong-audience": factory(audience="someone-else"),
        "wrong-issuer": factory(issuer="https://evil.example"),
        "alg-none": none_token,
        "hs256-secret": jwt.encode(claims(), "secret", algorithm="HS256", headers={"kid": good.kid}),
        "hs256-public-key": hs256_signed_with_public_key(good),
        "unknown-kid": jwt.encode(claims(), good.private_pem, algorithm="RS256", headers={"kid": "other"}),
        "refresh-token-type": factory(typ="refresh"),
        "garbage": "not.a.jwt",
    }


BAD_TOKEN_KINDS = [
    "forged",
    "expired",
    "wrong-audience",
    "wrong-issuer",
    "alg-none",
    "hs256-secret",
    "hs256-public-key",
    "unknown-kid",
    "refresh-token-type",
    "garbage",
]


@pytest.mark.parametrize("kind", BAD_TOKEN_KINDS)
@pytest.mark.parametrize("path", ["/api/v1/auth/me", "/api/v1/jobs"])
async def test_invalid_tokens_are_refused_and_never_forwarded(
    make_gateway: GatewayFactory,
    signing_key: SigningKey,
    attacker_key: SigningKey,
    kind: str,
    path: str,
) -> None:
    gw = await make_gateway()
    token = _bad_tokens(signing_key, attacker_key)[kind]
    r = await gw.client.get(path, headers=bearer(token))
    assert_problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    assert all(not u.calls for u in gw.upstreams.values())


async def test_non_bearer_authorization_is_refused(gw: GatewayUnderTest) -> None:
    r = await gw.client.get("/api/v1/jobs", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(r, 401)
    assert not gw.upstreams["jobs"].calls


async def test_identity_headers_are_stripped_and_replaced(
    gw: GatewayUnderTest, make_token: TokenFactory
) -> None:
    user = uuid.uuid4()
    token = make_token(sub=user, roles=("employer", "job_seeker"))
    spoofed = {
        "X-User-Id": str(uuid.uuid4()),
        "X-User-Roles": "admin",
        "X-User-Email": "ceo@example.com",
        "X-Auth-User": "admin",
        "X-Principal": "admin",
        "X-Forwarded-User": "admin",
        "X-Service-Token": "stolen",
        "X-Forwarded-For": "10.0.0.1",
        "X-Request-Id": "client-request-0001",
        "Connection": "x-secret-hop",
        "X-Secret-Hop": "1",
        "X-Custom": "kept",
    }
    r = await gw.client.get("/api/v1/jobs/1", headers={**spoofed, **bearer(token)})
    assert r.status_code == 200
    call = gw.upstreams["jobs"].calls[-1]
    up = gw.upstreams["jobs"]
    assert up.header(call, "x-user-id") == [str(user)]
    assert up.header(call, "x-user-roles") == ["employer,job_seeker"]
    for name in ["x-user-email", "x-auth-user", "x-principal", "x-forwarded-user"]:
        assert up.header(call, name) == [], name
    assert up.header(call, "x-service-token") == []
    assert up.header(call, "x-secret-hop") == []
    assert up.header(call, "x-custom") == ["kept"]
    # the token is forwarded: services verify it again (defence in depth)
    assert up.header(call, "authorization") == [f"Bearer {token}"]
    assert up.header(call, "x-forwarded-for") == ["198.51.100.7"]
    assert up.header(call, "x-forwarded-proto") == ["https"]
    assert up.header(call, "x-forwarded-host") == ["api.australiajobs.test"]
    assert up.header(call, "host") == ["jobs.internal:8000"]
    # request id and trace context propagate
    assert up.header(call, "x-request-id") == ["client-request-0001"]
    assert r.headers["x-request-id"] == "client-request-0001"
    assert len(up.header(call, "traceparent")) == 1


async def test_spoofed_identity_without_token_reaches_upstream_anonymous(
    gw: GatewayUnderTest,
) -> None:
    r = await gw.client.get("/api/v1/jobs", headers={"X-User-Id": str(uuid.uuid4())})
    assert r.status_code == 200
    call = gw.upstreams["jobs"].calls[-1]
    assert not [k for k, _ in call["headers"] if k.startswith("x-user")]


async def test_revoked_token_in_redis_denylist_is_refused(
    make_gateway: GatewayFactory, make_token: TokenFactory, redis_url: str
) -> None:
    from redis.asyncio import Redis

    from aujobs_common.security import RedisDenylist

    gw = await make_gateway(redis_url=redis_url)
    revoked_jti = uuid.uuid4().hex
    redis = Redis.from_url(redis_url)
    try:
        await RedisDenylist(redis).revoke(revoked_jti, 60)
        r = await gw.client.get("/api/v1/auth/me", headers=bearer(make_token(jti=revoked_jti)))
        body = assert_problem(r, 401)
        assert "revoked" in body["detail"]
        assert not gw.upstreams["auth"].calls
        r = await gw.client.get("/api/v1/auth/me", headers=bearer(make_token()))
        assert r.status_code == 200
    finally:
        await redis.delete(RedisDenylist.prefix + revoked_jti)
        await redis.aclose()


async def test_revoked_token_in_memory_denylist_is_refused(
    gw: GatewayUnderTest, make_token: TokenFactory
) -> None:
    jti = uuid.uuid4().hex
    await gw.gateway.denylist.revoke(jti, 60)
    assert_problem(await gw.client.get("/api/v1/jobs", headers=bearer(make_token(jti=jti))), 401)
    assert not gw.upstreams["jobs"].calls


async def test_denylist_unreachable_fails_closed(
    make_gateway: GatewayFactory, make_token: TokenFactory
) -> None:
    gw = await make_gateway(redis_url="redis://127.0.0.1:1/0")
    r = await gw.client.get("/api/v1/auth/me", headers=bearer(make_token()))
    assert_problem(r, 503)
    assert r.headers["retry-after"]
    assert not gw.upstreams["auth"].calls
    # anonymous traffic still flows, rate limited in-process
    assert (await gw.client.get("/api/v1/jobs")).status_code == 200


# -- rate limits --------------------------------------------------------------------


async def test_ip_rate_limit_in_redis(make_gateway: GatewayFactory, redis_url: str) -> None:
    from prometheus_client import REGISTRY
    from redis.asyncio import Redis

    window = 3600
    gw = await make_gateway(redis_url=redis_url, rate_limit_per_minute=3, rate_limit_window_seconds=window)
    before = REGISTRY.get_sample_value("aujobs_gateway_rate_limited_total", {"scope": "ip"}) or 0
    await avoid_window_edge(window)
    remaining = []
    for _ in range(3):
        r = await gw.client.get("/api/v1/jobs")
        assert r.status_code == 200
        assert r.headers["ratelimit-limit"] == "3"
        remaining.append(r.headers["ratelimit-remaining"])
        assert 0 < int(r.headers["ratelimit-reset"]) <= window
    assert remaining == ["2", "1", "0"]
    r = await gw.client.get("/api/v1/jobs")
    body = assert_problem(r, 429)
    assert body["type"].endswith("rate-limited")
    assert 0 < int(r.headers["retry-after"]) <= window
    assert r.headers["ratelimit-remaining"] == "0"
    assert len(gw.upstreams["jobs"].calls) == 3
    assert gw.gateway.limiter.backend == "redis"
    after = REGISTRY.get_sample_value("aujobs_gateway_rate_limited_total", {"scope": "ip"})
    assert after == before + 1

    # the counters live in Redis (shared by every gateway replica)
    redis = Redis.from_url(redis_url)
    try:
        prefix = gw.app.state.settings.rate_limit_key_prefix
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
        assert keys
        for key in keys:
            assert await redis.ttl(key) > 0
        # a second gateway (another replica) sees the same counters
        other = await make_gateway(
            redis_url=redis_url,
            rate_limit_per_minute=3,
            rate_limit_window_seconds=window,
            rate_limit_key_prefix=prefix,
        )
        assert_problem(await other.client.get("/api/v1/jobs"), 429)
        await redis.delete(*keys)
    finally:
        await redis.aclose()


async def test_auth_endpoints_have_a_stricter_limit(make_gateway: GatewayFactory, redis_url: str) -> None:
    window = 3600
    gw = await make_gateway(
        redis_url=redis_url, auth_rate_limit_per_minute=2, rate_limit_window_seconds=window
    )
    await avoid_window_edge(window)
    for _ in range(2):
        assert (await gw.client.post("/api/v1/auth/login", json={})).status_code == 200
    r = await gw.client.post("/api/v1/auth/login", json={})
    assert "auth limit" in assert_problem(r, 429)["detail"]
    assert_problem(await gw.client.post("/api/v1/auth/request-reset", json={}), 429)
    # other endpoints are still within the (larger) per-IP limit
    assert (await gw.client.get("/api/v1/jobs")).status_code == 200
    assert len(gw.upstreams["auth"].calls) == 2


async def test_per_user_limit(make_gateway: GatewayFactory, make_token: TokenFactory, redis_url: str) -> None:
    window = 3600
    gw = await make_gateway(
        redis_url=redis_url, rate_limit_user_per_minute=2, rate_limit_window_seconds=window
    )
    await avoid_window_edge(window)
    token = make_token()
    for _ in range(2):
        assert (await gw.client.get("/api/v1/jobs", headers=bearer(token))).status_code == 200
    r = await gw.client.get("/api/v1/jobs", headers=bearer(token))
    assert "user limit" in assert_problem(r, 429)["detail"]
    # another user from the same address is not affected
    assert (await gw.client.get("/api/v1/jobs", headers=bearer(make_token()))).status_code == 200


async def test_uploads_have_a_stricter_limit_per_user(
    make_gateway: GatewayFactory, make_token: TokenFactory, redis_url: str
) -> None:
    window = 3600
    gw = await make_gateway(
        redis_url=redis_url,
        upload_rate_limit_per_minute=2,
        upload_rate_limit_routes=["POST /api/v1/jobs/*/files"],
        rate_limit_window_seconds=window,
    )
    await avoid_window_edge(window)
    token = make_token()
    for _ in range(2):
        r = await gw.client.post("/api/v1/jobs/1/files", content=b"%PDF-", headers=bearer(token))
        assert r.status_code == 200, r.text
    r = await gw.client.post("/api/v1/jobs/1/files", content=b"%PDF-", headers=bearer(token))
    assert "upload limit" in assert_problem(r, 429)["detail"]
    # the user's other requests, and another user's uploads, go on
    assert (await gw.client.get("/api/v1/jobs/1", headers=bearer(token))).status_code == 200
    other = await gw.client.post("/api/v1/jobs/1/files", content=b"%PDF-", headers=bearer(make_token()))
    assert other.status_code == 200
    assert len([c for c in gw.upstreams["jobs"].calls if c["raw_path"].endswith("/files")]) == 3


def test_resume_and_media_uploads_are_upload_limited_by_default() -> None:
    routes = RoutePatterns(GatewaySettings().upload_rate_limit_routes)
    for method, path in [
        ("POST", "/api/v1/resumes"),
        ("POST", "/api/v1/resumes/0192/versions"),
        ("POST", "/api/v1/applications/0192/attachments"),
        ("PUT", "/api/v1/companies/0192/logo"),
    ]:
        assert routes.matches(method, path), path
    assert not routes.matches("GET", "/api/v1/resumes")


async def test_in_process_rate_limit_without_redis(make_gateway: GatewayFactory) -> None:
    window = 3600
    gw = await make_gateway(redis_url=None, rate_limit_per_minute=2, rate_limit_window_seconds=window)
    await avoid_window_edge(window)
    assert gw.gateway.limiter.backend == "memory"
    assert (await gw.client.get("/api/v1/jobs")).status_code == 200
    assert (await gw.client.get("/api/v1/jobs")).status_code == 200
    r = await gw.client.get("/api/v1/jobs")
    assert_problem(r, 429)
    assert r.headers["retry-after"]


async def test_in_process_fallback_when_redis_is_down(
    make_gateway: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    window = 3600
    gw = await make_gateway(
        redis_url="redis://127.0.0.1:1/0", rate_limit_per_minute=2, rate_limit_window_seconds=window
    )
    await avoid_window_edge(window)
    with caplog.at_level("WARNING", logger="aujobs_gateway.ratelimit"):
        assert (await gw.client.get("/api/v1/jobs")).status_code == 200
        assert (await gw.client.get("/api/v1/jobs")).status_code == 200
        assert_problem(await gw.client.get("/api/v1/jobs"), 429)
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1  # logged once, not per request


# -- body size ------------------------------------------------------------------------


async def test_body_over_limit_is_413_before_upstream(
    make_gateway: GatewayFactory, make_token: TokenFactory
) -> None:
    gw = await make_gateway(max_body_bytes=1000)
    r = await gw.client.post("/api/v1/jobs", content=b"x" * 1001, headers=bearer(make_token()))
    assert_problem(r, 413)
    assert not gw.upstreams["jobs"].calls
    ok = await gw.client.post("/api/v1/jobs", content=b"x" * 1000, headers=bearer(make_token()))
    assert ok.status_code == 200 and ok.json()["body_length"] == 1000


async def test_chunked_body_over_limit_is_413(make_gateway: GatewayFactory, make_token: TokenFactory) -> None:
    gw = await make_gateway(max_body_bytes=1000)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"y" * 300

    r = await gw.client.post("/api/v1/jobs", content=chunks(), headers=bearer(make_token()))
    assert_problem(r, 413)
    assert not [c for c in gw.upstreams["jobs"].calls if c["body_length"] > 1000]


# -- CORS and security headers --------------------------------------------------------


async def test_cors_preflight_from_allowed_origin(gw: GatewayUnderTest) -> None:
    r = await gw.client.options(
        "/api/v1/jobs",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert r.headers["access-control-allow-credentials"] == "true"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert not gw.upstreams["jobs"].calls  # preflights end at the gateway

    r = await gw.client.get("/api/v1/jobs", headers={"Origin": "http://localhost:3000"})
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
    exposed = r.headers["access-control-expose-headers"].lower()
    for name in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "x-request-id"]:
        assert name in exposed


async def test_cors_preflight_from_other_origin_is_refused(gw: GatewayUnderTest) -> None:
    r = await gw.client.options(
        "/api/v1/jobs",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert_problem(r, 400)
    assert "access-control-allow-origin" not in r.headers
    r = await gw.client.get("/api/v1/jobs", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_wildcard_cors_origin_is_rejected() -> None:
    with pytest.raises(ValueError, match="explicit origins"):
        GatewaySettings(cors_allow_origins=["*"])


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/jobs", "/api/v1/nope", "/api/v1/auth/me"])
async def test_security_headers_on_every_response(gw: GatewayUnderTest, path: str) -> None:
    r = await gw.client.get(path)
    assert r.headers["strict-transport-security"].startswith("max-age=")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert len(r.headers["x-request-id"]) >= 8
    assert len(r.headers.get_list("x-request-id")) == 1


async def test_docs_page_has_its_own_csp(gw: GatewayUnderTest) -> None:
    r = await gw.client.get("/docs")
    assert r.status_code == 200
    assert "/api/v1/openapi.json" in r.text
    csp = r.headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in csp and "'sha256-" in csp
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
    assert r.headers["x-frame-options"] == "DENY"


async def test_gateway_own_openapi_and_docs_are_off(gw: GatewayUnderTest) -> None:
    assert_problem(await gw.client.get("/openapi.json"), 404)
    assert_problem(await gw.client.get("/redoc"), 404)


async def test_gzip(gw: GatewayUnderTest) -> None:
    r = await gw.client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.json()["openapi"] == "3.1.0"


# -- merged OpenAPI -----------------------------------------------------------------------


async def test_merged_openapi(gw: GatewayUnderTest) -> None:
    r = await gw.client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    paths = doc["paths"]
    assert {"/api/v1/auth/login", "/api/v1/auth/me", "/.well-known/jwks.json"} <= set(paths)
    assert {"/api/v1/jobs", "/api/v1/jobs/{job_id}"} <= set(paths)
    assert "/internal/stats" not in paths  # not under /api/v1 or /.well-known
    assert "/api/v1/jobs/not-really" not in paths  # auth cannot serve a jobs path
    assert doc["info"]["x-unavailable"] == []

    schemas = doc["components"]["schemas"]
    # same name, different definitions: renamed per area, references rewritten
    assert "Profile" not in schemas
    assert schemas["AuthProfile"]["properties"].keys() == {"email", "roles"}
    assert schemas["JobsProfile"]["properties"].keys() == {"company", "abn"}
    assert schemas["Job"]["properties"]["employer"]["$ref"] == "#/components/schemas/JobsProfile"
    me = paths["/api/v1/auth/me"]["get"]
    assert me["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AuthProfile"
    }
    # same name, same definition: kept once
    assert "PageInfo" in schemas and "AuthPageInfo" not in schemas
    # every reference resolves
    for ref in all_refs(doc):
        _, _, kind, name = ref.split("/")
        assert name in doc["components"][kind], ref

    # one bearer scheme, required on protected operations, optional on public ones
    assert doc["components"]["securitySchemes"] == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"],
        }
    }
    assert me["security"] == [{"bearerAuth": []}]
    assert paths["/api/v1/jobs"]["post"]["security"] == [{"bearerAuth": []}]
    assert {} in paths["/api/v1/jobs"]["get"]["security"]
    assert {} in paths["/api/v1/auth/login"]["post"]["security"]
    # tags per area, unique operation ids
    assert paths["/api/v1/jobs"]["get"]["tags"] == ["jobs"]
    assert me["tags"] == ["auth"]
    assert {t["name"] for t in doc["tags"]} == {"auth", "jobs"}
    op_ids = [op["operationId"] for item in paths.values() for op in item.values() if "operationId" in op]
    assert len(op_ids) == len(set(op_ids))


async def test_merged_openapi_lists_unavailable_upstreams(
    make_gateway: GatewayFactory, upstreams: dict[str, FakeUpstream]
) -> None:
    gw = await make_gateway(transports={"auth": upstreams["auth"].transport, "search": DownTransport()})
    r = await gw.client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["info"]["x-unavailable"] == ["search"]
    assert "/api/v1/auth/login" in doc["paths"]


# -- health, readiness, metrics, upstream failures -------------------------------------


async def test_healthz_and_metrics(gw: GatewayUnderTest) -> None:
    assert (await gw.client.get("/healthz")).json() == {"status": "ok"}
    await gw.client.get("/api/v1/jobs")
    text = (await gw.client.get("/metrics")).text
    assert 'aujobs_gateway_upstream_requests_total{status="200",upstream="jobs"}' in text
    assert "aujobs_gateway_rate_limited_total" in text


async def test_readyz_all_up(gw: GatewayUnderTest) -> None:
    r = await gw.client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ready",
        "upstreams": {"auth": "ok", "jobs": "ok", "search": "ok"},
    }


async def test_readyz_reports_redis(make_gateway: GatewayFactory, redis_url: str) -> None:
    gw = await make_gateway(redis_url=redis_url)
    r = await gw.client.get("/readyz")
    assert r.status_code == 200 and r.json()["redis"] == "ok"


async def test_readyz_names_the_down_upstream(
    make_gateway: GatewayFactory, upstreams: dict[str, FakeUpstream]
) -> None:
    upstreams["search"].ready = False
    gw = await make_gateway(
        transports={
            "auth": upstreams["auth"].transport,
            "jobs": DownTransport(),
            "search": upstreams["search"].transport,
        }
    )
    r = await gw.client.get("/readyz")
    body = assert_problem(r, 503)
    assert "jobs" in body["detail"] and "search" in body["detail"]
    assert "auth" not in body["detail"]
    assert body["down"] == ["jobs", "search"]
    assert body["upstreams"]["auth"] == "ok"
    assert body["upstreams"]["jobs"] == "unavailable: ConnectError"


async def test_upstream_connect_error_is_502(
    make_gateway: GatewayFactory, upstreams: dict[str, FakeUpstream]
) -> None:
    gw = await make_gateway(transports={"jobs": DownTransport()})
    body = assert_problem(await gw.client.get("/api/v1/jobs"), 502)
    assert "jobs" in body["detail"]


async def test_upstream_timeout_is_504(make_gateway: GatewayFactory) -> None:
    gw = await make_gateway(transports={"jobs": DownTransport(httpx.ReadTimeout)})
    assert_problem(await gw.client.get("/api/v1/jobs"), 504)


async def test_upstream_over_the_network_is_502_when_nothing_listens(
    make_gateway: GatewayFactory,
) -> None:
    gw = await make_gateway(transports={}, gateway_routes={"jobs": "http://127.0.0.1:1"})
    assert_problem(await gw.client.get("/api/v1/jobs"), 502)


# -- streaming ------------------------------------------------------------------------


async def test_streaming_large_upload(gw: GatewayUnderTest, make_token: TokenFactory) -> None:
    size = 5 * 1024 * 1024
    payload = pattern_bytes(0, size)

    r = await gw.client.post("/api/v1/jobs/upload", content=payload, headers=bearer(make_token()))
    assert r.status_code == 200
    assert r.json()["body_length"] == size
    assert r.json()["body_sha256"] == hashlib.sha256(payload).hexdigest()

    async def chunked() -> AsyncIterator[bytes]:
        for offset in range(0, size, 256 * 1024):
            yield payload[offset : offset + 256 * 1024]

    r = await gw.client.post("/api/v1/jobs/upload", content=chunked(), headers=bearer(make_token()))
    assert r.status_code == 200
    assert r.json()["body_length"] == size
    assert r.json()["body_sha256"] == hashlib.sha256(payload).hexdigest()
    call = gw.upstreams["jobs"].calls[-1]
    assert gw.upstreams["jobs"].header(call, "content-length") == []  # streamed, not buffered


async def test_streaming_large_download(gw: GatewayUnderTest) -> None:
    size = 5 * 1024 * 1024 + 123
    expected = b"".join(pattern_bytes(offset, min(65536, size - offset)) for offset in range(0, size, 65536))
    async with gw.client.stream(
        "GET", f"/api/v1/jobs/download?size={size}", headers={"Accept-Encoding": "identity"}
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-length"] == str(size)
        received = b"".join([chunk async for chunk in r.aiter_bytes()])
    assert len(received) == size
    assert hashlib.sha256(received).digest() == hashlib.sha256(expected).digest()

    r = await gw.client.get(f"/api/v1/jobs/download?size={size}")  # gzip on the way
    assert r.content == expected


def test_merge_renames_definitions_that_refer_to_a_renamed_one() -> None:
    from aujobs_gateway.openapi import SpecSource, merge_openapi

    def doc(profile_field: str) -> dict[str, Any]:
        return {
            "paths": {},
            "components": {
                "schemas": {
                    "Profile": {"properties": {profile_field: {"type": "string"}}},
                    # identical text, but it means a different Profile in each service
                    "Envelope": {"properties": {"item": {"$ref": "#/components/schemas/Profile"}}},
                    "Shared": {"properties": {"n": {"type": "integer"}}},
                }
            },
        }

    merged = merge_openapi(
        [
            SpecSource("auth", doc("email"), lambda p: None),
            SpecSource("jobs", doc("company"), lambda p: None),
        ],
        is_public=lambda m, p: False,
    )
    schemas = merged["components"]["schemas"]
    assert set(schemas) == {
        "AuthProfile",
        "JobsProfile",
        "AuthEnvelope",
        "JobsEnvelope",
        "Shared",
    }
    assert schemas["JobsEnvelope"]["properties"]["item"]["$ref"] == "#/components/schemas/JobsProfile"
    assert schemas["AuthEnvelope"]["properties"]["item"]["$ref"] == "#/components/schemas/AuthProfile"


async def test_keys_come_from_the_auth_transport_in_embedded_mode(
    signing_key: SigningKey, make_token: TokenFactory
) -> None:
    auth = FakeUpstream("auth", AUTH_SPEC, jwks=[signing_key.public_jwk])
    app = create_app(
        GatewaySettings(
            jwt_issuer=ISSUER,
            jwt_audience=AUDIENCE,
            redis_url=None,
            gateway_routes={"auth": "http://auth.internal"},
            jwks_url="http://auth.internal/.well-known/jwks.json",
        ),
        transports={"auth": auth.transport},
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://api.test") as client,
    ):
        user = uuid.uuid4()
        r = await client.get("/api/v1/auth/me", headers=bearer(make_token(sub=user)))
        assert r.status_code == 200, r.text
        assert auth.header(auth.calls[-1], "x-user-id") == [str(user)]
