"""Brute-force protection: per-account and per-IP limits with exponential back-off,
identical for unknown emails."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from redis.asyncio import Redis

from aujobs_auth.throttle import MemoryAttemptStore, Policy, RedisAttemptStore


def approx(value: float):
    return pytest.approx(value, abs=0.01)


POLICY = Policy(limit=3, base_delay=10, max_delay=60, window=3600)


@pytest.fixture(params=["memory", "redis"])
async def store(request):
    if request.param == "memory":
        yield MemoryAttemptStore()
        return
    redis = Redis.from_url(request.getfixturevalue("redis_url"))
    prefix = f"aujobs:test:{uuid.uuid4().hex[:10]}"
    yield RedisAttemptStore(redis, prefix)
    keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def test_back_off_doubles_up_to_the_cap(store):
    now = time.time()
    assert await store.hit("k", POLICY, now) == 0  # 1
    assert await store.hit("k", POLICY, now) == 0  # 2
    assert await store.hit("k", POLICY, now) == approx(now + 10)  # 3rd: locked 10 s
    assert await store.locked_until("k") == approx(now + 10)
    assert await store.hit("k", POLICY, now + 11) == approx(now + 11 + 20)  # then 20 s
    assert await store.hit("k", POLICY, now + 40) == approx(now + 40 + 40)  # 40 s
    assert await store.hit("k", POLICY, now + 90) == approx(now + 90 + 60)  # capped at 60 s
    assert await store.locked_until("other") == 0
    await store.reset("k")
    assert await store.locked_until("k") == 0


async def _login(auth, email, password="not the password!", ip="192.0.2.10"):
    return await auth.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, headers={"X-Real-IP": ip}
    )


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_repeated_failures_lock_the_account_and_unknown_emails_alike(start_auth, redis_url, h, backend):
    overrides = {"redis_url": redis_url} if backend == "redis" else {}
    async with start_auth(**overrides) as auth:
        email, _ = await h.register(auth)
        unknown = h.new_email()
        answers = {}
        for who in (email, unknown):
            failures = [await _login(auth, who, ip=f"192.0.2.{20 + len(answers)}") for _ in range(5)]
            assert {r.status_code for r in failures} == {401}
            locked = await _login(auth, who, ip=f"192.0.2.{20 + len(answers)}")
            assert locked.status_code == 429, locked.text
            assert locked.headers["content-type"].startswith("application/problem+json")
            assert 1 <= int(locked.headers["retry-after"]) <= 30
            answers[who] = (failures[0].json(), locked.json())
        # Nothing tells a real account from an unknown one.
        (fail_a, lock_a), (fail_b, lock_b) = answers.values()
        assert fail_a == fail_b
        assert {k: v for k, v in lock_a.items() if k != "detail"} == {
            k: v for k, v in lock_b.items() if k != "detail"
        }
        # Even the right password waits, from any address.
        right = await _login(auth, email, password=h.PASSWORD, ip="198.51.100.99")
        assert right.status_code == 429


async def test_per_ip_limit_across_accounts(start_auth, h):
    async with start_auth(login_failures_per_ip=4) as auth:
        email, _ = await h.register(auth)
        for _ in range(4):
            assert (await _login(auth, h.new_email(), ip="203.0.113.50")).status_code == 401
        blocked = await _login(auth, email, password=h.PASSWORD, ip="203.0.113.50")
        assert blocked.status_code == 429 and blocked.headers["retry-after"]
        elsewhere = await _login(auth, email, password=h.PASSWORD, ip="203.0.113.51")
        assert elsewhere.status_code == 200


async def test_success_resets_the_account_counter(auth, h):
    email, _ = await h.register(auth)
    for _ in range(4):
        assert (await _login(auth, email)).status_code == 401
    assert (await _login(auth, email, password=h.PASSWORD)).status_code == 200
    for _ in range(4):
        assert (await _login(auth, email)).status_code == 401  # counting from zero again


async def test_back_off_expires(start_auth, h):
    async with start_auth(login_failures_per_account=2, throttle_base_delay_seconds=0.3) as auth:
        email, _ = await h.register(auth)
        for _ in range(2):
            await _login(auth, email)
        assert (await _login(auth, email, password=h.PASSWORD)).status_code == 429
        await asyncio.sleep(0.4)
        assert (await _login(auth, email, password=h.PASSWORD)).status_code == 200


async def test_emailed_actions_are_limited_per_address_whether_or_not_it_exists(auth, h):
    email, _ = await h.register(auth)
    for n, path in enumerate(("/api/v1/auth/request-reset", "/api/v1/auth/resend-verification")):
        for m, who in enumerate((email, h.new_email())):
            ip = {"X-Real-IP": f"192.0.2.{100 + 2 * n + m}"}
            answers = [await auth.post(path, json={"email": who}, headers=ip) for _ in range(3)]
            assert {r.status_code for r in answers} == {202}
            assert len({r.text for r in answers}) == 1
            limited = await auth.post(path, json={"email": who}, headers=ip)
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


async def test_emailed_actions_are_limited_per_ip(start_auth, h):
    async with start_auth(email_requests_per_ip=3) as auth:
        ip = {"X-Real-IP": "192.0.2.200"}
        for _ in range(3):
            r = await auth.post("/api/v1/auth/request-reset", json={"email": h.new_email()}, headers=ip)
            assert r.status_code == 202
        r = await auth.post("/api/v1/auth/request-reset", json={"email": h.new_email()}, headers=ip)
        assert r.status_code == 429
