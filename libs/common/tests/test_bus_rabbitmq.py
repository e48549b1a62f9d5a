"""RabbitMQBus against the real broker (fixture ``amqp_url``); every test has its own
exchange and queues, deleted afterwards (fixture ``rabbit_bus`` in conftest)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable

import aio_pika
import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from aujobs_common.bus import PublishError, RabbitMQBus
from aujobs_common.bus.rabbitmq import ATTEMPT_HEADER, ERROR_HEADER
from aujobs_common.events import CloudEvent
from aujobs_common.testing.waiting import eventually


def event(type_: str = "au.jobs.job.published.v1", **data: object) -> CloudEvent:
    return CloudEvent(source="/test", type=type_, data=dict(data))


async def test_topology_fan_out_and_message_properties(rabbit_bus, amqp_url: str) -> None:
    bus: RabbitMQBus = rabbit_bus()
    got: dict[str, list[CloudEvent]] = {"search": [], "alerts": [], "auth": []}

    def recorder(name: str):
        async def handle(e: CloudEvent) -> None:
            got[name].append(e)

        return handle

    bus.subscribe("search", ["au.jobs.job.*.v1"], recorder("search"))
    bus.subscribe("alerts", ["au.jobs.#"], recorder("alerts"))
    bus.subscribe("auth", ["au.jobs.user.#"], recorder("auth"))
    await bus.start()
    # a raw queue on the same exchange lets us look at the message as sent
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        tap = await channel.declare_queue(exclusive=True)
        await tap.bind(bus.exchange_name, routing_key="#")

        parent = SpanContext(trace_id=0xABC, span_id=0x1, is_remote=False, trace_flags=TraceFlags(1))
        sent = event(title="Nurse")
        with trace.use_span(NonRecordingSpan(parent)):
            await bus.publish(sent)
        await bus.publish(event("au.jobs.other.thing.v1"))  # unrouted for our consumers: fine

        await eventually(lambda: len(got["search"]) == 1 and len(got["alerts"]) == 2)
        assert got["search"][0].model_dump() == sent.model_dump()
        assert got["auth"] == []

        raw = await tap.get(timeout=5)
        await raw.ack()
        assert raw.content_type == "application/cloudevents+json"
        assert raw.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert raw.message_id == sent.id
        assert raw.type == sent.type
        assert raw.routing_key == sent.type
        assert str(raw.headers["traceparent"]).startswith(f"00-{0xABC:032x}-")

        # the consumer queues are durable quorum queues: redeclaring with those exact
        # arguments succeeds, passively it exists
        for name in (bus.queue_name("search"), bus.dlq_name("search")):
            await channel.declare_queue(name, passive=True)
            await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
    await bus.ping()


async def test_trace_context_reaches_the_consumer_span(rabbit_bus) -> None:
    bus: RabbitMQBus = rabbit_bus()
    seen: list[int] = []

    async def handle(e: CloudEvent) -> None:
        seen.append(trace.get_current_span().get_span_context().trace_id)

    bus.subscribe("search", ["#"], handle)
    await bus.start()
    parent = SpanContext(trace_id=0x77, span_id=0x2, is_remote=False, trace_flags=TraceFlags(1))
    with trace.use_span(NonRecordingSpan(parent)):
        await bus.publish(event())
    await eventually(lambda: seen == [0x77])


async def test_retry_with_backoff_then_success(rabbit_bus) -> None:
    bus: RabbitMQBus = rabbit_bus(max_attempts=5, retry_base_ms=100)
    calls: list[float] = []

    async def flaky(e: CloudEvent) -> None:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise RuntimeError("transient")

    bus.subscribe("search", ["#"], flaky)
    await bus.start()
    await bus.publish(event())
    await eventually(lambda: len(calls) == 3)
    assert calls[1] - calls[0] >= 0.09  # retry queue TTL 100 ms
    assert calls[2] - calls[1] >= 0.19  # then 200 ms
    await asyncio.sleep(0.3)
    assert len(calls) == 3  # acked after the success: no further delivery
    assert await bus.dead_letters("search") == []


async def test_always_failing_event_goes_to_dlq_and_can_be_replayed(rabbit_bus) -> None:
    bus: RabbitMQBus = rabbit_bus(max_attempts=3, retry_base_ms=20)
    calls = 0
    healthy = False
    handled: list[str] = []
    other: list[str] = []

    async def handler(e: CloudEvent) -> None:
        nonlocal calls
        calls += 1
        if not healthy:
            raise ValueError("poison pill")
        handled.append(e.id)

    async def other_handler(e: CloudEvent) -> None:
        other.append(e.id)

    bus.subscribe("search", ["#"], handler)
    bus.subscribe("alerts", ["#"], other_handler)
    await bus.start()
    sent = event(n=1)
    await bus.publish(sent)

    async def parked() -> bool:
        return [e.id for e in await bus.dead_letters("search")] == [sent.id]

    await eventually(parked)
    assert calls == 3
    # Listing is repeatable and does not lose or duplicate anything.
    for _ in range(3):
        dead = await bus.dead_letters("search")
        assert [(e.id, e.data) for e in dead] == [(sent.id, {"n": 1})]
    assert await bus.dead_letters("alerts") == []

    # The parked copy carries the attempt count and the last error.
    connection = await aio_pika.connect(bus.url)
    async with connection:
        channel = await connection.channel()
        dlq = await channel.get_queue(bus.dlq_name("search"))
        raw = await dlq.get(timeout=5)
        assert raw.headers[ATTEMPT_HEADER] == 3
        assert "ValueError: poison pill" in str(raw.headers[ERROR_HEADER])
        await raw.nack(requeue=True)

    healthy = True
    assert await bus.replay_dead_letters("search") == 1
    await eventually(lambda: handled == [sent.id])
    assert other == [sent.id]  # replay targets the failing consumer's queue only
    assert await bus.dead_letters("search") == []
    assert await bus.replay_dead_letters("search") == 0


async def test_consumers_resume_after_the_connection_drops(broker_proxy, rabbit_bus, amqp_url):
    consumer_bus: RabbitMQBus = rabbit_bus(broker_proxy.url(amqp_url))
    publisher: RabbitMQBus = rabbit_bus()  # direct, unaffected by the cut
    got: list[str] = []

    async def handle(e: CloudEvent) -> None:
        got.append(e.id)

    consumer_bus.subscribe("search", ["#"], handle)
    await consumer_bus.start()
    await publisher.start()
    gc.collect()  # the channels must survive: the robust connection only holds weak refs
    first = event()
    await publisher.publish(first)
    await eventually(lambda: got == [first.id])

    broker_proxy.cut()
    await eventually(lambda: _raises(consumer_bus.ping))
    second = event()
    await publisher.publish(second)  # queued in the durable queue meanwhile
    await asyncio.sleep(0.3)
    assert got == [first.id]

    broker_proxy.restore()
    await eventually(lambda: got == [first.id, second.id], timeout=10)
    # the robust connection may still be settling its channels: healthy again soon
    await eventually(lambda: _healthy(consumer_bus.ping), timeout=10)


async def test_publish_raises_publish_error_while_the_broker_is_unreachable(
    broker_proxy, rabbit_bus, amqp_url
):
    bus: RabbitMQBus = rabbit_bus(broker_proxy.url(amqp_url), publish_timeout=1.0)
    got: list[str] = []

    async def handle(e: CloudEvent) -> None:
        got.append(e.id)

    bus.subscribe("search", ["#"], handle)
    await bus.start()
    broker_proxy.cut()
    with pytest.raises(PublishError):
        await bus.publish(event())
    broker_proxy.restore()

    async def published() -> bool:
        try:
            await bus.publish(event(ok=True))
        except PublishError:
            await asyncio.sleep(0.1)
            return False
        return True

    await eventually(published, timeout=10)
    await eventually(lambda: len(got) == 1)


async def test_publish_before_start_fails(rabbit_bus) -> None:
    bus: RabbitMQBus = rabbit_bus()
    with pytest.raises(PublishError):
        await bus.publish(event())
    with pytest.raises(ConnectionError):
        await bus.ping()


async def _healthy(probe: Callable[[], Awaitable[None]]) -> bool:
    return not await _raises(probe)


async def _raises(probe: Callable[[], Awaitable[None]]) -> bool:
    try:
        await probe()
    except ConnectionError:
        return True
    return False
