"""What the search tests share: a running search service on a fresh database fed through
its in-memory bus, postings built like the jobs service publishes them, and the calls."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from aujobs_common.bus.memory import InMemoryBus
from aujobs_common.events import (
    CompanyUpdated,
    EventPayload,
    JobLocation,
    JobPublished,
    JobStatus,
    SalaryPeriod,
    SalaryRange,
    WorkType,
)
from aujobs_common.migrations import upgrade_async
from aujobs_common.reference import find_locality
from aujobs_common.testing.apps import running
from aujobs_search.app import MIGRATIONS, create_app
from aujobs_search.settings import SearchSettings

SEARCH = "/api/v1/search/jobs"
PER_YEAR = {"hourly": 1976, "daily": 260, "weekly": 52, "monthly": 12, "annual": 1}


@asynccontextmanager
async def started_search(database_url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    await upgrade_async(MIGRATIONS, database_url)
    bus = InMemoryBus(retry_base_ms=10)
    app = create_app(SearchSettings(database_url=database_url, **settings), bus=bus)
    await bus.start()
    try:
        async with running(app) as client:
            client.bus = bus  # type: ignore[attr-defined]
            yield client
    finally:
        await bus.close()


def place(suburb: str, state: str, postcode: str | None = None) -> JobLocation:
    found = find_locality(suburb, state, postcode)
    assert found is not None, suburb
    return JobLocation(
        suburb=found.suburb,
        state=found.state,
        postcode=found.postcode,
        latitude=found.latitude,
        longitude=found.longitude,
    )


def pay(low_dollars: int, high_dollars: int, period: str = "annual") -> SalaryRange:
    per_year = PER_YEAR[period]
    return SalaryRange(
        minimum_cents=low_dollars * 100,
        maximum_cents=high_dollars * 100,
        period=SalaryPeriod(period),
        annual_minimum_cents=low_dollars * 100 * per_year,
        annual_maximum_cents=high_dollars * 100 * per_year,
    )


def posting(event=JobPublished, *, job_id=None, version=2, title="Registered Nurse", days_ago=0.0, **changes):
    now = datetime.now(UTC)
    published = now - timedelta(days=days_ago)
    fields: dict[str, Any] = dict(
        job_id=job_id or uuid.uuid4(),
        version=version,
        owner_id=uuid.uuid4(),
        company_name="Southern Cross Health",
        title=title,
        description="Provide patient-centred care on a busy surgical ward in a leading hospital.",
        location=JobLocation(
            suburb="Melbourne", state="VIC", postcode="3000", latitude=-37.81, longitude=144.96
        ),
        salary=pay(80_000, 100_000),
        work_type=WorkType.full_time,
        classification="Healthcare & Medical",
        sub_classification=None,
        status=JobStatus.active,
        created_at=published - timedelta(hours=1),
        updated_at=published,
        published_at=published,
    )
    fields.update(changes)
    return event(**fields)


def company(company_id: uuid.UUID, *, version: int = 1, name: str = "Acme", **changes) -> CompanyUpdated:
    now = datetime.now(UTC)
    fields: dict[str, Any] = dict(
        company_id=company_id,
        version=version,
        name=name,
        verification_status="verified",
        created_at=now,
        updated_at=now,
    )
    fields.update(changes)
    return CompanyUpdated(**fields)


async def publish(client: httpx.AsyncClient, *payloads: EventPayload) -> None:
    """Publish the events and wait until the service has handled them all."""
    for payload in payloads:
        subject = str(getattr(payload, "job_id", None) or getattr(payload, "company_id", ""))
        await client.bus.publish(payload.to_event(source="/services/jobs", subject=subject))  # type: ignore[attr-defined]
    await client.bus.drain(10)  # type: ignore[attr-defined]


async def hits(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    r = await client.get(SEARCH, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def ids(found: dict[str, Any]) -> list[str]:
    return [h["job_id"] for h in found["items"]]


def titles(found: dict[str, Any]) -> list[str]:
    return [h["title"] for h in found["items"]]


async def problem(client: httpx.AsyncClient, status: int | tuple[int, ...], **params: Any) -> dict[str, Any]:
    r = await client.get(SEARCH, params=params)
    expected = status if isinstance(status, tuple) else (status,)
    assert r.status_code in expected, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()
