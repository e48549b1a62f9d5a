from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from aujobs_common.app import create_service_app
from aujobs_common.bus import EventBus
from aujobs_common.security import KeySource

from .api import router
from .companies_api import router as companies_router
from .settings import JobsSettings, get_settings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: JobsSettings | None = None, *, bus: EventBus | None = None, key_source: KeySource | None = None
) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        settings=settings,
        title="Australia Jobs — jobs",
        description="Job postings and their publishing workflow; company profiles.",
        routers=[router, companies_router],
        migrations=MIGRATIONS,
        bus=bus,
        key_source=key_source,
    )
