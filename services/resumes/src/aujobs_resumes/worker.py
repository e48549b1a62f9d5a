"""The background parse of uploaded versions, run in the service's lifespan.

Every replica runs the loop: pending jobs are claimed with ``FOR UPDATE SKIP LOCKED``,
so replicas share the work. A claim lasts ``parse_timeout_s``; a job whose worker died
mid-parse is claimed again after that, up to ``parse_max_attempts`` attempts in all,
then the version is ``failed``. The parse itself (CPU-bound) runs in a worker thread.
A ``ValueError`` from the parser means the file cannot be read: ``failed`` at once,
with its message. Anything else is retried later with back-off; the loop never dies.

The result, the version's status and ``resume.parsed`` commit in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter, Histogram

from aujobs_common.db import Database
from aujobs_common.documents import DocumentKind
from aujobs_common.worker import BackgroundWorker

from . import parsing, service
from .document import ParsedResume, ResumeDocument
from .models import ParseJob, ParseJobStatus, ParseStatus, ResumeVersion
from .settings import ResumesSettings

log = logging.getLogger(__name__)

PARSE_DURATION = Histogram(
    "aujobs_resume_parse_duration_seconds",
    "Time to parse one resume version, by outcome (parsed, failed, retry)",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
)
PARSE_JOBS = Counter(
    "aujobs_resume_parse_jobs_total", "Parse attempts by outcome (parsed, failed, retry)", ["outcome"]
)

ParseFn = Callable[[bytes, DocumentKind], ParsedResume]
ERROR_MAX = 500


@dataclass(frozen=True)
class ClaimedParse:
    version_id: uuid.UUID
    kind: DocumentKind
    sha256: str
    attempt: int


def _strip_nul(value: Any) -> Any:
    """PostgreSQL text and JSONB cannot hold NUL (nor can UTF-8 hold a lone surrogate);
    a parser may read either from a file."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    return value


async def _give_up_on(session: Any, version_ids: list[uuid.UUID], *, reason: str, now: datetime) -> None:
    """Versions whose parse failed for good: status, reason, and ``resume.parsed``
    (failed) so consumers know not to wait."""
    if not version_ids:
        return
    versions = (
        await session.scalars(
            sa.update(ResumeVersion)
            .where(ResumeVersion.id.in_(version_ids))
            .values(parse_status=ParseStatus.failed.value, parse_error=reason, document=None)
            .returning(ResumeVersion)
        )
    ).all()
    for version in versions:
        await service.publish_parsed(session, version, None, now=now)


async def claim_jobs(
    db: Database, *, now: datetime, limit: int, max_attempts: int, claim_timeout: timedelta
) -> tuple[list[ClaimedParse], int]:
    """Claim up to ``limit`` due jobs (``running``, attempts + 1, claimed until now +
    timeout); rows other workers hold are skipped. Also fails the jobs whose last
    allowed claim expired (their worker died). Returns the claims and how many failed."""
    j = ParseJob.__table__.c
    async with db.transaction() as session:
        expired = list(
            (
                await session.scalars(
                    sa.select(j.version_id)
                    .where(j.status == ParseJobStatus.running.value, j.next_attempt_at <= now)
                    .where(j.attempts >= max_attempts)
                    .with_for_update(skip_locked=True)
                )
            ).all()
        )
        if expired:
            await session.execute(
                sa.update(ParseJob)
                .where(j.version_id.in_(expired))
                .values(status=ParseJobStatus.failed.value, last_error="ClaimExpired", finished_at=now)
            )
            await _give_up_on(
                session,
                expired,
                reason=f"Reading this file did not finish after {max_attempts} attempts.",
                now=now,
            )
        ids = list(
            (
                await session.scalars(
                    sa.select(j.version_id)
                    .where(
                        j.status.in_([ParseJobStatus.pending.value, ParseJobStatus.running.value]),
                        j.next_attempt_at <= now,
                        j.attempts < max_attempts,
                    )
                    .order_by(j.next_attempt_at, j.version_id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
        )
        if not ids:
            return [], len(expired)
        attempts = dict(
            (
                await session.execute(
                    sa.update(ParseJob)
                    .where(j.version_id.in_(ids))
                    .values(
                        status=ParseJobStatus.running.value,
                        attempts=j.attempts + 1,
                        next_attempt_at=now + claim_timeout,
                    )
                    .returning(j.version_id, j.attempts)
                )
            ).all()
        )
        rows = (
            await session.execute(
                sa.update(ResumeVersion)
                .where(ResumeVersion.id.in_(ids))
                .values(parse_status=ParseStatus.parsing.value)
                .returning(ResumeVersion.id, ResumeVersion.kind, ResumeVersion.sha256)
            )
        ).all()
    claims = [
        ClaimedParse(version_id=r.id, kind=DocumentKind(r.kind), sha256=r.sha256, attempt=attempts[r.id])
        for r in rows
    ]
    claims.sort(key=lambda c: ids.index(c.version_id))
    return claims, len(expired)


def _still_ours(claim: ClaimedParse) -> list[sa.ColumnElement[bool]]:
    # Only while our claim stands (it may have expired and been claimed again).
    return [
        ParseJob.version_id == claim.version_id,
        ParseJob.status == ParseJobStatus.running.value,
        ParseJob.attempts == claim.attempt,
    ]


class ParseWorker(BackgroundWorker):
    """Parses pending versions. ``parse`` defaults to :func:`aujobs_resumes.parsing.parse_resume`
    (read at call time, so a test may replace it on the instance)."""

    task_name = "resume-parser"

    def __init__(
        self,
        db: Database,
        settings: ResumesSettings,
        *,
        clock: Callable[[], datetime],
        events_committed: Callable[[], None],
        parse: ParseFn | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.events_committed = events_committed
        self.parse: ParseFn | None = parse
        self._slots = asyncio.Semaphore(settings.parse_concurrency)
        super().__init__()

    def retry_delay(self, attempt: int) -> timedelta:
        s = self.settings
        return timedelta(seconds=min(s.parse_retry_base_s * 2 ** (attempt - 1), 3600.0))

    async def run_once(self) -> int:
        """One round: claim due jobs and parse them (a few at a time); returns how many
        versions were settled or attempted."""
        s = self.settings
        claims, gave_up = await claim_jobs(
            self.db,
            now=self.clock(),
            limit=s.parse_batch_size,
            max_attempts=s.parse_max_attempts,
            claim_timeout=timedelta(seconds=s.parse_timeout_s),
        )
        if gave_up:
            self.events_committed()
        results = await asyncio.gather(*(self._process(c) for c in claims), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result  # e.g. the database went away while recording
        return len(claims) + gave_up

    async def _process(self, claim: ClaimedParse) -> None:
        async with self.db.session() as session:
            data = await service.BLOBS.get(session, claim.sha256)
        parse = self.parse or parsing.parse_resume
        started = time.monotonic()
        extra = {"version_id": str(claim.version_id), "attempt": claim.attempt}
        result: ParsedResume | None = None
        reason: str | None = None  # a permanent failure, for the user
        retry_error: str | None = None  # a transient one, for the log
        try:
            if data is None:
                raise ValueError("The file of this version is missing.")
            async with self._slots:
                # a little inside the claim, so a slow parse still records under its claim
                result = await asyncio.wait_for(
                    asyncio.to_thread(parse, data, claim.kind), self.settings.parse_timeout_s * 0.9
                )
        except ValueError as exc:
            reason = (str(exc).strip() or "The text of this file could not be read.")[:ERROR_MAX]
        except TimeoutError:
            retry_error = "ParseTimeout"
        except Exception as exc:  # unexpected: try again later, never crash the loop
            retry_error = type(exc).__name__
        duration = time.monotonic() - started
        now = self.clock()
        if result is not None:
            outcome = await self._record_parsed(claim, result, now=now)
        elif reason is not None:
            outcome = await self._record_failed(claim, reason, now=now)
        else:
            outcome = await self._record_retry(claim, retry_error or "Error", now=now)
        PARSE_DURATION.labels(outcome).observe(duration)
        PARSE_JOBS.labels(outcome).inc()
        log_extra = {**extra, "outcome": outcome, "duration_s": round(duration, 3)}
        if retry_error:
            log_extra["error_type"] = retry_error
        log.info("resume parse attempt", extra=log_extra)

    async def _record_parsed(self, claim: ClaimedParse, parsed: ParsedResume, *, now: datetime) -> str:
        async with self.db.transaction() as session:
            job = await session.scalar(
                sa.update(ParseJob)
                .where(*_still_ours(claim))
                .values(status=ParseJobStatus.done.value, finished_at=now, last_error=None)
                .returning(ParseJob.version_id)
            )
            if job is None:
                return "stale"
            document = ResumeDocument.model_validate(_strip_nul(parsed.document.model_dump(mode="json")))
            version = await session.scalar(
                sa.update(ResumeVersion)
                .where(ResumeVersion.id == claim.version_id)
                .values(
                    parse_status=ParseStatus.parsed.value,
                    parse_error=None,
                    document=document.model_dump(mode="json"),
                    text=_strip_nul(parsed.text),
                    sections=_strip_nul(dict(parsed.sections)),
                    pages=parsed.pages,
                    parsed_at=now,
                )
                .returning(ResumeVersion)
            )
            if version is not None:
                await service.publish_parsed(session, version, document, now=now)
        self.events_committed()
        return "parsed"

    async def _record_failed(self, claim: ClaimedParse, reason: str, *, now: datetime) -> str:
        async with self.db.transaction() as session:
            job = await session.scalar(
                sa.update(ParseJob)
                .where(*_still_ours(claim))
                .values(status=ParseJobStatus.failed.value, finished_at=now, last_error="ValueError")
                .returning(ParseJob.version_id)
            )
            if job is None:
                return "stale"
            await _give_up_on(session, [claim.version_id], reason=reason, now=now)
        self.events_committed()
        return "failed"

    async def _record_retry(self, claim: ClaimedParse, error: str, *, now: datetime) -> str:
        if claim.attempt >= self.settings.parse_max_attempts:
            reason = f"This file could not be read after {claim.attempt} attempts."
            async with self.db.transaction() as session:
                job = await session.scalar(
                    sa.update(ParseJob)
                    .where(*_still_ours(claim))
                    .values(status=ParseJobStatus.failed.value, finished_at=now, last_error=error)
                    .returning(ParseJob.version_id)
                )
                if job is None:
                    return "stale"
                await _give_up_on(session, [claim.version_id], reason=reason, now=now)
            self.events_committed()
            return "failed"
        async with self.db.transaction() as session:
            job = await session.scalar(
                sa.update(ParseJob)
                .where(*_still_ours(claim))
                .values(
                    status=ParseJobStatus.pending.value,
                    next_attempt_at=now + self.retry_delay(claim.attempt),
                    last_error=error,
                )
                .returning(ParseJob.version_id)
            )
            if job is not None:
                await session.execute(
                    sa.update(ResumeVersion)
                    .where(ResumeVersion.id == claim.version_id)
                    .values(parse_status=ParseStatus.pending.value)
                )
        return "retry" if job is not None else "stale"

    async def _run(self) -> None:
        failures = 0
        poll = self.settings.parse_poll_interval_s
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                done = await self.run_once()
                failures = 0
            except Exception:
                log.exception("resume parse round failed")  # e.g. the database is unavailable
                failures += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), min(poll * 2**failures, 60.0))
                continue
            if done >= self.settings.parse_batch_size:
                continue  # more are probably due
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), poll)
