"""The posting workflow's clock through the gateway: scheduled publishing, the expiry
reminder, automatic expiry and renewal, with time moved.

The embedded platform (gateway and every service in this process, the in-memory bus)
runs with a clock the test moves, passed to the jobs service; the test runs the
workflow at the clock's now (``WorkflowClock.run_once``, what the service's background
loop does every poll interval) and checks the results as a frontend sees them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from aujobs_embedded.platform import Platform

pytestmark = pytest.mark.timeout(180)


class MovableClock:
    """The jobs service's now, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(scope="module")
def clock() -> MovableClock:
    return MovableClock()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def embedded(
    tmp_path_factory: pytest.TempPathFactory, helpers: Any, clock: MovableClock
) -> AsyncIterator[tuple[Platform, httpx.AsyncClient]]:
    data_dir = tmp_path_factory.mktemp("embedded-clock")
    async with helpers.embedded_platform(data_dir, seed_jobs=0, clock=clock) as running:
        yield running


@pytest.fixture(scope="module")
def frontend(embedded: tuple[Platform, httpx.AsyncClient], helpers: Any) -> Any:
    return helpers.embedded_frontend(*embedded)


@pytest.fixture(scope="module")
def run_workflow(embedded: tuple[Platform, httpx.AsyncClient]) -> Any:
    workflow = embedded[0].services["jobs"].state.runtime.extras["workflow"]
    return workflow.run_once


async def test_scheduled_publish_expiry_and_renewal_with_the_clock_moved(
    frontend, clock, run_workflow, helpers
):
    http = frontend.http
    employer = await frontend.signup("employer")
    keyword = helpers.word()
    draft = await frontend.create_job(employer, f"Reliability Engineer {keyword}")
    url = f"/api/v1/jobs/{draft['id']}"

    # a time in the past is refused and leaves the draft a draft
    past = {"publish_at": (clock.now - timedelta(minutes=5)).isoformat()}
    r = await http.post(f"{url}/publish", json=past, headers=employer.headers)
    assert any(e["field"] == "publish_at" for e in helpers.assert_problem(r, 422)["errors"])

    at = clock.now + timedelta(hours=2)
    r = await http.post(f"{url}/publish", json={"publish_at": at.isoformat()}, headers=employer.headers)
    assert r.status_code == 200, r.text
    scheduled = r.json()
    assert scheduled["status"] == "scheduled" and scheduled["published_at"] is None
    assert datetime.fromisoformat(scheduled["publish_at"]) == at and scheduled["structured_data"] is None
    helpers.assert_problem(await http.get(url), 404)  # not public before its time
    assert (await frontend.search(keyword))["total"] == 0

    clock.advance(hours=1)
    assert (await run_workflow()).published == 0
    assert (await http.get(url, headers=employer.headers)).json()["status"] == "scheduled"

    clock.advance(hours=1, seconds=30)
    assert (await run_workflow()).published == 1
    live = await http.get(url)  # public now
    assert live.status_code == 200, live.text
    job = live.json()
    assert job["status"] == "active" and datetime.fromisoformat(job["published_at"]) == clock.now
    assert datetime.fromisoformat(job["expires_at"]) == clock.now + timedelta(days=30)
    ld = job["structured_data"]
    assert ld["@type"] == "JobPosting" and ld["title"] == job["title"]
    assert ld["hiringOrganization"]["name"] == job["company_name"]
    await frontend.wait_searchable(keyword, draft["id"])

    # three days before expiry the owner is reminded, once
    clock.advance(days=26)
    assert (await run_workflow()).reminded == 0
    clock.advance(days=1, minutes=1)
    assert (await run_workflow()).reminded == 1
    assert (await run_workflow()).reminded == 0

    # thirty days after publishing it expires: gone from search, no JSON-LD
    clock.advance(days=3)
    assert (await run_workflow()).expired == 1
    expired = (await http.get(url)).json()
    assert expired["status"] == "expired" and expired["structured_data"] is None
    await _wait_not_searchable(frontend, keyword)  # the index follows job.expired
    listed = (await http.get("/api/v1/jobs", params={"limit": 100})).json()
    assert draft["id"] not in [j["id"] for j in listed["items"]]

    # renewed: active again for another 30 days from now, searchable again
    r = await http.post(f"{url}/renew", headers=employer.headers)
    assert r.status_code == 200, r.text
    renewed = r.json()
    assert renewed["status"] == "active" and renewed["structured_data"]["@type"] == "JobPosting"
    assert datetime.fromisoformat(renewed["expires_at"]) == clock.now + timedelta(days=30)
    await frontend.wait_searchable(keyword, draft["id"])
    assert (await run_workflow()).expired == 0


async def test_an_expired_job_cannot_be_closed_or_edited(frontend, clock, run_workflow, helpers):
    employer = await frontend.signup("employer")
    job = await frontend.post_job(employer, f"Network Engineer {helpers.word()}")
    url = f"/api/v1/jobs/{job['id']}"
    clock.advance(days=31)
    assert (await run_workflow()).expired >= 1
    before = (await frontend.http.get(url, headers=employer.headers)).json()
    assert before["status"] == "expired"
    close = await frontend.http.post(f"{url}/close", headers=employer.headers)
    assert helpers.assert_problem(close, 409)["type"].endswith("/invalid-transition")
    edit = await frontend.http.patch(url, json={"title": "Revived"}, headers=employer.headers)
    helpers.assert_problem(edit, 409)
    after = (await frontend.http.get(url, headers=employer.headers)).json()
    assert (after["status"], after["version"], after["title"]) == (
        "expired",
        before["version"],
        before["title"],
    )


async def _wait_not_searchable(frontend: Any, keyword: str, timeout: float = 10.0) -> None:
    """Polls search until nothing matches ``keyword``."""
    deadline = time.monotonic() + timeout
    while (await frontend.search(keyword))["total"]:
        if time.monotonic() > deadline:
            raise AssertionError(f"{keyword!r} still found {timeout}s after the job expired")
        await asyncio.sleep(0.05)
