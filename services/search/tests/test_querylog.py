"""The query log on a real, migrated PostgreSQL: buffered searches and clicks written
in batches, nothing personal kept, retention."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

import aujobs_search
from aujobs_common.db import Database
from aujobs_common.ids import uuid7
from aujobs_common.migrations import upgrade_async
from aujobs_common.testing.waiting import eventually
from aujobs_search.query import LocationFilter, SearchQuery, SortOrder
from aujobs_search.querylog import QUERY_LOG_METADATA, QueryLog, search_insights

MIGRATIONS = Path(aujobs_search.__file__).parent / "migrations"


@pytest.fixture
async def db(fresh_database_url):
    await upgrade_async(MIGRATIONS, fresh_database_url)
    database = Database(fresh_database_url, pool_size=2)
    yield database
    await database.dispose()


@pytest.fixture
async def querylog(db):
    log = QueryLog(db, interval=3600, click_grace_seconds=60)
    yield log
    await log.stop()


async def rows(db, name: str) -> list[dict]:
    table = QUERY_LOG_METADATA.tables[name]
    async with db.session() as session:
        result = await session.execute(sa.select(table).order_by(table.c.created_at))
        return [dict(r) for r in result.mappings()]


async def test_searches_are_written_in_a_batch_on_flush(db, querylog):
    now = datetime.now(UTC).replace(microsecond=0)
    melbourne = LocationFilter(label="Melbourne VIC 3000", radius_km=25)
    first = querylog.record(
        SearchQuery(
            q="  Registered   NURSE ",
            location=melbourne,
            work_types=("part_time", "full_time"),
            sort=SortOrder.date,
            limit=50,
        ),
        total=12,
        latency_ms=8.5,
        now=now,
    )
    second = querylog.record(SearchQuery(q="nurse", cursor={"o": 20}), total=12, latency_ms=3, now=now)
    assert uuid.UUID(first).version == 7 and first != second
    assert await rows(db, "search_queries") == []  # searching never waits for the log

    assert await querylog.flush() == 2
    written = {str(r["id"]): r for r in await rows(db, "search_queries")}
    assert written[first] == {
        "id": uuid.UUID(first),
        "created_at": now,
        "q": "registered nurse",
        "filters": {
            "location": "Melbourne VIC 3000",
            "radius_km": 25,
            "work_types": ["full_time", "part_time"],
            "sort": "date",
        },
        "total": 12,
        "latency_ms": 8.5,
        "first_page": True,
    }
    assert written[second]["first_page"] is False and written[second]["filters"] == {}
    assert querylog.pending == 0 and await querylog.flush() == 0


async def test_nothing_personal_is_stored(db, querylog):
    querylog.record(
        SearchQuery(q="nurse jane.citizen@example.com 0412 345 678 melbourne 3000"), total=1, latency_ms=1
    )
    await querylog.flush()
    async with db.session() as session:
        columns = {
            table: set(
                (
                    await session.scalars(
                        sa.text("SELECT column_name FROM information_schema.columns WHERE table_name = :t"),
                        {"t": table},
                    )
                ).all()
            )
            for table in ("search_queries", "search_clicks")
        }
    # no user id, no IP address, no hash of either, no user agent, no session
    assert columns == {
        "search_queries": {"id", "created_at", "q", "filters", "total", "latency_ms", "first_page"},
        "search_clicks": {"query_id", "job_id", "position", "created_at"},
    }
    [row] = await rows(db, "search_queries")
    assert row["q"] == "nurse <email> <number> melbourne 3000"  # a postcode is not personal


async def test_clicks_are_written_once_per_job_and_page(db, querylog):
    query_id = querylog.record(SearchQuery(q="barista"), total=3, latency_ms=2)
    job = uuid.uuid4()
    # clicked before the search was even written: both go in the same batch
    querylog.click(uuid.UUID(query_id), job, 2)
    querylog.click(uuid.UUID(query_id), job, 2)  # a double click
    querylog.click(uuid.UUID(query_id), uuid.uuid4(), 3)
    await querylog.flush()
    clicks = await rows(db, "search_clicks")
    assert len(clicks) == 2
    assert {(c["query_id"], c["position"]) for c in clicks} == {
        (uuid.UUID(query_id), 2),
        (uuid.UUID(query_id), 3),
    }


async def test_click_waits_for_its_search_from_another_replica_then_unknown_ones_are_dropped(db, querylog):
    other_replica = QueryLog(db, interval=3600)
    query_id = uuid.UUID(other_replica.record(SearchQuery(q="chef"), total=4, latency_ms=5))
    unknown = uuid7()
    now = datetime.now(UTC)
    querylog.click(query_id, uuid.uuid4(), 1, now=now)
    querylog.click(unknown, uuid.uuid4(), 1, now=now)
    querylog.click(uuid.uuid4(), uuid.uuid4(), 1, now=now)  # not a UUIDv7: never one of ours
    assert querylog.pending == 2

    await querylog.flush(now=now)
    assert await rows(db, "search_clicks") == [] and querylog.pending == 2  # both wait

    await other_replica.flush()
    await querylog.flush(now=now + timedelta(seconds=30))
    assert [c["query_id"] for c in await rows(db, "search_clicks")] == [query_id]
    assert querylog.pending == 1  # the unknown one, still within its grace

    await querylog.flush(now=now + timedelta(seconds=61))
    assert querylog.pending == 0 and len(await rows(db, "search_clicks")) == 1


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_failed_write_keeps_the_records_for_the_next_round(db, fresh_database_url):
    parts = urlsplit(fresh_database_url)
    unreachable = parts._replace(netloc=f"{parts.username}@127.0.0.1:{closed_port()}").geturl()
    down = Database(unreachable, pool_size=1)
    querylog = QueryLog(down, interval=3600)
    query_id = querylog.record(SearchQuery(q="welder"), total=0, latency_ms=4)
    querylog.click(uuid.UUID(query_id), uuid.uuid4(), 1)
    with pytest.raises(OSError):
        await querylog.flush()
    assert querylog.pending == 2
    await down.dispose()
    querylog.db = db  # the database is back
    assert await querylog.flush() == 1
    assert len(await rows(db, "search_clicks")) == 1


async def test_the_background_loop_writes_and_flushes_on_stop(db):
    querylog = QueryLog(db, interval=0.05)
    querylog.start()
    try:
        querylog.record(SearchQuery(q="electrician"), total=7, latency_ms=6)
        await eventually(lambda: _count(db, "search_queries", 1))
    finally:
        querylog.interval = 3600
        querylog.record(SearchQuery(q="plumber"), total=2, latency_ms=6)
        await querylog.stop()
    assert {r["q"] for r in await rows(db, "search_queries")} == {"electrician", "plumber"}


async def _count(db, table: str, expected: int) -> bool:
    return len(await rows(db, table)) == expected


async def test_retention_purge_removes_old_searches_and_their_clicks(db, querylog):
    now = datetime.now(UTC)
    old = querylog.record(SearchQuery(q="old"), total=1, latency_ms=1, now=now - timedelta(days=91))
    kept = querylog.record(SearchQuery(q="recent"), total=1, latency_ms=1, now=now - timedelta(days=89))
    querylog.click(uuid.UUID(old), uuid.uuid4(), 1, now=now - timedelta(days=1))
    querylog.click(uuid.UUID(kept), uuid.uuid4(), 1, now=now - timedelta(days=1))
    await querylog.flush(now=now)
    assert await querylog.purge(now=now) == 1
    assert [str(r["id"]) for r in await rows(db, "search_queries")] == [kept]
    assert [str(r["query_id"]) for r in await rows(db, "search_clicks")] == [kept]


async def test_the_flusher_loop_purges(db):
    seed = QueryLog(db)
    seed.record(SearchQuery(q="ancient"), total=1, latency_ms=1, now=datetime.now(UTC) - timedelta(days=10))
    await seed.flush()
    querylog = QueryLog(db, interval=0.05, retention_days=7, purge_interval=3600)
    querylog.start()
    try:
        await eventually(lambda: _count(db, "search_queries", 0))
    finally:
        await querylog.stop()


async def test_top_lists_hold_twenty(db, querylog):
    for i in range(25):
        for _ in range(1 + i % 3):
            querylog.record(SearchQuery(q=f"query {i:02d}"), total=0, latency_ms=1)
    await querylog.flush()
    async with db.session() as session:
        insights = await search_insights(session, days=7)
    assert len(insights.popular) == 20 and len(insights.zero_result) == 20
    assert [p.searches for p in insights.popular][:8] == [3] * 8
    assert insights.total_searches == sum(1 + i % 3 for i in range(25))
