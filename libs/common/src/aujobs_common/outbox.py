"""Transactional outbox (DESIGN.md §3).

A service writes its events with :func:`enqueue` in the same transaction as the state
change; :class:`OutboxRelay` publishes committed rows and marks them sent. The relay
marks a row only after the broker confirmed it, so a crash anywhere in between
publishes the event again later (at-least-once; the consumers' inbox removes the
duplicate) and never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa
from opentelemetry import propagate
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from .bus.base import EventBus
from .db import Database, outbox_table
from .events import CloudEvent
from .ids import uuid7
from .worker import BackgroundWorker

log = logging.getLogger(__name__)

EVENTS_PUBLISHED = Counter(
    "aujobs_events_published_total",
    "Events published from the outbox",
    ["relay", "event_type"],
)
PUBLISH_FAILURES = Counter(
    "aujobs_outbox_publish_failures_total",
    "Outbox publish attempts the broker did not confirm",
    ["relay", "event_type"],
)
OUTBOX_LAG = Gauge(
    "aujobs_outbox_lag_seconds",
    "Age of the oldest unpublished outbox row (0 when empty)",
    ["relay"],
)
OUTBOX_PENDING = Gauge("aujobs_outbox_pending", "Unpublished outbox rows", ["relay"])


async def enqueue(session: AsyncSession, event: CloudEvent) -> None:
    """Add ``event`` to the outbox in the caller's transaction (never commits).

    The current trace context is stored with the event (CloudEvents ``traceparent``)
    because the relay publishes it later, outside the request that caused it."""
    envelope = event.model_dump(mode="json")
    if not event.traceparent:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        envelope["traceparent"] = carrier.get("traceparent")
    try:
        row_id = uuid.UUID(event.id)  # the usual case: a duplicate enqueue then fails loudly
    except ValueError:
        row_id = uuid7()
    await session.execute(
        sa.insert(outbox_table).values(
            id=row_id,
            event_type=event.type,
            envelope=envelope,
            # Wall-clock, not transaction, time: keeps the order of several events
            # written by one transaction.
            created_at=sa.func.clock_timestamp(),
        )
    )


class OutboxRelay(BackgroundWorker):
    """Publishes committed outbox rows. Several replicas may run against one database:
    rows are claimed with ``FOR UPDATE SKIP LOCKED``."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        *,
        poll_interval: float,
        batch_size: int = 100,
        name: str = "default",
        max_backoff: float = 30.0,
        retention: timedelta | None = timedelta(days=7),
        cleanup_interval: float = 3600.0,
    ) -> None:
        self.db = db
        self.bus = bus
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.name = name  # metrics label: in embedded mode every service runs a relay
        self.max_backoff = max_backoff
        self.retention = retention
        self.cleanup_interval = cleanup_interval
        self.task_name = f"outbox-relay:{name}"
        super().__init__()

    # ------------------------------------------------------------------ work

    async def run_once(self) -> int:
        """Publish one batch in one transaction; returns how many rows were published.

        On the first publish failure the row keeps ``published_at`` NULL with its
        ``attempts`` and ``last_error`` updated, and the batch stops (keeping order)."""
        published, _ = await self._run_batch()
        return published

    async def _run_batch(self) -> tuple[int, bool]:
        published = 0
        failed = False
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    sa.select(outbox_table.c.id, outbox_table.c.event_type, outbox_table.c.envelope)
                    .where(outbox_table.c.published_at.is_(None))
                    .order_by(outbox_table.c.created_at, outbox_table.c.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                try:
                    await self.bus.publish(CloudEvent.model_validate(row.envelope))
                except Exception as exc:
                    failed = True
                    PUBLISH_FAILURES.labels(self.name, row.event_type).inc()
                    log.warning(
                        "outbox publish failed; will retry",
                        extra={"event_id": str(row.id), "event_type": row.event_type},
                        exc_info=True,
                    )
                    await session.execute(
                        sa.update(outbox_table)
                        .where(outbox_table.c.id == row.id)
                        .values(
                            attempts=outbox_table.c.attempts + 1,
                            # The error only: the envelope may hold personal data.
                            last_error=f"{type(exc).__name__}: {exc}"[:500],
                        )
                    )
                    break
                await session.execute(
                    sa.update(outbox_table)
                    .where(outbox_table.c.id == row.id)
                    .values(published_at=sa.func.clock_timestamp(), last_error=None)
                )
                EVENTS_PUBLISHED.labels(self.name, row.event_type).inc()
                published += 1
        await self._update_lag()
        return published, failed

    async def purge_published(self, older_than: timedelta) -> int:
        """Delete rows published more than ``older_than`` ago; returns how many."""
        async with self.db.transaction() as session:
            result = await session.execute(
                sa.delete(outbox_table).where(outbox_table.c.published_at < sa.func.now() - older_than)
            )
        return cast(sa.CursorResult[Any], result).rowcount or 0

    async def _update_lag(self) -> None:
        async with self.db.session() as session:
            row = (
                await session.execute(
                    sa.select(
                        sa.func.count(),
                        sa.func.extract(
                            "epoch",
                            sa.func.clock_timestamp() - sa.func.min(outbox_table.c.created_at),
                        ),
                    ).where(outbox_table.c.published_at.is_(None))
                )
            ).one()
        OUTBOX_PENDING.labels(self.name).set(row[0])
        OUTBOX_LAG.labels(self.name).set(float(row[1] or 0.0))

    async def _run(self) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        next_cleanup = loop.time()
        while not self._stopping.is_set():
            # Cleared before the batch so a notify() during it triggers another round.
            self._wake.clear()
            published = 0
            try:
                published, failed = await self._run_batch()
            except Exception:
                log.exception("outbox relay round failed")  # e.g. database unavailable
                failed = True
            if self.retention is not None and loop.time() >= next_cleanup:
                next_cleanup = loop.time() + self.cleanup_interval
                try:
                    await self.purge_published(self.retention)
                except Exception:  # housekeeping only: never stop publishing for it
                    log.warning("outbox cleanup failed", exc_info=True)
            if failed:
                # Back off while the broker/database is down; notify() must not turn
                # into a hot loop, so only stop() interrupts this wait.
                failures += 1
                delay = min(self.poll_interval * 2**failures, self.max_backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                continue
            failures = 0
            if published >= self.batch_size:
                continue  # more rows are probably waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
