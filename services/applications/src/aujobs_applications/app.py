from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
from fastapi import FastAPI

from aujobs_common.app import ServiceRuntime, create_service_app
from aujobs_common.blobs import PostgresBlobStore
from aujobs_common.bus import EventBus
from aujobs_common.security import KeySource

from .api import jobs_router, router
from .attachments_api import router as attachments_router
from .models import blobs
from .readmodels import SUBSCRIPTIONS
from .resumes_client import ResumesClient
from .service import utcnow
from .settings import ApplicationsSettings, get_settings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: ApplicationsSettings | None = None,
    *,
    bus: EventBus | None = None,
    key_source: KeySource | None = None,
    resumes_transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """``resumes_transport``: how to reach the resumes service (an ASGI transport in
    embedded mode, a mock in tests; real HTTP to ``settings.resumes_url`` by default).
    ``clock``: the service's idea of now (tests move it; real time by default)."""
    settings = settings or get_settings()
    now = clock or utcnow

    async def start(runtime: ServiceRuntime) -> None:
        runtime.extras.update(
            clock=now,
            blobs=PostgresBlobStore(blobs),
            resumes=ResumesClient(
                settings.resumes_url, transport=resumes_transport, timeout=settings.resumes_timeout_s
            ),
        )

    async def stop(runtime: ServiceRuntime) -> None:
        client: ResumesClient | None = runtime.extras.pop("resumes", None)
        if client is not None:
            await client.aclose()

    app = create_service_app(
        settings=settings,
        title="Australia Jobs — applications",
        description=(
            "Applications to jobs: applying with a resume version and screening answers, the "
            "applicant's own list, the employer pipeline (status workflow, notes, bulk changes, "
            "analytics) and attachments."
        ),
        # attachments first: its literal paths must not be shadowed by /{application_id}
        routers=[attachments_router, router, jobs_router],
        migrations=MIGRATIONS,
        bus=bus,
        key_source=key_source,
        subscriptions=SUBSCRIPTIONS,
        on_startup=[start],
        on_shutdown=[stop],
    )

    return app
