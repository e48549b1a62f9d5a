"""Search results cached in Redis, in front of any :class:`~aujobs_search.query.SearchBackend`.

* Key: ``{prefix}:{generation}:{sha256 of the normalised query}``. The normalised query
  is every :class:`SearchQuery` field a backend answers by, with multi-valued filters
  sorted and de-duplicated and the text lower-cased with its whitespace collapsed, so
  "  Nurse  Melbourne" and "nurse melbourne" share an entry.
* Time: ``now`` is not in the key as such, only the hour it falls in. The
  time-dependent parts of an answer (posted within N days, the freshness decay) move on
  a scale of days, and an entry lives ``ttl`` seconds (60 by default), so a real-time
  answer is at most that old; a query pinned to another hour (tests, replays) gets an
  entry of its own.
* Invalidation: a generation counter (``INCR {prefix}:generation``) is bumped after a
  commit that changed the index; entries of older generations are never read again and
  expire with their TTL.
* The generation is not cached in the process: one Lua script reads the generation and
  the entry under it in a single round trip, so every search sees the current generation
  (no window where another replica serves the old index) at the cost of no extra round
  trip. (The script touches a key it computes, which Redis Cluster forbids; this is for a
  single Redis or a primary with replicas.)
* Values: the :class:`SearchResults` JSON without ``query_id`` (each request gets its
  own). Only what a backend returned is cached; an exception is never cached.
* Redis unset or unreachable: searches go straight to the backend. Failure is logged
  once when Redis goes away (and once when it is back), and Redis is not tried again
  for ``retry_after_seconds``, so a dead Redis costs one failed connection per interval,
  not one per search.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import time
from datetime import datetime
from typing import Any

import redis.asyncio
from prometheus_client import Counter
from pydantic import ValidationError
from redis.exceptions import RedisError
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from .query import SearchBackend, SearchQuery, SearchResults, Suggestion

log = logging.getLogger(__name__)

CACHE_LOOKUPS = Counter(
    "aujobs_search_cache_total",
    "Search result cache lookups by outcome (hit, miss, error: Redis failed or is backing off)",
    ["outcome"],
)

DEFAULT_PREFIX = "aujobs:search"
NOW_BUCKET_SECONDS = 3600

# KEYS[1] the generation counter; ARGV[1] the prefix, ARGV[2] the query hash.
# Returns {generation, entry or nil}.
_LOOKUP_SCRIPT = """
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', ARGV[1] .. ':' .. generation .. ':' .. ARGV[2])}
"""

_SPACES = re.compile(r"\s+")


def normalise_text(text: str | None) -> str | None:
    """Lower-cased, whitespace collapsed; ``None`` for nothing but blanks."""
    if text is None:
        return None
    cleaned = _SPACES.sub(" ", text).strip().lower()
    return cleaned or None


def _values(values: tuple[str, ...]) -> list[str]:
    return sorted(set(values))


def normalise_query(query: SearchQuery) -> dict[str, Any]:
    """Everything the backend answers by, in a canonical form (JSON-serialisable)."""
    location = query.location
    point = location.point if location else None
    return {
        "q": normalise_text(query.q),
        "location": None
        if location is None
        else {
            "label": normalise_text(location.label),
            "radius_km": location.radius_km,
            "point": [point.latitude, point.longitude] if point else None,
            "state": location.state,
            "suburb": normalise_text(location.suburb),
            "postcode": location.postcode,
        },
        "classification": query.classification,
        "sub_classification": query.sub_classification,
        "work_types": _values(query.work_types),
        "work_arrangements": _values(query.work_arrangements),
        "salary_min_cents": query.salary_min_cents,
        "salary_max_cents": query.salary_max_cents,
        "posted_within_days": query.posted_within_days,
        "skills": _values(query.skills),
        "company": normalise_text(query.company),
        "company_sizes": _values(query.company_sizes),
        "benefits": _values(query.benefits),
        "featured_only": query.featured_only,
        "sort": query.sort.value,
        "limit": query.limit,
        "cursor": query.cursor,
        "per_company_cap": query.per_company_cap,
        "facets": query.facets,
    }


def query_hash(query: SearchQuery) -> str:
    """The sha256 of the normalised query, plus the hour of ``query.now`` when pinned."""
    canonical = normalise_query(query)
    canonical["now_bucket"] = _now_bucket(query.now)
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _now_bucket(now: datetime | None) -> int | None:
    return int(now.timestamp()) // NOW_BUCKET_SECONDS if now is not None else None


class SearchCache:
    """The Redis side: look up, store, invalidate. ``redis`` ``None`` turns it off."""

    def __init__(
        self,
        redis_client: Any | None,
        *,
        ttl_seconds: int = 60,
        prefix: str = DEFAULT_PREFIX,
        retry_after_seconds: float = 15.0,
    ) -> None:
        self.redis = redis_client
        self.ttl = max(1, int(ttl_seconds))
        self.prefix = prefix
        self.generation_key = f"{prefix}:generation"
        self.retry_after = retry_after_seconds
        self._down_until = 0.0
        self._warned = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._lookup = redis_client.register_script(_LOOKUP_SCRIPT) if redis_client is not None else None
        if redis_client is None:
            log.info("search result cache is off: no REDIS_URL")

    @classmethod
    def from_url(cls, url: str | None, **options: Any) -> SearchCache:
        """Short socket timeouts: a Redis that hangs must not hold a search up."""
        client = redis.asyncio.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5) if url else None
        return cls(client, **options)

    @property
    def enabled(self) -> bool:
        return self.redis is not None

    def _available(self) -> bool:
        return self.redis is not None and time.monotonic() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + self.retry_after
        if not self._warned:
            self._warned = True
            log.warning(
                "Redis unavailable: searching without the result cache",
                extra={"error_type": type(exc).__name__},
            )

    def _succeeded(self) -> None:
        if self._warned:
            self._warned = False
            log.info("Redis is back: the search result cache is on again")

    async def lookup(self, query: SearchQuery) -> tuple[str | None, SearchResults | None]:
        """``(key to store the answer under, cached results)``; the key is ``None``
        when the cache cannot be used for this search."""
        if not self.enabled:
            return None, None
        if not self._available():
            CACHE_LOOKUPS.labels("error").inc()
            return None, None
        digest = query_hash(query)
        try:
            generation, raw = await self._lookup(keys=[self.generation_key], args=[self.prefix, digest])
        except (RedisError, OSError) as exc:
            self._failed(exc)
            CACHE_LOOKUPS.labels("error").inc()
            return None, None
        self._succeeded()
        key = f"{self.prefix}:{int(generation)}:{digest}"
        if raw is not None:
            try:
                results = SearchResults.model_validate_json(raw)
            except ValidationError:  # written by an older release: answer afresh
                CACHE_LOOKUPS.labels("miss").inc()
                return key, None
            CACHE_LOOKUPS.labels("hit").inc()
            return key, results
        CACHE_LOOKUPS.labels("miss").inc()
        return key, None

    async def store(self, key: str, results: SearchResults) -> None:
        """Best effort: a failure only means the next identical search misses."""
        if not self._available():
            return
        value = results.model_dump_json(exclude={"query_id"})
        try:
            await self.redis.set(key, value, ex=self.ttl)
        except (RedisError, OSError) as exc:
            self._failed(exc)

    async def invalidate(self) -> None:
        """Start a new generation: every cached answer is stale from now on. Tried even
        while lookups back off, since a missed bump leaves stale answers for up to the TTL."""
        if self.redis is None:
            return
        try:
            await self.redis.incr(self.generation_key)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return
        self._succeeded()

    def invalidate_after_commit(self, session: AsyncSession) -> None:
        """Bump the generation once the session's transaction commits (the PostgreSQL
        indexer runs inside the consumer's inbox transaction: invalidating before the
        commit would let a search re-cache the old index). Calling it several times in one
        transaction bumps once; a rollback bumps nothing."""
        if self.redis is None:
            return
        sync_session = session.sync_session
        pending_key = ("aujobs_search.cache.pending", id(self))
        sync_session.info[pending_key] = True
        hooked_key = ("aujobs_search.cache.hooked", id(self))
        if sync_session.info.get(hooked_key):
            return
        sync_session.info[hooked_key] = True

        def on_commit(committed: Any) -> None:
            if committed.info.pop(pending_key, False):
                self._schedule_invalidate()

        def on_rollback(rolled_back: Any) -> None:
            rolled_back.info.pop(pending_key, None)

        sa_event.listen(sync_session, "after_commit", on_commit)
        sa_event.listen(sync_session, "after_rollback", on_rollback)

    def _schedule_invalidate(self) -> None:
        task = asyncio.get_running_loop().create_task(self.invalidate(), name="search-cache-invalidate")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self, grace: float = 2.0) -> None:
        """Let scheduled invalidations finish (up to ``grace`` s), then close the client."""
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), grace)
        if self.redis is not None:
            await self.redis.aclose()


class CachedSearch:
    """A :class:`SearchBackend` that answers from the cache when it can."""

    def __init__(self, backend: SearchBackend, cache: SearchCache) -> None:
        self.backend = backend
        self.cache = cache

    async def search(self, query: SearchQuery) -> SearchResults:
        key, cached = await self.cache.lookup(query)
        if cached is not None:
            return cached
        results = await self.backend.search(query)
        if key is not None:
            await self.cache.store(key, results)
        return results

    async def suggest(self, prefix: str, *, limit: int = 10) -> list[Suggestion]:
        return await self.backend.suggest(prefix, limit=limit)
