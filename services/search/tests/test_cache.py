"""The search result cache on a real Redis (each test under its own key prefix), in
front of a counting backend: the cache is what is under test, not the search."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from aujobs_common.db import Database
from aujobs_common.testing.waiting import eventually
from aujobs_search.cache import CachedSearch, SearchCache
from aujobs_search.query import (
    JobHit,
    LocationFilter,
    SearchQuery,
    SearchResults,
    SortOrder,
    Suggestion,
    SuggestionKind,
)


class CountingBackend:
    """A SearchBackend that answers every query with one hit naming the call number."""

    def __init__(self) -> None:
        self.calls: list[SearchQuery] = []
        self.fail = False

    async def search(self, query: SearchQuery) -> SearchResults:
        self.calls.append(query)
        if self.fail:
            raise RuntimeError("backend down")
        hit = JobHit(
            job_id=uuid.uuid4(),
            title=f"Answer {len(self.calls)}",
            company_name="Southern Cross Health",
            classification="Healthcare & Medical",
            sub_classification=None,
            work_type="full_time",
            suburb="Melbourne",
            state="VIC",
            postcode="3000",
            salary=None,
            published_at=datetime(2026, 11, 1, tzinfo=UTC),
        )
        return SearchResults(items=[hit], total=1, query_id="set-by-backend")

    async def suggest(self, prefix: str, *, limit: int = 10) -> list[Suggestion]:
        return [Suggestion(kind=SuggestionKind.title, text=f"{prefix} nurse")][:limit]


def cache_count(outcome: str) -> float:
    return REGISTRY.get_sample_value("aujobs_search_cache_total", {"outcome": outcome}) or 0.0


@pytest.fixture
async def cache(redis_url):
    prefix = f"test:{uuid.uuid4().hex}:search"
    the_cache = SearchCache.from_url(redis_url, prefix=prefix, ttl_seconds=60)
    yield the_cache
    keys = [key async for key in the_cache.redis.scan_iter(match=f"{prefix}:*")]
    if keys:
        await the_cache.redis.delete(*keys)
    await the_cache.aclose()


@pytest.fixture
def backend():
    return CountingBackend()


async def keys_of(cache: SearchCache) -> list[str]:
    keys = [k.decode() async for k in cache.redis.scan_iter(match=f"{cache.prefix}:*")]
    return sorted(k for k in keys if k != cache.generation_key)


async def test_second_identical_search_is_a_hit(cache, backend):
    search = CachedSearch(backend, cache)
    hits, misses = cache_count("hit"), cache_count("miss")
    first = await search.search(SearchQuery(q="nurse"))
    second = await search.search(SearchQuery(q="nurse"))
    assert len(backend.calls) == 1
    assert second.items == first.items and second.total == 1
    assert cache_count("hit") == hits + 1 and cache_count("miss") == misses + 1
    keys = await keys_of(cache)
    assert len(keys) == 1 and keys[0].startswith(f"{cache.prefix}:0:")
    ttl = await cache.redis.ttl(keys[0])
    assert 0 < ttl <= 60


async def test_equivalent_queries_share_an_entry(cache, backend):
    search = CachedSearch(backend, cache)
    await search.search(SearchQuery(q="  Registered   NURSE ", work_types=("full_time", "part_time")))
    await search.search(SearchQuery(q="registered nurse", work_types=("part_time", "full_time")))
    assert len(backend.calls) == 1


async def test_different_queries_have_different_entries(cache, backend):
    melbourne = "Melbourne VIC 3000"
    variants = [
        SearchQuery(q="nurse"),
        SearchQuery(q="paramedic"),
        SearchQuery(q="nurse", classification="Healthcare & Medical"),
        SearchQuery(q="nurse", work_types=("casual",)),
        SearchQuery(q="nurse", work_types=("casual", "full_time")),
        SearchQuery(q="nurse", location=LocationFilter(label=melbourne, radius_km=10)),
        SearchQuery(q="nurse", location=LocationFilter(label=melbourne, radius_km=50)),
        SearchQuery(q="nurse", salary_min_cents=9_000_000),
        SearchQuery(q="nurse", skills=("triage",)),
        SearchQuery(q="nurse", sort=SortOrder.date),
        SearchQuery(q="nurse", limit=50),
        SearchQuery(q="nurse", cursor={"o": 20}),
        SearchQuery(q="nurse", now=datetime.now(UTC) - timedelta(days=3)),
    ]
    search = CachedSearch(backend, cache)
    for query in variants:
        await search.search(query)
    assert len(backend.calls) == len(variants)
    assert len(await keys_of(cache)) == len(variants)
    for query in variants:  # each one is now a hit
        await search.search(query)
    assert len(backend.calls) == len(variants)


async def test_query_id_is_never_cached(cache, backend):
    search = CachedSearch(backend, cache)
    first = await search.search(SearchQuery(q="nurse"))
    first.query_id = "request-one"  # what the search route does with the answer
    second = await search.search(SearchQuery(q="nurse"))
    assert len(backend.calls) == 1
    assert second.query_id is None
    stored = await cache.redis.get((await keys_of(cache))[0])
    assert b"query_id" not in stored


async def test_a_failed_search_is_not_cached(cache, backend):
    search = CachedSearch(backend, cache)
    backend.fail = True
    with pytest.raises(RuntimeError):
        await search.search(SearchQuery(q="nurse"))
    assert await keys_of(cache) == []
    backend.fail = False
    assert (await search.search(SearchQuery(q="nurse"))).total == 1
    assert len(backend.calls) == 2


async def test_invalidate_starts_a_new_generation(cache, backend):
    search = CachedSearch(backend, cache)
    await search.search(SearchQuery(q="nurse"))
    await cache.invalidate()
    again = await search.search(SearchQuery(q="nurse"))
    assert len(backend.calls) == 2 and again.items[0].title == "Answer 2"
    await search.search(SearchQuery(q="nurse"))
    assert len(backend.calls) == 2
    assert int(await cache.redis.get(cache.generation_key)) == 1


async def test_index_commit_invalidates_after_commit_only(cache, backend, fresh_database_url):
    """The indexer runs inside the inbox transaction: the bump waits for the commit,
    happens once however often it is asked for, and a rollback bumps nothing."""
    search = CachedSearch(backend, cache)
    await search.search(SearchQuery(q="nurse"))
    db = Database(fresh_database_url, pool_size=1)
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as session:
                cache.invalidate_after_commit(session)
                raise RuntimeError("handler failed")
        async with db.transaction() as session:
            cache.invalidate_after_commit(session)
            cache.invalidate_after_commit(session)
            assert await cache.redis.get(cache.generation_key) is None  # not before the commit
    finally:
        await db.dispose()

    async def bumped() -> bool:
        return await cache.redis.get(cache.generation_key) == b"1"

    await eventually(bumped)
    await search.search(SearchQuery(q="nurse"))
    assert len(backend.calls) == 2


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_searches_work_when_redis_is_down(backend, caplog):
    cache = SearchCache.from_url(f"redis://127.0.0.1:{closed_port()}/0", prefix="test:down")
    search = CachedSearch(backend, cache)
    errors = cache_count("error")
    try:
        with caplog.at_level("WARNING", logger="aujobs_search.cache"):
            for _ in range(3):
                assert (await search.search(SearchQuery(q="nurse"))).total == 1
            await cache.invalidate()
        assert len(backend.calls) == 3
        assert cache_count("error") == errors + 3
        warnings = [r for r in caplog.records if r.name == "aujobs_search.cache" and r.levelname == "WARNING"]
        assert len(warnings) == 1  # once, not per request
        assert (await search.suggest("reg"))[0].text == "reg nurse"
    finally:
        await cache.aclose()


async def test_no_redis_url_means_no_cache(backend):
    cache = SearchCache.from_url(None)
    search = CachedSearch(backend, cache)
    await search.search(SearchQuery(q="nurse"))
    await search.search(SearchQuery(q="nurse"))
    await cache.invalidate()
    assert len(backend.calls) == 2 and not cache.enabled
    await cache.aclose()
