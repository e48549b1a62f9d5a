from __future__ import annotations

import asyncio
import time

import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from prometheus_client import REGISTRY

from aujobs_common.bus import InMemoryBus, PublishError, create_bus, topic_matches
from aujobs_common.bus.rabbitmq import RabbitMQBus
from aujobs_common.events import CloudEvent
from aujobs_common.settings import ServiceSettings


def event(type_: str = "au.jobs.job.published.v1", **data: object) -> CloudEvent:
    return CloudEvent(source="/test", type=type_, data=dict(data))


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("au.jobs.job.published.v1", "au.jobs.job.published.v1", True),
        ("au.jobs.job.*.v1", "au.jobs.job.closed.v1", True),
        ("au.jobs.job.*.v1", "au.jobs.job.closed.v2", False),
        ("au.jobs.*.v1", "au.jobs.job.closed.v1", False),  # * is exactly one word
        ("au.jobs.#", "au.jobs.job.closed.v1", True),
        ("au.jobs.#", "au.jobs", True),  # # may be zero words
        ("#", "anything.at.all", True),
        ("#.v1", "au.jobs.user.registered.v1", True),
        ("au.#.v1", "au.jobs.user.registered.v2", False),
        ("au.jobs.user.*", "au.jobs.user", False),
    ],
)
def test_topic_matching(pattern: str, key: str, expected: bool) -> None:
    assert topic_matches(pattern, key) is expected


async def test_fan_out_gives_each_matching_consumer_its_own_copy() -> None:
    bus = InMemoryBus()
    got: dict[str, list[CloudEvent]] = {"search": [], "alerts": [], "auth": []}

    def recorder(name: str):
        async def handle(e: CloudEvent) -> None:
            e.data["touched_by"] = name  # must not leak into the other consumer's copy
            got[name].append(e)

        return handle

    bus.subscribe("search", ["au.jobs.job.*.v1"], recorder("search"))
    bus.subscribe("alerts", ["au.jobs.#"], recorder("alerts"))
    bus.subscribe("auth", ["au.jobs.user.#"], recorder("auth"))
    await bus.start()
    try:
        sent = event(title="Nurse")
        await bus.publish(sent)
        await bus.drain(2)
        assert [e.id for e in got["search"]] == [sent.id]
        assert [e.id for e in got["alerts"]] == [sent.id]
        assert got["auth"] == []
        assert got["search"][0] is not got["alerts"][0]
        assert got["search"][0].data == {"title": "Nurse", "touched_by": "search"}
        assert got["alerts"][0].data == {"title": "Nurse", "touched_by": "alerts"}
        assert sent.data == {"title": "Nurse"}
    finally:
        await bus.close()


async def test_publish_before_start_is_delivered_after_start() -> None:
    bus = InMemoryBus()
    got: list[str] = []

    async def handle(e: CloudEvent) -> None:
        got.append(e.id)

    bus.subscribe("search", ["#"], handle)
    first = event()
    await bus.publish(first)
    assert got == []
    await bus.start()
    try:
        await bus.drain(2)
        assert got == [first.id]
    finally:
        await bus.close()


async def test_several_subscriptions_of_one_consumer_are_dispatched_by_pattern() -> None:
    bus = InMemoryBus()
    got: list[tuple[str, str]] = []

    async def on_job(e: CloudEvent) -> None:
        got.append(("job", e.type))

    async def on_user(e: CloudEvent) -> None:
        got.append(("user", e.type))

    bus.subscribe("search", ["au.jobs.job.#"], on_job)
    bus.subscribe("search", ["au.jobs.user.#"], on_user)
    await bus.start()
    try:
        await bus.publish(event("au.jobs.user.registered.v1"))
        await bus.publish(event("au.jobs.job.closed.v1"))
        await bus.drain(2)
        assert got == [("user", "au.jobs.user.registered.v1"), ("job", "au.jobs.job.closed.v1")]
    finally:
        await bus.close()


async def test_retry_with_backoff_then_success() -> None:
    bus = InMemoryBus(max_attempts=5, retry_base_ms=40)
    calls: list[float] = []

    async def flaky(e: CloudEvent) -> None:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise RuntimeError("transient")

    bus.subscribe("search", ["#"], flaky)
    await bus.start()
    try:
        await bus.publish(event())
        await bus.drain(3)
        assert len(calls) == 3
        # back-off doubles: ~40 ms then ~80 ms
        assert calls[1] - calls[0] >= 0.035
        assert calls[2] - calls[1] >= 0.075
        assert await bus.dead_letters("search") == []
    finally:
        await bus.close()


async def test_always_failing_event_is_dead_lettered_then_replayed() -> None:
    bus = InMemoryBus(max_attempts=3, retry_base_ms=5)
    calls = 0
    healthy = False
    handled: list[str] = []

    async def handler(e: CloudEvent) -> None:
        nonlocal calls
        calls += 1
        if not healthy:
            raise ValueError("poison")
        handled.append(e.id)

    other: list[str] = []

    async def other_handler(e: CloudEvent) -> None:
        other.append(e.id)

    bus.subscribe("search", ["#"], handler)
    bus.subscribe("alerts", ["#"], other_handler)
    await bus.start()
    try:
        sent = event(n=1)
        labels = {"consumer": "search", "event_type": sent.type}
        before = REGISTRY.get_sample_value("aujobs_bus_dead_lettered_total", labels) or 0
        await bus.publish(sent)
        await bus.drain(2)
        assert calls == 3
        assert REGISTRY.get_sample_value("aujobs_bus_dead_lettered_total", labels) == before + 1
        dead = await bus.dead_letters("search")
        assert [(e.id, e.data) for e in dead] == [(sent.id, {"n": 1})]
        assert await bus.dead_letters("search") == dead  # listing does not remove
        assert await bus.dead_letters("alerts") == []

        healthy = True
        assert await bus.replay_dead_letters("search") == 1
        await bus.drain(2)
        assert handled == [sent.id]
        assert other == [sent.id]  # replay goes to the failing consumer only
        assert await bus.dead_letters("search") == []
        assert await bus.replay_dead_letters("search") == 0
    finally:
        await bus.close()


async def test_trace_context_travels_to_the_handler() -> None:
    bus = InMemoryBus()
    seen: list[int] = []

    async def handle(e: CloudEvent) -> None:
        seen.append(trace.get_current_span().get_span_context().trace_id)

    bus.subscribe("search", ["#"], handle)
    await bus.start()
    parent = SpanContext(trace_id=0x1234, span_id=0x99, is_remote=False, trace_flags=TraceFlags(1))
    try:
        with trace.use_span(NonRecordingSpan(parent)):
            await bus.publish(event())
        await bus.drain(2)
        assert seen == [0x1234]
    finally:
        await bus.close()


async def test_close_stops_workers_and_publish_fails_afterwards() -> None:
    bus = InMemoryBus()
    started = asyncio.Event()

    async def slow(e: CloudEvent) -> None:
        started.set()
        await asyncio.sleep(30)

    bus.subscribe("search", ["#"], slow)
    await bus.start()
    await bus.publish(event())
    await asyncio.wait_for(started.wait(), 2)
    await asyncio.wait_for(bus.close(), 2)
    assert all(not t.get_name().startswith("bus:") for t in asyncio.all_tasks())
    with pytest.raises(PublishError):
        await bus.publish(event())
    with pytest.raises(ConnectionError):
        await bus.ping()


async def test_drain_times_out_when_not_started() -> None:
    bus = InMemoryBus()

    async def handle(e: CloudEvent) -> None:
        pass

    bus.subscribe("search", ["#"], handle)
    await bus.publish(event())
    with pytest.raises(TimeoutError):
        await bus.drain(0.05)


def test_create_bus_picks_the_adapter_from_settings() -> None:
    memory = create_bus(ServiceSettings(amqp_url=None, bus_max_attempts=7))
    assert isinstance(memory, InMemoryBus)
    assert memory.max_attempts == 7
    rabbit = create_bus(ServiceSettings(amqp_url="amqp://guest:guest@localhost/", bus_exchange="x.events"))
    assert isinstance(rabbit, RabbitMQBus)
    assert rabbit.queue_name("search") == "x.events.search"
    assert rabbit.dlq_name("search") == "x.events.search.dlq"
