"""Run a service app (with its lifespan) in a test and talk to it over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI


@asynccontextmanager
async def running(app: FastAPI, base_url: str = "http://testserver") -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


@asynccontextmanager
async def service_under_test(
    create_app: Callable[..., FastAPI],
    settings: Any,
    *,
    migrations: Path,
    watch: list[str] | None = None,
    **app_kwargs: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """A service on a freshly migrated database with its own in-memory bus. The client
    carries ``.bus``, ``.app`` and ``.events``: every event matching ``watch`` patterns
    that the service publishes, in order."""
    from ..bus.memory import InMemoryBus
    from ..events import CloudEvent
    from ..migrations import upgrade_async

    await upgrade_async(migrations, settings.database_url)
    bus = InMemoryBus(retry_base_ms=10)
    events: list[CloudEvent] = []

    async def collect(event: CloudEvent) -> None:
        events.append(event)

    if watch:
        bus.subscribe("test-observer", watch, collect)
    await bus.start()
    try:
        app = create_app(settings, bus=bus, **app_kwargs)
        async with running(app) as client:
            client.events, client.bus, client.app = events, bus, app  # type: ignore[attr-defined]
            yield client
    finally:
        await bus.close()
