"""Periodic work of the auth service, run in its lifespan: signing-key rotation when
the newest key is too old, and verification reminders. Every replica runs the loop;
a PostgreSQL advisory lock lets one of them do each job at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aujobs_common.db import Database
from aujobs_common.worker import BackgroundWorker

from . import audit, service
from .audit import AuditKind
from .keys import KeyManager
from .settings import AuthSettings

log = logging.getLogger(__name__)


class Maintenance(BackgroundWorker):
    """Scheduled jobs: signing-key rotation and verification reminders (each guarded so
    one replica does it)."""

    task_name = "auth-maintenance"

    def __init__(
        self, db: Database, keys: KeyManager, settings: AuthSettings, events_committed: Callable[[], None]
    ) -> None:
        self.db = db
        self.keys = keys
        self.settings = settings
        self.events_committed = events_committed
        super().__init__()

    async def send_due_reminders(self, now: datetime | None = None) -> int:
        """Remind users unverified after VERIFICATION_REMINDER_AFTER_HOURS, once each."""
        sent = 0
        now = now or datetime.now(UTC)
        while True:
            async with self.db.transaction() as session:
                batch = await service.send_due_reminders(session=session, settings=self.settings, now=now)
            sent += batch
            if batch:
                self.events_committed()
            if batch < 200:
                return sent

    async def rotate_keys_if_due(self, now: datetime | None = None) -> str | None:
        """Rotate when the newest signing key is older than SIGNING_KEY_MAX_AGE_DAYS."""
        now = now or datetime.now(UTC)
        async with self.db.transaction() as session:
            key = await self.keys.rotate_if_due(
                session,
                max_age=timedelta(days=self.settings.signing_key_max_age_days),
                publish_ahead=timedelta(seconds=self.settings.signing_key_publish_ahead_seconds),
                now=now,
            )
            if key is not None:
                await audit.record(session, AuditKind.signing_key_rotated, kid=key.kid, reason="scheduled")
        if key is None:
            return None
        await self.keys.reload()
        log.info("signing key rotated", extra={"kid": key.kid})
        return key.kid

    async def run_once(self) -> None:
        for job in (self.rotate_keys_if_due, self.send_due_reminders):
            try:
                await job()
            except Exception:  # one failed round must not stop the loop
                log.exception("auth maintenance job failed", extra={"job": job.__name__})

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.maintenance_interval_seconds)

    def start(self) -> None:
        if self.settings.maintenance_interval_seconds > 0:
            super().start()
