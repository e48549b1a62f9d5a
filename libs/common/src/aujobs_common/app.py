"""The "service defaults": one factory that gives every service the same skeleton —
problem+json errors, request ids, metrics, tracing, health and readiness, the outbox
relay and the event consumers wired into the app's lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.middleware.gzip import GZipMiddleware

from .bus import EventBus, create_bus
from .db import Database
from .errors import install_problem_handlers, problem_response
from .inbox import idempotent
from .migrations import upgrade_async
from .observability import ObservabilityMiddleware, configure_logging, configure_tracing
from .outbox import OutboxRelay
from .security import JWKSClient, KeySource, TokenVerifier
from .settings import ServiceSettings

log = logging.getLogger(__name__)

Hook = Callable[["ServiceRuntime"], Awaitable[None]]


@dataclass
class Subscription:
    """A consumer of events: ``handler(session, event)`` runs once per event id, in a
    transaction together with its inbox record."""

    patterns: list[str]
    handler: Callable[..., Awaitable[None]]
    name: str | None = None


@dataclass
class ServiceRuntime:
    """What a running service holds; kept on ``app.state.runtime``."""

    settings: ServiceSettings
    db: Database
    bus: EventBus
    relay: OutboxRelay
    verifier: TokenVerifier
    owns_bus: bool = True
    extras: dict[str, Any] = field(default_factory=dict)

    def events_committed(self) -> None:
        """Wake the relay after a commit that wrote to the outbox (low latency)."""
        self.relay.notify()


def create_service_app(
    *,
    settings: ServiceSettings,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    migrations: Path | None = None,
    bus: EventBus | None = None,
    key_source: KeySource | None = None,
    subscriptions: Sequence[Subscription] = (),
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    version: str = "0.1.0",
) -> FastAPI:
    configure_logging(settings.log_level, json_logs=settings.log_json)
    configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)

    db = Database(settings.database_url, pool_size=settings.database_pool_size)
    owns_bus = bus is None
    the_bus = bus if bus is not None else create_bus(settings)
    relay = OutboxRelay(
        db, the_bus, poll_interval=settings.outbox_poll_interval_s, name=settings.service_name
    )
    keys = key_source or JWKSClient(settings.jwks_url, cache_seconds=settings.jwks_cache_seconds)
    verifier = TokenVerifier(
        keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        algorithms=settings.jwt_algorithms,
    )
    runtime = ServiceRuntime(
        settings=settings, db=db, bus=the_bus, relay=relay, verifier=verifier, owns_bus=owns_bus
    )
    for sub in subscriptions:
        the_bus.subscribe(
            settings.service_name,
            sub.patterns,
            idempotent(db, sub.name or settings.service_name, sub.handler),
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if settings.run_migrations_on_startup and migrations is not None:
                await upgrade_async(migrations, settings.database_url)
            stack.push_async_callback(db.dispose)
            if owns_bus:
                await the_bus.start()
                stack.push_async_callback(the_bus.close)
            relay.start()
            stack.push_async_callback(relay.stop)
            for hook in on_startup:
                await hook(runtime)
            for hook in reversed(on_shutdown):
                stack.push_async_callback(hook, runtime)
            if isinstance(keys, JWKSClient):
                stack.push_async_callback(keys.aclose)
            log.info("service started", extra={"service": settings.service_name})
            yield
            log.info("service stopping", extra={"service": settings.service_name})

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        responses={},
    )
    app.state.runtime = runtime
    app.state.token_verifier = verifier
    install_problem_handlers(app)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(ObservabilityMiddleware, service=settings.service_name)

    for router in routers:
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        checks: dict[str, str] = {}
        for name, probe in (("database", db.ping), ("bus", the_bus.ping)):
            try:
                await asyncio.wait_for(probe(), timeout=2.0)
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"unavailable: {type(exc).__name__}"
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        response = problem_response(503, "Not ready: " + ", ".join(f"{k} {v}" for k, v in checks.items()))
        return response

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def runtime_of(request: Request) -> ServiceRuntime:
    return request.app.state.runtime
