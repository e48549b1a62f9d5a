"""Outbox relay and idempotent inbox against the real PostgreSQL (and RabbitMQ for the
broker-outage case): the guarantees of DESIGN.md §3."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.bus import EventBus, InMemoryBus, PublishError, RabbitMQBus
from aujobs_common.db import Database, inbox_table, outbox_table
from aujobs_common.events import CloudEvent
from aujobs_common.inbox import idempotent
from aujobs_common.outbox import OutboxRelay, enqueue
from aujobs_common.testing.waiting import eventually

effects_metadata = sa.MetaData()
# No unique constraint on purpose: a second effect would show up as a second row.
effects = sa.Table(
    "effects",
    effects_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.Text, nullable=False),
)


def event(n: int = 0) -> CloudEvent:
    return CloudEvent(source="/jobs", type="au.jobs.job.published.v1", data={"n": n})


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def scalar(db: Database, query: sa.Select) -> object:
    async with db.session() as session:
        return (await session.execute(query)).scalar_one()


async def count(db: Database, table: sa.Table) -> int:
    return int(await scalar(db, sa.select(sa.func.count()).select_from(table)))  # type: ignore[arg-type]


async def record_effect(session: AsyncSession, e: CloudEvent) -> None:
    await session.execute(sa.insert(effects).values(event_id=e.id))


@pytest.fixture
async def effects_db(db: Database) -> Database:
    async with db.engine.begin() as conn:
        await conn.run_sync(effects_metadata.create_all)
    return db


async def commit_events(db: Database, *events: CloudEvent) -> None:
    async with db.transaction() as session:
        for e in events:
            await enqueue(session, e)


class CrashAfterPublishBus(InMemoryBus):
    """The broker takes the event, then the relay process dies before marking it."""

    async def publish(self, event: CloudEvent) -> None:
        await super().publish(event)
        raise asyncio.CancelledError  # what a killed task sees


class FlakyBus(InMemoryBus):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def publish(self, event: CloudEvent) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise PublishError("broker unreachable")
        await super().publish(event)


class SlowBus(InMemoryBus):
    async def publish(self, event: CloudEvent) -> None:
        await asyncio.sleep(0.005)
        await super().publish(event)


# --------------------------------------------------------------------------- outbox


async def test_enqueue_only_writes_within_the_callers_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await enqueue(session, event())
            raise RuntimeError("the state change failed")
    assert await count(db, outbox_table) == 0

    sent = event(1)
    await commit_events(db, sent)
    async with db.session() as session:
        row = (await session.execute(sa.select(outbox_table))).one()
    assert str(row.id) == sent.id
    assert row.event_type == sent.type
    assert row.published_at is None and row.attempts == 0
    assert CloudEvent.model_validate(row.envelope).model_dump() == sent.model_dump()


async def test_event_is_not_lost_when_the_relay_dies_between_commit_and_publish(
    effects_db: Database,
) -> None:
    db = effects_db
    bus = InMemoryBus()
    bus.subscribe("search", ["au.jobs.#"], idempotent(db, "search", record_effect))
    await bus.start()

    sent = event()
    await commit_events(db, sent)  # committed; the relay "died" before publishing
    dead_relay = OutboxRelay(db, bus, poll_interval=0.05)
    await dead_relay.stop()  # never ran
    assert await scalar(db, sa.select(outbox_table.c.published_at)) is None
    assert await count(db, effects) == 0

    relay = OutboxRelay(db, bus, poll_interval=0.05)  # the restarted process
    relay.start()
    try:
        await eventually(lambda: _eq(count(db, effects), 1))
    finally:
        await relay.stop()
    await bus.drain(2)
    assert await relay.run_once() == 0  # marked: not published a second time
    assert await count(db, effects) == 1
    assert await scalar(db, sa.select(outbox_table.c.published_at)) is not None
    await bus.close()


async def test_crash_after_publish_before_marking_publishes_again_with_one_effect(
    effects_db: Database,
) -> None:
    db = effects_db
    duplicates_before = metric(
        "aujobs_events_consumed_total",
        consumer="search",
        event_type="au.jobs.job.published.v1",
        outcome="duplicate",
    )
    crashing = CrashAfterPublishBus()
    crashing.subscribe("search", ["#"], idempotent(db, "search", record_effect))
    await crashing.start()
    sent = event()
    await commit_events(db, sent)

    with pytest.raises(asyncio.CancelledError):
        await OutboxRelay(db, crashing, poll_interval=1).run_once()
    await crashing.drain(2)
    assert await count(db, effects) == 1  # the consumer got it...
    assert await scalar(db, sa.select(outbox_table.c.published_at)) is None  # ...unmarked

    # The restarted relay publishes it again (same bus consumers); the inbox absorbs it.
    healthy = InMemoryBus()
    healthy.subscribe("search", ["#"], idempotent(db, "search", record_effect))
    await healthy.start()
    assert await OutboxRelay(db, healthy, poll_interval=1).run_once() == 1
    await healthy.drain(2)
    assert await count(db, effects) == 1
    assert await count(db, inbox_table) == 1
    duplicates = metric(
        "aujobs_events_consumed_total",
        consumer="search",
        event_type="au.jobs.job.published.v1",
        outcome="duplicate",
    )
    assert duplicates == duplicates_before + 1
    await crashing.close()
    await healthy.close()


async def test_broker_down_between_commit_and_publish_keeps_the_row_until_it_is_back(
    effects_db: Database, broker_proxy, rabbit_bus, amqp_url: str
) -> None:
    db = effects_db
    consumer: RabbitMQBus = rabbit_bus()
    consumer.subscribe("search", ["au.jobs.#"], idempotent(db, "search", record_effect))
    await consumer.start()
    publisher: RabbitMQBus = rabbit_bus(broker_proxy.url(amqp_url), publish_timeout=1.0)
    await publisher.start()
    relay = OutboxRelay(db, publisher, poll_interval=0.05, name="rabbit-test")
    failures_before = metric(
        "aujobs_outbox_publish_failures_total",
        relay="rabbit-test",
        event_type="au.jobs.job.published.v1",
    )

    sent = event()
    await commit_events(db, sent)
    broker_proxy.cut()  # the broker connection dies before the relay runs
    assert await relay.run_once() == 0
    async with db.session() as session:
        row = (await session.execute(sa.select(outbox_table))).one()
    assert row.published_at is None
    assert row.attempts == 1
    assert row.last_error and len(row.last_error) <= 500
    assert sent.id not in (row.last_error or "")  # error only, no payload
    assert (
        metric(
            "aujobs_outbox_publish_failures_total",
            relay="rabbit-test",
            event_type="au.jobs.job.published.v1",
        )
        == failures_before + 1
    )
    assert metric("aujobs_outbox_lag_seconds", relay="rabbit-test") > 0

    broker_proxy.restore()
    relay.start()  # background loop: backs off, then succeeds after the reconnect
    try:
        await eventually(lambda: _eq(count(db, effects), 1), timeout=10)
    finally:
        await relay.stop()
    await asyncio.sleep(0.2)  # nothing else arrives
    assert await count(db, effects) == 1
    assert await scalar(db, sa.select(outbox_table.c.published_at)) is not None
    assert metric("aujobs_outbox_lag_seconds", relay="rabbit-test") == 0


async def test_relay_loop_backs_off_on_failure_and_recovers(effects_db: Database) -> None:
    db = effects_db
    bus = FlakyBus(failures=2)
    bus.subscribe("search", ["#"], idempotent(db, "search", record_effect))
    await bus.start()
    await commit_events(db, event(1), event(2))
    relay = OutboxRelay(db, bus, poll_interval=0.01)
    relay.start()
    try:
        await eventually(lambda: _eq(count(db, effects), 2))
    finally:
        await relay.stop()
    async with db.session() as session:
        rows = (await session.execute(sa.select(outbox_table).order_by("created_at"))).all()
    # the first row took the two failures (the batch stopped there each time)
    assert [r.attempts for r in rows] == [2, 0]
    assert all(r.published_at is not None and r.last_error is None for r in rows)
    await bus.close()


async def test_notify_wakes_the_relay_and_order_is_kept(db: Database) -> None:
    bus = InMemoryBus()
    got: list[int] = []

    async def handle(e: CloudEvent) -> None:
        got.append(e.data["n"])

    bus.subscribe("search", ["#"], handle)
    await bus.start()
    relay = OutboxRelay(db, bus, poll_interval=30)  # polling alone would be far too slow
    relay.start()
    try:
        await asyncio.sleep(0.05)  # let the first (empty) round pass
        await commit_events(db, *(event(n) for n in range(5)))
        started = time.monotonic()
        relay.notify()
        await eventually(lambda: len(got) == 5, timeout=2)
        assert time.monotonic() - started < 1
        assert got == [0, 1, 2, 3, 4]
    finally:
        await relay.stop()
        await bus.close()


async def test_concurrent_relays_publish_each_row_once(db: Database) -> None:
    bus = SlowBus()
    got: list[str] = []

    async def handle(e: CloudEvent) -> None:
        got.append(e.id)

    bus.subscribe("search", ["#"], handle)
    await bus.start()
    sent = [event(n) for n in range(20)]
    await commit_events(db, *sent)
    relays = [OutboxRelay(db, bus, poll_interval=1, batch_size=4) for _ in range(3)]

    async def run(relay: OutboxRelay) -> int:
        total = 0
        while n := await relay.run_once():
            total += n
        return total

    totals = await asyncio.gather(*(run(r) for r in relays))
    await bus.drain(2)
    assert sum(totals) == 20
    assert sum(1 for t in totals if t) >= 2  # they really did share the work
    assert sorted(got) == sorted(e.id for e in sent)
    await bus.close()


async def test_purge_removes_only_old_published_rows(db: Database) -> None:
    bus = InMemoryBus()
    await commit_events(db, event(1), event(2))
    relay = OutboxRelay(db, bus, poll_interval=1, batch_size=1)
    assert await relay.run_once() == 1  # one published, one still pending
    async with db.transaction() as session:
        await session.execute(
            sa.update(outbox_table)
            .where(outbox_table.c.published_at.is_not(None))
            .values(published_at=sa.func.now() - timedelta(days=10))
        )
    assert await relay.purge_published(timedelta(days=7)) == 1
    assert await count(db, outbox_table) == 1
    assert await scalar(db, sa.select(outbox_table.c.published_at)) is None


# --------------------------------------------------------------------------- inbox


async def test_redelivered_event_has_one_effect(effects_db: Database) -> None:
    db = effects_db
    handle = idempotent(db, "search", record_effect)
    sent = event()
    await handle(sent)
    await handle(CloudEvent.model_validate_json(sent.model_dump_json()))  # a redelivery
    assert await count(db, effects) == 1

    # through a bus too, and another consumer still gets its own effect
    bus = InMemoryBus()
    bus.subscribe("search", ["#"], handle)
    bus.subscribe("alerts", ["#"], idempotent(db, "alerts", record_effect))
    await bus.start()
    await bus.publish(sent)
    await bus.publish(sent)
    await bus.drain(2)
    assert await count(db, effects) == 2  # search once, alerts once
    async with db.session() as session:
        inbox = (await session.execute(sa.select(inbox_table.c.consumer))).scalars().all()
    assert sorted(inbox) == ["alerts", "search"]
    await bus.close()


async def test_concurrent_duplicates_have_one_effect(effects_db: Database) -> None:
    db = effects_db

    async def slow_effect(session: AsyncSession, e: CloudEvent) -> None:
        await record_effect(session, e)
        await asyncio.sleep(0.05)  # hold the inbox row lock while the twin arrives

    handle = idempotent(db, "search", slow_effect)
    sent = event()
    await asyncio.gather(handle(sent), handle(sent), handle(sent))
    assert await count(db, effects) == 1


async def test_handler_failure_rolls_back_its_inbox_row_so_the_retry_runs_it(
    effects_db: Database,
) -> None:
    db = effects_db
    calls = 0

    async def fails_once(session: AsyncSession, e: CloudEvent) -> None:
        nonlocal calls
        calls += 1
        await record_effect(session, e)  # rolled back with the inbox row
        if calls == 1:
            raise RuntimeError("downstream hiccup")

    handle = idempotent(db, "search", fails_once)
    sent = event()
    failed_before = metric(
        "aujobs_events_consumed_total",
        consumer="search",
        event_type=sent.type,
        outcome="failed",
    )
    with pytest.raises(RuntimeError):
        await handle(sent)
    assert await count(db, inbox_table) == 0
    assert await count(db, effects) == 0
    assert (
        metric(
            "aujobs_events_consumed_total",
            consumer="search",
            event_type=sent.type,
            outcome="failed",
        )
        == failed_before + 1
    )

    # the bus's retry now runs the handler again, for real
    bus = InMemoryBus(retry_base_ms=5)
    bus.subscribe("search", ["#"], handle)
    await bus.start()
    await bus.publish(sent)
    await bus.drain(2)
    assert calls == 2
    assert await count(db, effects) == 1
    assert await count(db, inbox_table) == 1
    await bus.close()


async def test_failing_handler_through_the_bus_retries_then_dead_letters(
    effects_db: Database,
) -> None:
    db = effects_db

    async def always_fails(session: AsyncSession, e: CloudEvent) -> None:
        await record_effect(session, e)
        raise ValueError("bad data")

    bus: EventBus = InMemoryBus(max_attempts=3, retry_base_ms=5)
    bus.subscribe("search", ["#"], idempotent(db, "search", always_fails))
    await bus.start()
    sent = event()
    await bus.publish(sent)
    assert isinstance(bus, InMemoryBus)
    await bus.drain(2)
    assert [e.id for e in await bus.dead_letters("search")] == [sent.id]
    assert await count(db, effects) == 0
    assert await count(db, inbox_table) == 0  # so a replay can still handle it
    await bus.close()


async def _eq(value: Awaitable[int], expected: int) -> bool:
    return await value == expected
