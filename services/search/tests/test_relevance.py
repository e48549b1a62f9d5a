"""Search quality on the judged query set (judged.py): nDCG@10 per query, printed, and
a failure when the mean drops below the recorded value (relevance_baseline.json).

nDCG@10 = DCG@10 / ideal DCG@10 with DCG = sum over ranks r of (2^grade - 1) / log2(r + 1):
graded judgements, early ranks weigh more, 1.0 is the ideal order."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aujobs_common.bus.memory import InMemoryBus
from aujobs_common.events import JobLocation, JobPublished, JobStatus, SalaryPeriod, SalaryRange, WorkType
from aujobs_common.migrations import upgrade_async
from aujobs_common.reference import find_locality
from aujobs_common.testing.apps import running
from aujobs_common.testing.waiting import eventually
from aujobs_search.app import MIGRATIONS, create_app
from aujobs_search.settings import SearchSettings

from .judged import CORPUS, JUDGED, Posting

BASELINE = Path(__file__).with_name("relevance_baseline.json")
ANNUAL = {"hourly": 1976, "daily": 260, "weekly": 52, "monthly": 12, "annual": 1}


def snapshot(posting: Posting, job_id: uuid.UUID, now: datetime) -> JobPublished:
    place = find_locality(posting.suburb, posting.state, posting.postcode)
    assert place is not None, posting.key
    salary = None
    if posting.salary:
        low, high, period = posting.salary
        salary = SalaryRange(
            minimum_cents=low * 100,
            maximum_cents=high * 100,
            period=SalaryPeriod(period),
            annual_minimum_cents=low * 100 * ANNUAL[period],
            annual_maximum_cents=high * 100 * ANNUAL[period],
        )
    published = now - timedelta(days=posting.days_ago)
    return JobPublished(
        job_id=job_id,
        version=2,
        owner_id=uuid.uuid5(uuid.NAMESPACE_URL, posting.company),
        company_id=uuid.uuid5(uuid.NAMESPACE_DNS, posting.company),
        company_name=posting.company,
        company_verified=True,
        title=posting.title,
        description=f"<p>{posting.description}</p>",
        description_text=posting.description,
        location=JobLocation(
            suburb=place.suburb,
            state=place.state,
            postcode=place.postcode,
            latitude=place.latitude,
            longitude=place.longitude,
        ),
        work_arrangement=posting.arrangement,
        salary=salary,
        work_type=WorkType(posting.work_type),
        classification=posting.classification,
        skills=list(posting.skills),
        status=JobStatus.active,
        created_at=published - timedelta(hours=1),
        updated_at=published,
        published_at=published,
        expires_at=published + timedelta(days=30),
    )


def ndcg_at_10(ranked: list[str], grades: dict[str, int]) -> float:
    def dcg(gains: list[int]) -> float:
        return sum((2**g - 1) / math.log2(rank + 2) for rank, g in enumerate(gains[:10]))

    ideal = dcg(sorted(grades.values(), reverse=True))
    return dcg([grades.get(key, 0) for key in ranked]) / ideal if ideal else 0.0


@pytest.fixture
async def corpus(fresh_database_url):
    await upgrade_async(MIGRATIONS, fresh_database_url)
    bus = InMemoryBus(retry_base_ms=10)
    app = create_app(SearchSettings(database_url=fresh_database_url), bus=bus)
    await bus.start()
    now = datetime.now(UTC)
    keys: dict[str, str] = {}
    async with running(app) as client:
        for posting in CORPUS:
            job_id = uuid.uuid5(uuid.NAMESPACE_OID, posting.key)
            keys[str(job_id)] = posting.key
            event = snapshot(posting, job_id, now)
            await bus.publish(event.to_event(source="/services/jobs", subject=str(job_id)))

        async def indexed() -> bool:
            r = await client.get("/api/v1/search/jobs", params={"limit": 1})
            return r.status_code == 200 and r.json()["total"] == len(CORPUS)

        await eventually(indexed, timeout=20)
        client.keys = keys  # type: ignore[attr-defined]
        yield client
    await bus.close()


async def test_ndcg_at_10_on_the_judged_queries_does_not_drop(corpus):
    scores = []
    for judged in JUDGED:
        r = await corpus.get("/api/v1/search/jobs", params={**judged.query, "limit": 10})
        assert r.status_code == 200, (judged.query, r.text)
        ranked = [corpus.keys[hit["job_id"]] for hit in r.json()["items"]]
        score = ndcg_at_10(ranked, judged.grades)
        scores.append(score)
        print(f"nDCG@10 {score:.3f}  {judged.query}  -> {ranked[:5]}")
    mean = sum(scores) / len(scores)
    recorded = json.loads(BASELINE.read_text())["mean_ndcg_at_10"]
    print(f"mean nDCG@10 {mean:.4f} (recorded {recorded:.4f}) over {len(scores)} queries")
    assert mean >= recorded - 0.005, f"search quality dropped: {mean:.4f} < {recorded:.4f}"


def test_ndcg_is_one_for_the_ideal_order_and_less_otherwise():
    grades = {"a": 3, "b": 2, "c": 1}
    assert ndcg_at_10(["a", "b", "c"], grades) == pytest.approx(1.0)
    assert ndcg_at_10(["c", "b", "a"], grades) < 1.0
    assert ndcg_at_10(["x", "y"], grades) == 0.0
