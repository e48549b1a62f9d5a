"""Idempotent consumers (DESIGN.md §3): the id of every handled event is recorded in
the ``inbox`` table in the same transaction as the handler's effect, so a redelivered
event (the bus is at-least-once) has no second effect."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from prometheus_client import Counter
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .bus.base import EventHandler
from .db import Database, inbox_table
from .events import CloudEvent

log = logging.getLogger(__name__)

EVENTS_CONSUMED = Counter(
    "aujobs_events_consumed_total",
    "Events received by consumers, by outcome (handled, duplicate, failed)",
    ["consumer", "event_type", "outcome"],
)

TransactionalHandler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]


def idempotent(db: Database, consumer: str, handler: TransactionalHandler) -> EventHandler:
    """Wrap ``handler(session, event)`` for the bus: runs it at most once per
    ``(consumer, event.id)``, inside the transaction that records the event.

    If the handler raises, the transaction, inbox row included, rolls back and the
    exception propagates so the bus retries or dead-letters the event. A concurrent
    duplicate blocks on the row lock of the first until it commits or rolls back."""

    async def handle(event: CloudEvent) -> None:
        outcome = "handled"
        try:
            async with db.transaction() as session:
                claimed = await session.execute(
                    insert(inbox_table)
                    .values(consumer=consumer, event_id=event.id, event_type=event.type)
                    .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
                    .returning(inbox_table.c.event_id)
                )
                if claimed.first() is None:
                    outcome = "duplicate"
                    log.info(
                        "duplicate event ignored",
                        extra={
                            "consumer": consumer,
                            "event_id": event.id,
                            "event_type": event.type,
                        },
                    )
                    return
                await handler(session, event)
        except BaseException:
            outcome = "failed"
            raise
        finally:
            EVENTS_CONSUMED.labels(consumer, event.type, outcome).inc()

    handle.__qualname__ = f"idempotent({consumer}, {getattr(handler, '__qualname__', handler)})"
    return handle
