from __future__ import annotations

import ipaddress
import logging
from pathlib import Path
from typing import Any, Protocol

import redis.asyncio
from fastapi import FastAPI
from redis.exceptions import RedisError

from aujobs_common.app import ServiceRuntime, create_service_app
from aujobs_common.bus import EventBus
from aujobs_common.errors import ProblemError
from aujobs_common.security import MemoryDenylist, RedisDenylist, StaticKeySource

from .admin_api import router as admin_router
from .api import router, wellknown
from .keys import KeyManager
from .oauth import OAuthService
from .oauth_api import router as oauth_router
from .settings import AuthSettings, get_settings
from .tasks import Maintenance
from .throttle import MemoryAttemptStore, RedisAttemptStore, Throttle
from .totp import SecretBox

MIGRATIONS = Path(__file__).parent / "migrations"

log = logging.getLogger(__name__)


class TokenDenylist(Protocol):
    """Revoked access-token ids, shared with the gateway (Redis, or one in-process
    object in embedded mode)."""

    async def is_revoked(self, jti: str) -> bool: ...

    async def revoke(self, jti: str, ttl_seconds: int) -> None: ...


class _CheckedDenylist:
    """The auth service's own token checks: an unreachable Redis is a 503, not a 500."""

    def __init__(self, inner: TokenDenylist) -> None:
        self.inner = inner

    async def is_revoked(self, jti: str) -> bool:
        try:
            return await self.inner.is_revoked(jti)
        except RedisError as exc:
            log.error("token denylist unavailable", extra={"error_type": type(exc).__name__})
            raise ProblemError(
                503,
                "Sign-in state cannot be checked right now; please retry shortly.",
                type_="service-unavailable",
                headers={"Retry-After": "5"},
            ) from exc


def create_app(
    settings: AuthSettings | None = None,
    *,
    bus: EventBus | None = None,
    denylist: TokenDenylist | None = None,
) -> FastAPI:
    """``denylist``: where logout writes revoked token ids; by default Redis when
    REDIS_URL is set, else in-process (pass the gateway's object in embedded mode)."""
    settings = settings or get_settings()
    holder: dict[str, KeyManager] = {}
    redis_client: Any = redis.asyncio.from_url(settings.redis_url) if settings.redis_url else None
    if denylist is None:
        denylist = RedisDenylist(redis_client) if redis_client is not None else MemoryDenylist()
    store = (
        RedisAttemptStore(redis_client, settings.rate_limit_key_prefix)
        if redis_client is not None
        else MemoryAttemptStore()
    )

    async def own_keys() -> list[dict]:
        # The auth service verifies its own tokens from its keys, not over HTTP.
        return await holder["keys"].public_keys()

    async def start(runtime: ServiceRuntime) -> None:
        keys = KeyManager(runtime.db, settings)
        holder["keys"] = keys
        runtime.extras["keys"] = keys
        await keys.ensure_key()
        maintenance = Maintenance(runtime.db, keys, settings, runtime.events_committed)
        runtime.extras["maintenance"] = maintenance
        maintenance.start()
        runtime.extras["oauth"] = OAuthService(runtime.db, settings)

    async def stop(runtime: ServiceRuntime) -> None:
        maintenance: Maintenance | None = runtime.extras.get("maintenance")
        if maintenance is not None:
            await maintenance.stop()
        oauth: OAuthService | None = runtime.extras.pop("oauth", None)
        if oauth is not None:
            await oauth.close()
        if redis_client is not None:
            await redis_client.aclose()

    app = create_service_app(
        settings=settings,
        title="Australia Jobs — auth",
        description="Accounts, sign-in, sessions, two-factor sign-in, email verification, "
        "password reset, sign-in with Google and LinkedIn, the audit log, tokens and the JWKS.",
        routers=[router, admin_router, oauth_router, wellknown],
        migrations=MIGRATIONS,
        bus=bus,
        key_source=StaticKeySource(own_keys),
        on_startup=[start],
        on_shutdown=[stop],
    )
    runtime: ServiceRuntime = app.state.runtime
    runtime.verifier.denylist = _CheckedDenylist(denylist)  # /me etc. refuse signed-out tokens
    runtime.extras.update(
        denylist=denylist,
        throttle=Throttle(store),
        totp_box=SecretBox(settings.auth_key_encryption_secret),
        trusted_proxies=tuple(ipaddress.ip_network(n, strict=False) for n in settings.trusted_proxies),
    )
    return app
