"""Access-token verification shared by the gateway and every service (DESIGN.md §4).

Tokens are JWTs signed by the auth service with an asymmetric key named by ``kid``;
the verifier accepts only an explicit algorithm allow-list (never ``none`` or HMAC,
which would let a public key be used as a shared secret), checks ``iss``, ``aud``,
``exp``, and fetches public keys from the JWKS endpoint, cached by key id."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

import httpx
from fastapi import Depends, Request
from jose import jwt
from jose.exceptions import ExpiredSignatureError, JWTClaimsError, JWTError

from .errors import ProblemError

log = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "PS384"})


class InvalidToken(Exception):
    """The token must not be trusted; ``reason`` is safe to show to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the verified token says."""

    user_id: uuid.UUID
    roles: frozenset[str]
    email_verified: bool = False
    token_id: str | None = None
    expires_at: datetime | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


class KeySource(Protocol):
    async def get_key(self, kid: str) -> dict[str, Any] | None: ...


class JWKSClient:
    """Fetches a JWKS document and caches its keys by ``kid``.

    An unknown ``kid`` triggers a refetch (keys rotate), but at most once per
    ``min_refetch_seconds`` so forged kids cannot make us hammer the auth service."""

    def __init__(
        self,
        url: str,
        *,
        http: httpx.AsyncClient | None = None,
        cache_seconds: float = 300,
        min_refetch_seconds: float = 5,
    ) -> None:
        self.url = url
        self._http = http
        self._own_http = http is None
        self.cache_seconds = cache_seconds
        self.min_refetch_seconds = min_refetch_seconds
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=5.0)
        return self._http

    async def refresh(self) -> None:
        client = await self._client()
        response = await client.get(self.url)
        response.raise_for_status()
        keys = response.json().get("keys", [])
        self._keys = {k["kid"]: k for k in keys if "kid" in k}
        self._fetched_at = time.monotonic()

    async def get_key(self, kid: str) -> dict[str, Any] | None:
        age = time.monotonic() - self._fetched_at
        if kid in self._keys and age < self.cache_seconds:
            return self._keys[kid]
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            stale = age >= self.cache_seconds
            may_refetch = age >= self.min_refetch_seconds
            if (kid not in self._keys and may_refetch) or stale:
                try:
                    await self.refresh()
                except (httpx.HTTPError, ValueError) as exc:
                    log.warning("JWKS fetch failed", extra={"error_type": type(exc).__name__})
                    if kid not in self._keys:
                        raise InvalidToken("signing keys are unavailable") from exc
        return self._keys.get(kid)

    async def aclose(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.aclose()


class StaticKeySource:
    """Keys held in memory (tests, and the auth service verifying its own tokens)."""

    def __init__(self, keys: list[dict[str, Any]] | Callable[[], Awaitable[list[dict[str, Any]]]]):
        self._keys = keys

    async def get_key(self, kid: str) -> dict[str, Any] | None:
        keys = self._keys if isinstance(self._keys, list) else await self._keys()
        return next((k for k in keys if k.get("kid") == kid), None)


class TokenDenylist(Protocol):
    async def is_revoked(self, jti: str) -> bool: ...


class TokenVerifier:
    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        algorithms: list[str] | tuple[str, ...] = ("RS256",),
        denylist: TokenDenylist | None = None,
        leeway_seconds: int = 30,
    ) -> None:
        unsafe = set(algorithms) - ASYMMETRIC_ALGORITHMS
        if unsafe:
            raise ValueError(f"algorithms not allowed for access tokens: {sorted(unsafe)}")
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.algorithms = list(algorithms)
        self.denylist = denylist
        self.leeway = leeway_seconds

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise InvalidToken("malformed token") from exc
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise InvalidToken("token algorithm is not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token has no key id")
        key = await self.keys.get_key(kid)
        if key is None:
            raise InvalidToken("token signed by an unknown key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require_exp": True,
                    "require_iat": True,
                    "require_sub": True,
                    "require_jti": True,
                    "leeway": self.leeway,
                },
            )
        except ExpiredSignatureError as exc:
            raise InvalidToken("token has expired") from exc
        except JWTClaimsError as exc:
            raise InvalidToken("token is not meant for this platform") from exc
        except JWTError as exc:
            raise InvalidToken("token signature is not valid") from exc
        if claims.get("typ", "access") != "access":
            raise InvalidToken("not an access token")
        jti = str(claims["jti"])
        if self.denylist is not None and await self.denylist.is_revoked(jti):
            raise InvalidToken("token has been revoked")
        try:
            user_id = uuid.UUID(str(claims["sub"]))
        except ValueError as exc:
            raise InvalidToken("token subject is not valid") from exc
        roles = claims.get("roles") or []
        return Principal(
            user_id=user_id,
            roles=frozenset(str(r) for r in roles),
            email_verified=bool(claims.get("email_verified", False)),
            token_id=jti,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            claims=claims,
        )


class RedisDenylist:
    """Revoked access-token ids in Redis (``aujobs:denylist:<jti>`` with a TTL of the
    token's remaining life); written by the auth service on logout."""

    prefix = "aujobs:denylist:"

    def __init__(self, redis: Any) -> None:
        self.redis = redis

    async def is_revoked(self, jti: str) -> bool:
        return bool(await self.redis.exists(self.prefix + jti))

    async def revoke(self, jti: str, ttl_seconds: int) -> None:
        await self.redis.set(self.prefix + jti, "1", ex=max(1, ttl_seconds))


class MemoryDenylist:
    """In-process fallback when no Redis is configured (embedded mode)."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    async def is_revoked(self, jti: str) -> bool:
        until = self._until.get(jti)
        if until is None:
            return False
        if until < time.time():
            self._until.pop(jti, None)
            return False
        return True

    async def revoke(self, jti: str, ttl_seconds: int) -> None:
        self._until[jti] = time.time() + ttl_seconds


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ProblemError(
            401,
            "Authorization must be 'Bearer <access token>'.",
            type_="invalid-token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_request"'},
        )
    return token.strip()


def unauthorized(reason: str) -> ProblemError:
    return ProblemError(
        401,
        reason,
        type_="invalid-token",
        title="Unauthorized",
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'},
    )


async def optional_principal(request: Request) -> Principal | None:
    """The caller when a valid token is sent; ``None`` when no token is sent.
    An invalid token is always an error, never silently anonymous."""
    token = bearer_token(request)
    if token is None:
        return None
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await verifier.verify(token)
    except InvalidToken as exc:
        raise unauthorized(exc.reason) from exc
    request.state.principal = principal
    return principal


async def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise ProblemError(
            401,
            "Sign in: this requires an access token.",
            type_="authentication-required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has_role(*roles):
            raise ProblemError(
                403,
                f"This requires one of the roles: {', '.join(roles)}.",
                type_="forbidden",
            )
        return principal

    return dependency


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
