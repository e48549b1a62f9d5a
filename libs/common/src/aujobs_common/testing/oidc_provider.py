"""A local OpenID Connect provider for tests: a test double that speaks the real protocol.

It serves discovery, ``/authorize`` (authorisation code with PKCE S256, ``state`` and
``nonce``), ``/token`` (``authorization_code`` and ``refresh_token`` grants,
``client_secret_basic`` or ``client_secret_post``) and a JWKS, and signs real RS256 ID
tokens. Two tenants on one server: ``/google`` and ``/linkedin``. Served by uvicorn on
127.0.0.1 on a free port (:func:`serve`, :func:`local_idp`), so a service under test
talks to it over real HTTP, in process or from another process.

Each :class:`Tenant` says who signs in next (``user``: the ID token's claims) and can
spoil the flow (``deny``, ``tamper``, ``sign_with``, ``token_status``); it records what
it issued and received (codes, verifiers, tokens) for the tests' checks.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import secrets
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

import httpx
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from jose import jwk, jwt

from aujobs_common.testing.waiting import eventually

# (client_id, client_secret) the provider accepts per tenant
CLIENTS = {
    "google": ("aujobs-google-client", "google-secret"),
    "linkedin": ("aujobs-li-client", "li/secret+"),
}


def rsa_pem() -> str:
    """A fresh 2048-bit RSA private key (PKCS#8 PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


PROVIDER_KEY = rsa_pem()
KID = "idp-key-1"


def public_jwk(pem: str, kid: str) -> dict[str, Any]:
    doc = jwk.construct(pem, "RS256").public_key().to_dict()
    doc = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in doc.items()}
    return {**doc, "kid": kid, "use": "sig", "alg": "RS256"}


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier``."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Tenant:
    """One provider (``/google`` or ``/linkedin`` on the local server)."""

    name: str
    issuer: str = ""
    auth_methods: list[str] = field(default_factory=lambda: ["client_secret_post"])
    # who signs in at /authorize next, and how the next ID token is spoiled
    user: dict[str, Any] = field(default_factory=dict)
    deny: bool = False
    tamper: dict[str, Any] = field(default_factory=dict)
    sign_with: tuple[str, str] = (PROVIDER_KEY, KID)
    token_status: int | None = None
    expires_in: int = 3600
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    verifiers: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    issued_access_tokens: list[str] = field(default_factory=list)
    issued_refresh_tokens: list[str] = field(default_factory=list)
    refresh_grants: int = 0


class LocalIdP:
    """The provider app (``app``); ``base`` and the tenants' issuers are set once served."""

    def __init__(self, clients: dict[str, tuple[str, str]] | None = None) -> None:
        self.base = ""
        self.clients = dict(clients or CLIENTS)
        self.tenants = {
            "google": Tenant("google", auth_methods=["client_secret_basic"]),
            "linkedin": Tenant("linkedin", auth_methods=["client_secret_post"]),
        }
        # a client for "the browser at the provider" (set by local_idp)
        self.http: httpx.AsyncClient
        self.app = self._build()

    def bind(self, base: str) -> None:
        self.base = base.rstrip("/")
        for name, tenant in self.tenants.items():
            tenant.issuer = f"{self.base}/{name}"

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/{tenant}/.well-known/openid-configuration")
        async def discovery(tenant: str) -> dict[str, Any]:
            t = self.tenants[tenant]
            return {
                "issuer": t.issuer,
                "authorization_endpoint": f"{t.issuer}/authorize",
                "token_endpoint": f"{t.issuer}/token",
                "jwks_uri": f"{t.issuer}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": t.auth_methods,
                "code_challenge_methods_supported": ["S256"],
            }

        @app.get("/{tenant}/jwks")
        async def jwks(tenant: str) -> dict[str, Any]:
            return {"keys": [public_jwk(PROVIDER_KEY, KID)]}

        @app.get("/{tenant}/authorize")
        async def authorize(tenant: str, request: Request) -> RedirectResponse:
            t = self.tenants[tenant]
            q = request.query_params
            assert q["client_id"] == self.clients[tenant][0] and q["response_type"] == "code"
            assert q["code_challenge_method"] == "S256" and set(q["scope"].split()) == {
                "openid",
                "email",
                "profile",
            }
            back = q["redirect_uri"]
            if t.deny:
                return RedirectResponse(
                    f"{back}?{urlencode({'error': 'access_denied', 'state': q['state']})}"
                )
            code = secrets.token_urlsafe(16)
            t.codes[code] = {
                "client_id": q["client_id"],
                "redirect_uri": back,
                "challenge": q["code_challenge"],
                "nonce": q["nonce"],
                "user": dict(t.user),
            }
            return RedirectResponse(f"{back}?{urlencode({'code': code, 'state': q['state']})}")

        @app.post("/{tenant}/token")
        async def token(tenant: str, request: Request) -> JSONResponse:
            assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            grant_type, code = form.get("grant_type"), form.get("code")
            redirect_uri, code_verifier = form.get("redirect_uri"), form.get("code_verifier")
            refresh_token = form.get("refresh_token")
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            t = self.tenants[tenant]
            if t.token_status:
                return JSONResponse({"error": "temporarily_unavailable"}, t.token_status)
            if "client_secret_basic" in t.auth_methods:
                scheme, _, value = request.headers.get("authorization", "").partition(" ")
                pair = base64.b64decode(value).decode() if scheme == "Basic" else ":"
                user, _, password = pair.partition(":")
                client_id, client_secret = unquote(user), unquote(password)
            if (client_id, client_secret) != self.clients[tenant]:
                return JSONResponse({"error": "invalid_client"}, 401)
            if grant_type == "refresh_token":
                if t.refresh_tokens.pop(refresh_token or "", None) is None:
                    return JSONResponse({"error": "invalid_grant"}, 400)
                t.refresh_grants += 1
                return JSONResponse(self._tokens(t, sub="refreshed"))
            pending = t.codes.pop(code or "", None)
            if pending is None or pending["redirect_uri"] != redirect_uri:
                return JSONResponse({"error": "invalid_grant"}, 400)
            if not code_verifier or s256(code_verifier) != pending["challenge"]:
                t.rejected.append(code_verifier or "")
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, 400)
            t.verifiers.append(code_verifier)
            now = int(time.time())
            claims = {
                "iss": t.issuer,
                "aud": client_id,
                "iat": now,
                "exp": now + 300,
                "nonce": pending["nonce"],
                **pending["user"],
                **t.tamper,
            }
            body = self._tokens(t, sub=claims.get("sub", ""))
            pem, kid = t.sign_with
            body["id_token"] = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})
            return JSONResponse(body)

        return app

    def _tokens(self, t: Tenant, *, sub: str) -> dict[str, Any]:
        access, refresh = f"at-{secrets.token_urlsafe(12)}", f"rt-{secrets.token_urlsafe(12)}"
        t.refresh_tokens[refresh] = sub
        t.issued_access_tokens.append(access)
        t.issued_refresh_tokens.append(refresh)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": t.expires_in,
            "refresh_token": refresh,
        }

    def settings(
        self, *, oauth_redirect_base_url: str | None = None, frontend_url: str | None = None
    ) -> dict[str, Any]:
        """The auth service's settings (``AuthSettings`` field names) for this provider,
        with the service's public origin and the frontend's URL when given."""
        values: dict[str, Any] = {
            "google_client_id": self.clients["google"][0],
            "google_client_secret": self.clients["google"][1],
            "google_issuer": self.tenants["google"].issuer,
            "linkedin_client_id": self.clients["linkedin"][0],
            "linkedin_client_secret": self.clients["linkedin"][1],
            "linkedin_issuer": self.tenants["linkedin"].issuer,
        }
        if oauth_redirect_base_url is not None:
            values["oauth_redirect_base_url"] = oauth_redirect_base_url
        if frontend_url is not None:
            values["frontend_url"] = frontend_url
        return values

    def env(
        self, *, oauth_redirect_base_url: str | None = None, frontend_url: str | None = None
    ) -> dict[str, str]:
        """The same as environment variables, for an auth service in its own process."""
        values = self.settings(oauth_redirect_base_url=oauth_redirect_base_url, frontend_url=frontend_url)
        return {k.upper(): str(v) for k, v in values.items()}


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Serves an ASGI ``app`` with uvicorn on a free 127.0.0.1 port in the running event
    loop; yields its base URL and stops it on exit."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done(), interval=0.01)
        if task.done():
            task.result()  # re-raises why it could not start
        yield base
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()


@contextlib.asynccontextmanager
async def local_idp(clients: dict[str, tuple[str, str]] | None = None) -> AsyncIterator[LocalIdP]:
    """A :class:`LocalIdP` served on a free port, with ``http`` for browsing to it."""
    provider = LocalIdP(clients)
    async with serve(provider.app) as base:
        provider.bind(base)
        async with httpx.AsyncClient() as http:
            provider.http = http
            yield provider
