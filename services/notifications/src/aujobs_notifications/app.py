from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from aujobs_common.app import ServiceRuntime, Subscription, create_service_app
from aujobs_common.bus import EventBus
from aujobs_common.security import KeySource

from .api import router
from .consumer import (
    APPLICATION_EVENTS,
    JOB_EVENTS,
    USER_EVENTS,
    application_event_handler,
    job_event_handler,
    user_event_handler,
)
from .rendering import EmailRenderer
from .sender import EmailSender
from .settings import NotificationsSettings, get_settings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: NotificationsSettings | None = None,
    *,
    bus: EventBus | None = None,
    key_source: KeySource | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    renderer = EmailRenderer(frontend_url=settings.frontend_url, timezone=settings.display_timezone)
    holder: dict[str, EmailSender] = {}

    def wake_sender() -> None:
        sender = holder.get("sender")
        if sender is not None:
            sender.notify()

    async def start_sender(runtime: ServiceRuntime) -> None:
        sender = EmailSender(runtime.db, settings, on_events_committed=runtime.events_committed)
        holder["sender"] = sender
        runtime.extras["sender"] = sender
        if settings.mail_sender_enabled:
            sender.start()

    async def stop_sender(runtime: ServiceRuntime) -> None:
        sender = holder.pop("sender", None)
        if sender is not None:
            await sender.stop()

    return create_service_app(
        settings=settings,
        title="Australia Jobs — notifications",
        description="Transactional email: templates, the outbound queue and the delivery log.",
        routers=[router],
        migrations=MIGRATIONS,
        bus=bus,
        key_source=key_source,
        subscriptions=[
            Subscription(
                patterns=USER_EVENTS,
                handler=user_event_handler(renderer, on_queued=wake_sender),
                name="notifications.email",
            ),
            Subscription(
                patterns=JOB_EVENTS,
                handler=job_event_handler(renderer, on_queued=wake_sender),
                name="notifications.jobs",
            ),
            Subscription(
                patterns=APPLICATION_EVENTS,
                handler=application_event_handler(renderer, on_queued=wake_sender),
                name="notifications.applications",
            ),
        ],
        on_startup=[start_sender],
        on_shutdown=[stop_sender],
    )
