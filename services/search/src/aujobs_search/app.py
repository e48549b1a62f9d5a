from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from aujobs_common.app import Subscription, create_service_app
from aujobs_common.bus import EventBus
from aujobs_common.security import KeySource

from .api import router
from .indexer import JOB_EVENTS, index_job_event
from .settings import SearchSettings, get_settings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: SearchSettings | None = None,
    *,
    bus: EventBus | None = None,
    key_source: KeySource | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        settings=settings,
        title="Australia Jobs — search",
        description="Job search over the index built from job events.",
        routers=[router],
        migrations=MIGRATIONS,
        bus=bus,
        key_source=key_source,
        subscriptions=[Subscription(patterns=JOB_EVENTS, handler=index_job_event, name="search.jobs")],
    )
