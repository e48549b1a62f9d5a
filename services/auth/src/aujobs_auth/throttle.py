"""Brute-force protection: counters with exponential back-off.

Each counter is a key (``login:account:<email hash>``, ``login:ip:<ip>``, …). A hit
(a failed attempt, or a request for the emailed actions) increments it; from the
``limit``-th hit on, the key is locked for ``base * 2^(hits - limit)`` seconds (capped).
While a key is locked the action answers 429 with ``Retry-After``, before any password
is checked. Counters are forgotten ``window`` seconds after the last hit or lock.

Account keys are derived from the *email as typed* (normalised), never from whether
an account exists, so an unknown email is throttled exactly like a real one.

Counters live in Redis when it is configured (shared by every replica; updated
atomically by a Lua script), otherwise in the process. If Redis is unreachable the
check fails open (logged): the gateway's per-IP limits still apply.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from redis.exceptions import RedisError

from aujobs_common.errors import ProblemError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    limit: int
    base_delay: float
    max_delay: float
    window: int


class AttemptStore(Protocol):
    async def locked_until(self, key: str) -> float: ...

    async def hit(self, key: str, policy: Policy, now: float) -> float: ...

    async def reset(self, key: str) -> None: ...


def _lock_until(hits: int, policy: Policy, now: float, current: float) -> float:
    if hits < policy.limit:
        return current
    exponent = min(hits - policy.limit, 30)
    return now + min(policy.base_delay * 2**exponent, policy.max_delay)


class MemoryAttemptStore:
    """In-process counters (embedded mode, or no Redis)."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[int, float, float]] = {}  # hits, locked until, forget at

    def _get(self, key: str, now: float) -> tuple[int, float]:
        entry = self._data.get(key)
        if entry is None:
            return 0, 0.0
        if entry[2] <= now:
            del self._data[key]
            return 0, 0.0
        return entry[0], entry[1]

    async def locked_until(self, key: str) -> float:
        return self._get(key, time.time())[1]

    async def hit(self, key: str, policy: Policy, now: float) -> float:
        hits, until = self._get(key, now)
        hits += 1
        until = _lock_until(hits, policy, now, until)
        self._data[key] = (hits, until, max(now + policy.window, until))
        if len(self._data) > 100_000:  # bound memory under a spray of keys
            for stale in [k for k, v in self._data.items() if v[2] <= now][:50_000]:
                del self._data[stale]
        return until

    async def reset(self, key: str) -> None:
        self._data.pop(key, None)


_HIT_SCRIPT = """
local hits = redis.call('HINCRBY', KEYS[1], 'n', 1)
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local untl = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if hits >= limit then
  local exponent = math.min(hits - limit, 30)
  untl = now + math.min(tonumber(ARGV[3]) * 2 ^ exponent, tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], 'until', string.format('%.3f', untl))
end
redis.call('EXPIRE', KEYS[1], math.max(tonumber(ARGV[5]), math.ceil(untl - now)))
return string.format('%.3f', untl)
"""


class RedisAttemptStore:
    def __init__(self, redis: Any, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix.rstrip(":") + ":auth:"
        self._script = redis.register_script(_HIT_SCRIPT)

    async def locked_until(self, key: str) -> float:
        value = await self.redis.hget(self.prefix + key, "until")
        return float(value) if value else 0.0

    async def hit(self, key: str, policy: Policy, now: float) -> float:
        result = await self._script(
            keys=[self.prefix + key],
            args=[repr(now), policy.limit, policy.base_delay, policy.max_delay, policy.window],
        )
        return float(result)

    async def reset(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)


def email_key(email: str) -> str:
    """Counter id for an email as typed: hashed, so Redis never holds addresses."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class Throttle:
    def __init__(self, store: AttemptStore) -> None:
        self.store = store

    async def check(self, *keys: str) -> None:
        """429 when any of ``keys`` is locked."""
        now = time.time()
        try:
            until = max([await self.store.locked_until(k) for k in keys] or [0.0])
        except RedisError as exc:
            log.warning("throttle store unavailable; not limiting", extra={"error_type": type(exc).__name__})
            return
        if until > now:
            raise too_many(until - now)

    async def hit(self, policies: dict[str, Policy]) -> float:
        """Count a hit on each key; returns the latest lock (epoch seconds, 0 if none)."""
        now = time.time()
        until = 0.0
        try:
            for key, policy in policies.items():
                until = max(until, await self.store.hit(key, policy, now))
        except RedisError as exc:
            log.warning("throttle store unavailable; not counting", extra={"error_type": type(exc).__name__})
        return until

    async def reset(self, *keys: str) -> None:
        try:
            for key in keys:
                await self.store.reset(key)
        except RedisError as exc:
            log.warning("throttle store unavailable; not reset", extra={"error_type": type(exc).__name__})


def too_many(wait: float) -> ProblemError:
    seconds = max(1, math.ceil(wait))
    return ProblemError(
        429,
        f"Too many attempts. Try again in {seconds} seconds.",
        type_="too-many-attempts",
        title="Too Many Requests",
        headers={"Retry-After": str(seconds)},
    )
