from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from fastapi import FastAPI

from aujobs_common.app import ServiceRuntime, Subscription, create_service_app
from aujobs_common.bus import EventBus
from aujobs_common.security import KeySource

from . import analytics
from .analytics_api import router as analytics_router
from .api import router
from .companies_api import router as companies_router
from .export_api import router as export_router
from .media_api import router as media_router
from .reviews_api import router as reviews_router
from .service import Presenter, WorkflowPolicy, utcnow
from .settings import JobsSettings, get_settings
from .workflow import WorkflowClock

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: JobsSettings | None = None,
    *,
    bus: EventBus | None = None,
    key_source: KeySource | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """``clock``: the service's idea of now (tests move it; real time by default)."""
    settings = settings or get_settings()
    now = clock or utcnow
    policy = WorkflowPolicy(
        lifetime=timedelta(days=settings.posting_lifetime_days),
        reminder_before=timedelta(days=settings.expiry_reminder_days),
    )

    async def start(runtime: ServiceRuntime) -> None:
        runtime.extras.update(
            clock=now,
            workflow_policy=policy,
            presenter=Presenter(settings.frontend_url, settings.public_api_url),
        )
        workflow = WorkflowClock(
            runtime.db,
            policy,
            clock=now,
            events_committed=runtime.events_committed,
            poll_interval=settings.workflow_poll_interval_s,
        )
        runtime.extras["workflow"] = workflow
        if settings.workflow_poll_interval_s > 0:
            workflow.start()
        tally = analytics.ViewTally(runtime.db, interval=settings.view_flush_interval_s)
        runtime.extras["view_tally"] = tally
        tally.start()

    async def stop(runtime: ServiceRuntime) -> None:
        workflow: WorkflowClock | None = runtime.extras.pop("workflow", None)
        if workflow is not None:
            await workflow.stop()
        tally: analytics.ViewTally | None = runtime.extras.pop("view_tally", None)
        if tally is not None:
            await tally.stop()
            await tally.flush()

    subscriptions: list[Subscription] = [analytics.SUBSCRIPTION]
    return create_service_app(
        settings=settings,
        title="Australia Jobs — jobs",
        description="Job postings and their publishing workflow; companies, their reviews and media.",
        routers=[export_router, router, companies_router, reviews_router, media_router, analytics_router],
        migrations=MIGRATIONS,
        bus=bus,
        key_source=key_source,
        subscriptions=subscriptions,
        on_startup=[start],
        on_shutdown=[stop],
    )
