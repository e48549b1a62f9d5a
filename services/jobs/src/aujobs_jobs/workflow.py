"""The posting workflow's clock: scheduled publishes, expiry reminders and expiries,
run in the service's lifespan. Every replica runs the loop; rows are claimed with
SKIP LOCKED, so replicas share the work and nothing is done twice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import Counter, Gauge

from aujobs_common.db import Database
from aujobs_common.events import JobStatus
from aujobs_common.worker import BackgroundWorker

from .models import JobPosting
from .service import DueWork, WorkflowPolicy, run_due_batch

log = logging.getLogger(__name__)
BATCH = 100

TRANSITIONS = Counter(
    "aujobs_jobs_workflow_transitions_total",
    "Time-driven posting changes made by the workflow clock",
    ["transition"],
)
LAST_RUN = Gauge(
    "aujobs_jobs_workflow_last_run_timestamp_seconds", "When the workflow clock last finished a round"
)
MODERATION_BACKLOG = Gauge("aujobs_jobs_moderation_backlog", "Postings waiting for a moderator")


class WorkflowClock(BackgroundWorker):
    task_name = "jobs-workflow"

    def __init__(
        self,
        db: Database,
        policy: WorkflowPolicy,
        *,
        clock: Callable[[], datetime],
        events_committed: Callable[[], None],
        poll_interval: float,
    ) -> None:
        self.db = db
        self.policy = policy
        self.clock = clock
        self.events_committed = events_committed
        self.poll_interval = poll_interval
        super().__init__()

    async def run_once(self, now: datetime | None = None) -> DueWork:
        """Everything due at ``now`` (the service clock by default), batch by batch."""
        now = now or self.clock()
        total = DueWork()
        while True:
            async with self.db.transaction() as session:
                done = await run_due_batch(session=session, policy=self.policy, now=now, limit=BATCH)
            moved = done.published + done.reminded + done.expired
            if moved:
                self.events_committed()
                total.published += done.published
                total.reminded += done.reminded
                total.expired += done.expired
                log.info(
                    "job workflow ran",
                    extra={"published": done.published, "reminded": done.reminded, "expired": done.expired},
                )
            if max(done.published, done.reminded, done.expired) < BATCH:
                break
        TRANSITIONS.labels("published").inc(total.published)
        TRANSITIONS.labels("reminded").inc(total.reminded)
        TRANSITIONS.labels("expired").inc(total.expired)
        async with self.db.session() as session:
            pending = await session.scalar(
                sa.select(sa.func.count()).where(JobPosting.status == JobStatus.pending.value)
            )
        MODERATION_BACKLOG.set(pending or 0)
        LAST_RUN.set_to_current_time()
        return total

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except Exception:  # one failed round must not stop the loop
                log.exception("job workflow round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            self._wake.clear()
