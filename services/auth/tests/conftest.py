"""Fixtures for the auth service tests: the service on a fresh PostgreSQL database,
with an in-memory bus whose ``au.jobs.user.*`` events the tests read, and (where the
test asks for it) the real Redis for the token denylist and the brute-force counters."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from jose import jwt
from redis.asyncio import Redis

from aujobs_auth.app import MIGRATIONS, create_app
from aujobs_auth.settings import AuthSettings
from aujobs_common.bus.memory import InMemoryBus
from aujobs_common.events import CloudEvent
from aujobs_common.migrations import upgrade_async
from aujobs_common.testing.apps import running
from aujobs_common.testing.waiting import eventually

PASSWORD = "correct horse battery"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

StartAuth = Callable[..., AbstractAsyncContextManager[Any]]


@pytest_asyncio.fixture
async def start_auth(fresh_database_url: str) -> AsyncIterator[StartAuth]:
    """``async with start_auth(**settings) as client`` runs the service (the database is
    migrated once per test); ``client.events`` collects the user events."""
    await upgrade_async(MIGRATIONS, fresh_database_url)

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Any]:
        bus = InMemoryBus(retry_base_ms=10)
        received: list[CloudEvent] = []

        async def collect(event: CloudEvent) -> None:
            received.append(event)

        bus.subscribe("test", ["au.jobs.user.#"], collect)
        await bus.start()
        options: dict[str, Any] = {
            "database_url": fresh_database_url,
            "outbox_poll_interval_s": 0.05,
            "maintenance_interval_seconds": 0,  # the tests drive the periodic jobs
            "redis_url": None,
            "rate_limit_key_prefix": f"aujobs:test:{uuid.uuid4().hex[:12]}:ratelimit",
        }
        settings = AuthSettings(**(options | overrides))
        app = create_app(settings, bus=bus)
        try:
            async with running(app) as client:
                client.events = received  # type: ignore[attr-defined]
                client.bus = bus  # type: ignore[attr-defined]
                client.runtime = app.state.runtime  # type: ignore[attr-defined]
                client.settings = settings  # type: ignore[attr-defined]
                yield client
        finally:
            await bus.close()
            if settings.redis_url:
                redis = Redis.from_url(settings.redis_url)
                try:
                    keys = [k async for k in redis.scan_iter(match=f"{settings.rate_limit_key_prefix}*")]
                    if keys:
                        await redis.delete(*keys)
                finally:
                    await redis.aclose()

    yield start


@pytest_asyncio.fixture
async def auth(start_auth: StartAuth) -> AsyncIterator[Any]:
    """The service without Redis (in-process denylist and counters)."""
    async with start_auth() as client:
        yield client


@pytest_asyncio.fixture
async def redis_auth(start_auth: StartAuth, redis_url: str) -> AsyncIterator[Any]:
    """The service with the real Redis (denylist and counters shared by replicas)."""
    async with start_auth(redis_url=redis_url) as client:
        yield client


# ------------------------------------------------------------------ helpers


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.com.au"


def bearer(tokens: dict[str, Any] | str) -> dict[str, str]:
    token = tokens if isinstance(tokens, str) else tokens["access_token"]
    return {"Authorization": f"Bearer {token}"}


def claims(tokens: dict[str, Any]) -> dict[str, Any]:
    return jwt.get_unverified_claims(tokens["access_token"])


async def register(client: Any, email: str | None = None, role: str = "employer", password: str = PASSWORD):
    email = email or new_email()
    r = await client.post("/api/v1/auth/register", json={"email": email, "password": password, "role": role})
    assert r.status_code == 201, r.text
    return email, r.json()


async def login(
    client: Any, email: str, password: str = PASSWORD, *, ip: str | None = None, ua: str | None = None
) -> dict[str, Any]:
    headers = {}
    if ip:
        headers["X-Real-IP"] = ip
    if ua:
        headers["User-Agent"] = ua
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": password}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def signup(client: Any, role: str = "employer") -> tuple[str, dict[str, Any]]:
    email, _ = await register(client, role=role)
    return email, await login(client, email)


async def make_admin(client: Any) -> dict[str, Any]:
    email, user = await register(client, role="job_seeker")
    async with client.runtime.db.transaction() as session:
        await session.execute(
            sa.text("UPDATE users SET roles = ARRAY['admin'] WHERE id = :id"), {"id": user["id"]}
        )
    return await login(client, email)


def events_of(client: Any, event_type: str, **match: Any) -> list[CloudEvent]:
    return [
        e
        for e in client.events
        if e.type == f"au.jobs.user.{event_type}.v1" and all(e.data.get(k) == v for k, v in match.items())
    ]


async def wait_events(client: Any, event_type: str, count: int = 1, **match: Any) -> list[CloudEvent]:
    return await eventually(
        lambda: found if len(found := events_of(client, event_type, **match)) >= count else None
    )


async def verification_token(client: Any, email: str) -> str:
    events = await wait_events(client, "email_verification_requested", email=email)
    return events[-1].data["token"]


async def sql(client: Any, statement: str, **params: Any) -> list[Any]:
    async with client.runtime.db.transaction() as session:
        result = await session.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


@pytest.fixture(scope="session")
def h() -> SimpleNamespace:
    """The helpers above, for the test modules."""
    return SimpleNamespace(
        PASSWORD=PASSWORD,
        CHROME=CHROME,
        IPHONE=IPHONE,
        new_email=new_email,
        bearer=bearer,
        claims=claims,
        register=register,
        login=login,
        signup=signup,
        make_admin=make_admin,
        events_of=events_of,
        wait_events=wait_events,
        verification_token=verification_token,
        sql=sql,
    )
