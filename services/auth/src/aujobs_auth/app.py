from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from aujobs_common.app import ServiceRuntime, create_service_app
from aujobs_common.bus import EventBus
from aujobs_common.security import StaticKeySource

from .api import router, wellknown
from .keys import KeyManager
from .settings import AuthSettings, get_settings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: AuthSettings | None = None, *, bus: EventBus | None = None) -> FastAPI:
    settings = settings or get_settings()
    holder: dict[str, KeyManager] = {}

    async def own_keys() -> list[dict]:
        # The auth service verifies its own tokens from its keys, not over HTTP.
        return await holder["keys"].public_keys()

    async def start_keys(runtime: ServiceRuntime) -> None:
        keys = KeyManager(runtime.db, settings)
        holder["keys"] = keys
        runtime.extras["keys"] = keys
        await keys.ensure_key()

    return create_service_app(
        settings=settings,
        title="Australia Jobs — auth",
        description="Accounts, sign-in, tokens and the JWKS.",
        routers=[router, wellknown],
        migrations=MIGRATIONS,
        bus=bus,
        key_source=StaticKeySource(own_keys),
        on_startup=[start_keys],
    )
