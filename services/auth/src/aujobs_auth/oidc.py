"""OpenID Connect client for "Sign in with Google / LinkedIn": discovery, the
authorization-code flow with PKCE (S256), the token endpoint (code and refresh-token
grants) and ID token verification against the provider's JWKS.

Everything the provider says over the network is checked here; the callers get
either verified claims and tokens or an :class:`OIDCError` with a short ``code`` that
the frontend understands (``provider_unavailable``, ``invalid_id_token``, …)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from cryptography.fernet import Fernet, InvalidToken
from jose import jwt
from jose.exceptions import JOSEError

from .settings import AuthSettings

PROVIDERS = ("google", "linkedin")
SCOPES = "openid email profile"
#: ID token algorithms accepted (never ``none`` or an HMAC with a public key).
ALLOWED_ALGORITHMS = {"RS256": "RSA", "ES256": "EC"}
CLOCK_SKEW_SECONDS = 60
_JWKS_MIN_REFETCH_SECONDS = 10


class OIDCError(Exception):
    """A failed step of a flow; ``code`` is what the frontend is told."""

    code = "provider_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ProviderUnavailable(OIDCError):
    code = "provider_unavailable"


class InvalidIdToken(OIDCError):
    code = "invalid_id_token"


class GrantRejected(OIDCError):
    """The token endpoint refused the code or refresh token (4xx)."""

    code = "invalid_grant"


@dataclass(frozen=True)
class Provider:
    name: str
    client_id: str | None
    client_secret: str | None
    issuer: str

    @property
    def enabled(self) -> bool:
        return bool(self.client_id)

    @property
    def accepted_issuers(self) -> tuple[str, ...]:
        # Google signs some ID tokens with the scheme-less issuer (its docs allow both).
        if self.issuer == "https://accounts.google.com":
            return (self.issuer, "accounts.google.com")
        return (self.issuer,)


def providers_from(settings: AuthSettings) -> dict[str, Provider]:
    return {
        name: Provider(
            name=name,
            client_id=getattr(settings, f"{name}_client_id"),
            client_secret=getattr(settings, f"{name}_client_secret"),
            issuer=getattr(settings, f"{name}_issuer").rstrip("/"),
        )
        for name in PROVIDERS
    }


# ------------------------------------------------------------------ PKCE and secrets


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_code_verifier() -> str:
    return secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-] (RFC 7636 §4.1)


def code_challenge(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode()).digest())


class TokenBox:
    """Encrypts provider tokens (and PKCE verifiers) at rest with a key of its own,
    derived from AUTH_KEY_ENCRYPTION_SECRET."""

    def __init__(self, secret: str) -> None:
        digest = hashlib.sha256(b"aujobs-auth-oauth:" + secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken as exc:  # the secret changed: the stored value is unusable
            raise OIDCError(
                "stored provider token cannot be decrypted", "provider_token_unavailable"
            ) from exc


# ------------------------------------------------------------------ the client


@dataclass
class _Cached:
    value: dict[str, Any]
    fetched_at: float


class OIDCClient:
    """Talks to the providers over one shared httpx client; discovery documents and
    JWKS are cached (``cache_seconds``), the JWKS refetched when a new key id shows up."""

    def __init__(self, http: httpx.AsyncClient, *, cache_seconds: float = 3600) -> None:
        self.http = http
        self.cache_seconds = cache_seconds
        self._metadata: dict[str, _Cached] = {}
        self._jwks: dict[str, _Cached] = {}

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self.http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"{url}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise ProviderUnavailable(f"{url}: HTTP {response.status_code}")
        try:
            doc = response.json()
        except ValueError as exc:
            raise ProviderUnavailable(f"{url}: not JSON") from exc
        if not isinstance(doc, dict):
            raise ProviderUnavailable(f"{url}: not a JSON object")
        return doc

    async def metadata(self, provider: Provider) -> dict[str, Any]:
        cached = self._metadata.get(provider.name)
        if cached and time.monotonic() - cached.fetched_at < self.cache_seconds:
            return cached.value
        doc = await self._get_json(f"{provider.issuer}/.well-known/openid-configuration")
        # OpenID Connect Discovery §4.3: the document's issuer is exactly the one asked.
        if doc.get("issuer", "").rstrip("/") != provider.issuer:
            raise ProviderUnavailable(f"discovery issuer {doc.get('issuer')!r} is not {provider.issuer!r}")
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(doc.get(field), str):
                raise ProviderUnavailable(f"discovery document has no {field}")
        self._metadata[provider.name] = _Cached(doc, time.monotonic())
        return doc

    async def _keys(self, provider: Provider, *, refresh: bool = False) -> list[dict[str, Any]]:
        cached = self._jwks.get(provider.name)
        now = time.monotonic()
        fresh = cached and now - cached.fetched_at < self.cache_seconds
        if fresh and not (refresh and now - cached.fetched_at > _JWKS_MIN_REFETCH_SECONDS):
            return cached.value.get("keys", [])
        meta = await self.metadata(provider)
        doc = await self._get_json(meta["jwks_uri"])
        if not isinstance(doc.get("keys"), list):
            raise ProviderUnavailable("JWKS has no keys")
        self._jwks[provider.name] = _Cached(doc, now)
        return doc["keys"]

    async def authorization_url(
        self, provider: Provider, *, redirect_uri: str, state: str, nonce: str, verifier: str
    ) -> str:
        meta = await self.metadata(provider)
        params = {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        endpoint = meta["authorization_endpoint"]
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"

    async def _token_request(self, provider: Provider, form: dict[str, str]) -> dict[str, Any]:
        meta = await self.metadata(provider)
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        headers = {"Accept": "application/json"}
        form = dict(form)
        if "client_secret_post" in methods or "client_secret_basic" not in methods:
            form["client_id"] = provider.client_id or ""
            form["client_secret"] = provider.client_secret or ""
        else:  # RFC 6749 §2.3.1: form-urlencode each part before base64
            pair = (
                f"{quote(provider.client_id or '', safe='')}:{quote(provider.client_secret or '', safe='')}"
            )
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        try:
            response = await self.http.post(meta["token_endpoint"], data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"token endpoint: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderUnavailable(f"token endpoint: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderUnavailable("token endpoint: not JSON") from exc
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise GrantRejected(f"token endpoint refused: {error or response.status_code}")
        if not isinstance(body.get("access_token"), str):
            raise ProviderUnavailable("token endpoint answered without an access token")
        return body

    async def exchange_code(
        self, provider: Provider, *, code: str, redirect_uri: str, verifier: str
    ) -> dict[str, Any]:
        body = await self._token_request(
            provider,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
        )
        if not isinstance(body.get("id_token"), str):
            raise InvalidIdToken("token endpoint answered without an ID token")
        return body

    async def refresh(self, provider: Provider, *, refresh_token: str) -> dict[str, Any]:
        return await self._token_request(
            provider, {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    async def verify_id_token(
        self, provider: Provider, id_token: str, *, nonce: str, access_token: str | None = None
    ) -> dict[str, Any]:
        """The claims of a valid ID token: signature by a key of the provider's JWKS
        (RS256/ES256 only), issuer, audience (our client id), expiry, issued-at, nonce,
        ``azp`` when there are several audiences, ``at_hash`` when present."""
        try:
            header = jwt.get_unverified_header(id_token)
        except JOSEError as exc:
            raise InvalidIdToken("malformed ID token") from exc
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise InvalidIdToken(f"ID token algorithm {alg!r} is not allowed")
        key = await self._key_for(provider, header.get("kid"), ALLOWED_ALGORITHMS[alg])
        try:
            claims = jwt.decode(
                id_token,
                key,
                algorithms=[alg],
                audience=provider.client_id,
                issuer=list(provider.accepted_issuers),
                access_token=access_token,
                options={
                    "leeway": CLOCK_SKEW_SECONDS,
                    "require_exp": True,
                    "require_iat": True,
                    "require_iss": True,
                    "require_aud": True,
                    "require_sub": True,
                },
            )
        except JOSEError as exc:
            raise InvalidIdToken(f"ID token rejected: {exc}") from exc
        aud = claims.get("aud")
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != provider.client_id:
            raise InvalidIdToken("ID token has several audiences and another authorised party")
        if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
            raise InvalidIdToken("ID token nonce does not match this sign-in")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise InvalidIdToken("ID token has no subject")
        return claims

    async def _key_for(self, provider: Provider, kid: str | None, kty: str) -> dict[str, Any]:
        for attempt in (False, True):
            keys = [k for k in await self._keys(provider, refresh=attempt) if k.get("kty") == kty]
            if kid is not None:
                keys = [k for k in keys if k.get("kid") == kid]
            if len(keys) == 1 or (keys and kid is not None):
                return keys[0]
        raise InvalidIdToken(f"no {kty} key {kid!r} in the provider's JWKS")


def claim_true(value: Any) -> bool:
    """``email_verified`` as a boolean (some providers send the string "true")."""
    return value is True or (isinstance(value, str) and value.lower() == "true")
