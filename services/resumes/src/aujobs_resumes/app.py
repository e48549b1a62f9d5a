from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI

from aujobs_common.app import ServiceRuntime, create_service_app
from aujobs_common.bus import EventBus
from aujobs_common.security import KeySource

from . import jobs_view
from .api import router
from .api_sharing import router as sharing_router
from .api_tools import router as tools_router
from .service import utcnow
from .settings import ResumesSettings, get_settings
from .worker import ParseWorker

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: ResumesSettings | None = None,
    *,
    bus: EventBus | None = None,
    key_source: KeySource | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """``clock``: the service's idea of now (share-link expiry, parse retries; tests move
    it). The parse worker is ``runtime.extras["parser"]``; with PARSE_POLL_INTERVAL_S=0
    its loop is off and ``run_once()`` is called by hand."""
    settings = settings or get_settings()
    now = clock or utcnow

    async def start(runtime: ServiceRuntime) -> None:
        runtime.extras["clock"] = now
        parser = ParseWorker(runtime.db, settings, clock=now, events_committed=runtime.events_committed)
        runtime.extras["parser"] = parser
        if settings.parse_poll_interval_s > 0:
            parser.start()

    async def stop(runtime: ServiceRuntime) -> None:
        parser: ParseWorker | None = runtime.extras.pop("parser", None)
        if parser is not None:
            await parser.stop(grace=min(settings.parse_timeout_s, 10.0))

    return create_service_app(
        settings=settings,
        title="Australia Jobs — resumes",
        description=(
            "Job seekers' resumes: uploads and versions, background parsing into a structured "
            "profile, the builder and export, review against a job, and share links."
        ),
        # static paths (/templates, /builder, /shared/…) before /{resume_id}
        routers=[tools_router, sharing_router, router],
        migrations=MIGRATIONS,
        bus=bus,
        key_source=key_source,
        subscriptions=[jobs_view.SUBSCRIPTION],
        on_startup=[start],
        on_shutdown=[stop],
    )
