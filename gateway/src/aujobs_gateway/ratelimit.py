"""Fixed-window rate limiting: counters in Redis (shared by every gateway replica),
falling back to an in-process counter when Redis is not configured or unreachable."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    scope: str
    limit: int
    count: int
    reset_seconds: int

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }


class MemoryCounter:
    """Per-process fixed-window counters (embedded mode, or while Redis is down)."""

    def __init__(self) -> None:
        self._window: int | None = None
        self._counts: dict[str, int] = {}

    def incr(self, key: str, window_index: int) -> int:
        if window_index != self._window:
            # a new window: everything older is dead
            self._window = window_index
            self._counts = {}
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return count


class RateLimiter:
    def __init__(
        self,
        redis: Any | None,
        *,
        window_seconds: int = 60,
        prefix: str = "aujobs:ratelimit",
        retry_redis_after_seconds: float = 15.0,
    ) -> None:
        self.redis = redis
        self.window = max(1, int(window_seconds))
        self.prefix = prefix
        self.retry_redis_after = retry_redis_after_seconds
        self._memory = MemoryCounter()
        self._redis_down_until = 0.0
        self._warned = False

    @property
    def backend(self) -> str:
        if self.redis is None or time.monotonic() < self._redis_down_until:
            return "memory"
        return "redis"

    async def hit(self, scope: str, identity: str, limit: int) -> Decision | None:
        """Count one request of ``identity`` in ``scope``; ``None`` when the limit is off."""
        if limit <= 0:
            return None
        now = time.time()
        window_index = int(now // self.window)
        reset = max(1, math.ceil((window_index + 1) * self.window - now))
        key = f"{self.prefix}:{scope}:{identity}:{window_index}"
        count = await self._incr_redis(key)
        if count is None:
            count = self._memory.incr(key, window_index)
        return Decision(scope=scope, limit=limit, count=count, reset_seconds=reset)

    async def _incr_redis(self, key: str) -> int | None:
        if self.redis is None or time.monotonic() < self._redis_down_until:
            return None
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, self.window + 5)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._redis_down_until = time.monotonic() + self.retry_redis_after
            if not self._warned:
                self._warned = True
                log.warning(
                    "Redis unavailable for rate limiting; using in-process counters",
                    extra={"error_type": type(exc).__name__},
                )
            return None
        if self._warned:
            self._warned = False
            log.info("Redis is back; rate limiting uses Redis again")
        return int(count)


def most_restrictive(decisions: list[Decision]) -> Decision | None:
    """The decision to report: a denied one first, else the one with the least left."""
    if not decisions:
        return None
    denied = [d for d in decisions if not d.allowed]
    if denied:
        return max(denied, key=lambda d: d.reset_seconds)
    return min(decisions, key=lambda d: (d.remaining, -d.reset_seconds))
