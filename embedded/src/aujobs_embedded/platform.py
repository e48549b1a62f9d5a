"""The whole platform in one process (DESIGN.md §2, embedded mode): every service's
``create_app()`` mounted behind the gateway, which reaches them through in-process
ASGI transports; one in-memory bus; one embedded PostgreSQL cluster with a database
per service. The same service code runs as in the distributed mode."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from fastapi import FastAPI

from aujobs_applications.app import MIGRATIONS as APPLICATIONS_MIGRATIONS
from aujobs_applications.app import create_app as create_applications
from aujobs_applications.settings import ApplicationsSettings
from aujobs_auth.app import MIGRATIONS as AUTH_MIGRATIONS
from aujobs_auth.app import create_app as create_auth
from aujobs_auth.seed import ensure_demo_users
from aujobs_auth.settings import AuthSettings
from aujobs_common.bus.memory import InMemoryBus
from aujobs_common.migrations import upgrade_async
from aujobs_common.pg import ensure_database, start_embedded_postgres, to_sqlalchemy_url, with_database
from aujobs_common.security import JWKSClient, MemoryDenylist
from aujobs_gateway.app import create_app as create_gateway
from aujobs_gateway.settings import GatewaySettings
from aujobs_jobs.app import MIGRATIONS as JOBS_MIGRATIONS
from aujobs_jobs.app import create_app as create_jobs
from aujobs_jobs.seed import seed_demo_jobs
from aujobs_jobs.settings import JobsSettings
from aujobs_notifications.app import MIGRATIONS as NOTIFICATIONS_MIGRATIONS
from aujobs_notifications.app import create_app as create_notifications
from aujobs_notifications.devmail import DevMailSink, create_devmail_router
from aujobs_notifications.settings import NotificationsSettings
from aujobs_resumes.app import MIGRATIONS as RESUMES_MIGRATIONS
from aujobs_resumes.app import create_app as create_resumes
from aujobs_resumes.settings import ResumesSettings
from aujobs_search.app import MIGRATIONS as SEARCH_MIGRATIONS
from aujobs_search.app import create_app as create_search
from aujobs_search.settings import SearchSettings

from .demo import seed_demo_applications

log = logging.getLogger(__name__)

SERVICES = {
    "auth": (AuthSettings, create_auth, AUTH_MIGRATIONS),
    "jobs": (JobsSettings, create_jobs, JOBS_MIGRATIONS),
    "search": (SearchSettings, create_search, SEARCH_MIGRATIONS),
    "notifications": (NotificationsSettings, create_notifications, NOTIFICATIONS_MIGRATIONS),
    "resumes": (ResumesSettings, create_resumes, RESUMES_MIGRATIONS),
    "applications": (ApplicationsSettings, create_applications, APPLICATIONS_MIGRATIONS),
}


@dataclass
class EmbeddedConfig:
    data_dir: Path = Path(".data")
    # A PostgreSQL admin URL to use instead of the embedded server (tests, CI).
    postgres_admin_url: str | None = None
    seed_jobs: int = 300
    gateway: GatewaySettings = field(default_factory=lambda: GatewaySettings(redis_url=None))
    # The jobs service's now (scheduled publishes, expiry). Tests pass one they move, and
    # then run the posting workflow themselves (``services["jobs"].state.runtime
    # .extras["workflow"].run_once()``): its background loop is off.
    clock: Callable[[], datetime] | None = None


@dataclass
class Platform:
    gateway: FastAPI
    services: dict[str, FastAPI]
    bus: InMemoryBus
    admin_url: str
    demo_users: dict[str, object] = field(default_factory=dict)
    # the local SMTP sink every email goes to (readable at /dev/mail on the gateway)
    mail: DevMailSink | None = None


async def start_platform(config: EmbeddedConfig, stack: AsyncExitStack) -> Platform:
    """Start everything but the HTTP listener; ``stack`` unwinds it all."""
    admin_url = config.postgres_admin_url or await asyncio.to_thread(
        start_embedded_postgres, (config.data_dir / "pg").resolve()
    )
    bus = InMemoryBus(max_attempts=5, retry_base_ms=200)
    urls: dict[str, str] = {}
    for name, (_settings, _factory, migrations) in SERVICES.items():
        database = f"aujobs_{name}"
        await ensure_database(admin_url, database)
        urls[name] = to_sqlalchemy_url(with_database(admin_url, database))
        await upgrade_async(migrations, urls[name])

    # One denylist object: the auth service writes logouts to it, the gateway reads it.
    denylist = MemoryDenylist()
    auth = create_auth(AuthSettings(database_url=urls["auth"], amqp_url=None), bus=bus, denylist=denylist)
    transports = {"auth": httpx.ASGITransport(app=auth, raise_app_exceptions=False)}
    jwks_http = httpx.AsyncClient(transport=transports["auth"], base_url="http://auth")
    stack.push_async_callback(jwks_http.aclose)
    keys = JWKSClient("http://auth/.well-known/jwks.json", http=jwks_http)
    # Email goes to a local SMTP sink; the gateway shows its mailbox at /dev/mail.
    mail = DevMailSink()
    await mail.start()
    stack.push_async_callback(mail.stop)
    apps: dict[str, FastAPI] = {"auth": auth}
    for name in ("jobs", "search", "notifications", "resumes", "applications"):
        settings_cls, factory, _ = SERVICES[name]
        extra: dict[str, object] = {"smtp_url": mail.url} if name == "notifications" else {}
        options: dict[str, object] = {}
        if name == "jobs" and config.clock is not None:
            options["clock"] = config.clock
            extra["workflow_poll_interval_s"] = 0
        if name == "applications":  # copies the chosen resume version, in process
            options["resumes_transport"] = transports["resumes"]
        if name in ("resumes", "applications") and config.clock is not None:
            options["clock"] = config.clock
        apps[name] = factory(
            settings_cls(database_url=urls[name], amqp_url=None, **extra), bus=bus, key_source=keys, **options
        )
        transports[name] = httpx.ASGITransport(app=apps[name], raise_app_exceptions=False)
    transports["companies"] = transports["jobs"]  # companies live in the jobs service

    # Service lifespans (database pools, relays, signing keys), then the shared bus.
    for app in apps.values():
        await stack.enter_async_context(app.router.lifespan_context(app))
    await bus.start()
    stack.push_async_callback(bus.close)

    gateway = create_gateway(config.gateway, transports=transports, key_source=keys, denylist=denylist)
    gateway.include_router(create_devmail_router(mail.mailbox))  # embedded mode only
    platform = Platform(gateway=gateway, services=apps, bus=bus, admin_url=admin_url, mail=mail)

    if config.seed_jobs:
        demo = await ensure_demo_users(auth.state.runtime.db)
        platform.demo_users = dict(demo)
        jobs_runtime = apps["jobs"].state.runtime
        created = await seed_demo_jobs(
            jobs_runtime.settings, owner_id=demo["employer"], count=config.seed_jobs, db=jobs_runtime.db
        )
        for app in apps.values():
            app.state.runtime.events_committed()
        if created:
            log.info("seeded demo jobs", extra={"count": created})
        applied = await seed_demo_applications(transports)
        if applied:
            log.info("seeded demo applications", extra={"count": applied})
    return platform
