"""The background parse of uploaded versions, run in the service's lifespan.

Every replica runs the loop: pending jobs are claimed with ``FOR UPDATE SKIP LOCKED``,
so replicas share the work. A claim lasts ``parse_timeout_s``; a job whose worker died
mid-parse is claimed again after that, up to ``parse_max_attempts`` attempts in all,
then the version is ``failed``. A worker claims only as many jobs as it has free parse
slots (``parse_concurrency``), so nothing it claimed waits in a queue here while its
claim runs out and another replica takes it too.

The parse itself runs in a separate *process* (:class:`ParseProcess`, one per slot),
because a hostile upload can make the parser use gigabytes or loop for minutes and a
thread can be neither limited nor killed. Each process has an address-space limit
(``parse_memory_limit_mb``) and a CPU-time backstop; a parse that overruns its time is
killed with its process (a fresh one takes the slot) and retried like any crash. A
``ValueError`` from the parser means the file cannot be read: ``failed`` at once, with
its message; so does running out of memory or the process dying under the file (this
file needs too much memory to read). Anything else is retried later with back-off; the
loop never dies.

The result, the version's status and ``resume.parsed`` commit in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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
TOO_MUCH_MEMORY = (
    "This file needs too much memory to read. Save it again as a simpler PDF or .docx "
    "(fewer or smaller images, no scanned pages) and upload the new file."
)


# ---------------------------------------------------------------- the parse processes


def _init_parse_process(memory_limit_mb: int, cpu_limit_s: int, warm: bool) -> None:
    """First thing in every parse process: the limits, then (for the real parser) the
    skill matcher, so the first parse does not pay for building it. RLIMIT_AS makes an
    allocation past the limit fail (MemoryError) instead of the host swapping or the
    OOM killer picking a victim; RLIMIT_CPU is a backstop should the parent's timeout
    not fire (the kernel kills the process: the parent sees a broken pool)."""
    import resource

    _exit_with_parent()
    if memory_limit_mb > 0:
        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    _set_cpu_backstop(cpu_limit_s)
    if warm:
        parsing.warm()


def _exit_with_parent() -> None:
    """A parse process holds both ends of its task queue, so it never sees the service
    die: if the service is killed outright (SIGKILL, OOM killer) the process would wait
    forever. A daemon thread notices the parent is gone and ends the process."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(70)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _set_cpu_backstop(cpu_limit_s: int) -> None:
    """RLIMIT_CPU counts the process's whole life, so it is moved to "now + the
    allowance" before every parse (only the soft limit: SIGXCPU terminates)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime) + 1 + cpu_limit_s
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _parse_in_process(parse: ParseFn, data: bytes, kind: DocumentKind, cpu_limit_s: int) -> ParsedResume:
    """Runs in a parse process: one parse under a fresh CPU allowance. A MemoryError
    (the address-space limit) becomes the "too much memory" ValueError: a failure of
    this file, not of the service."""
    _set_cpu_backstop(cpu_limit_s)
    try:
        return parse(data, kind)
    except MemoryError:
        raise ValueError(TOO_MUCH_MEMORY) from None


def _reap(processes: list[Any]) -> None:
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(5)


class ParseProcess:
    """One parse slot: a one-process ``ProcessPoolExecutor`` (spawn context: a fresh
    interpreter, nothing inherited from the service's threads or sockets), started on
    first use. A parse that overruns is killed with its process and the slot gets a
    new one on its next use; a process that dies (memory, CPU backstop) is replaced the
    same way. One process per slot, rather than one pool for all, so killing a runaway
    never takes an innocent parse down with it, and a dead process is blamed on the one
    file it was reading."""

    def __init__(self, *, memory_limit_mb: int, cpu_limit_s: int, warm: bool) -> None:
        self.memory_limit_mb = memory_limit_mb
        self.cpu_limit_s = cpu_limit_s
        self.warm = warm
        self._executor: ProcessPoolExecutor | None = None

    def _ensure(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_parse_process,
                initargs=(self.memory_limit_mb, self.cpu_limit_s, self.warm),
            )
        return self._executor

    def pids(self) -> list[int]:
        """The live process ids (for tests and diagnostics)."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return [p.pid for p in list(processes.values()) if p.pid is not None and p.is_alive()]

    async def start(self) -> None:
        """Start the process (and warm it) now rather than on the first parse."""
        await asyncio.wrap_future(self._ensure().submit(os.getpid))

    async def run(self, parse: ParseFn, data: bytes, kind: DocumentKind, *, timeout: float) -> ParsedResume:
        """``parse(data, kind)`` in the process. TimeoutError: it was killed.
        BrokenProcessPool: the process died under it. Either way the slot is reset."""
        future = self._ensure().submit(_parse_in_process, parse, data, kind, self.cpu_limit_s)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except (TimeoutError, BrokenProcessPool):
            await self.kill()
            raise
        except asyncio.CancelledError:
            await asyncio.shield(self.kill())  # stopping: no orphan keeps parsing
            raise

    async def kill(self) -> None:
        """Kill the process (SIGKILL: a runaway parse cannot ignore it) and reap it."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        for process in processes:
            with contextlib.suppress(Exception):
                process.kill()
        executor.shutdown(wait=False, cancel_futures=True)
        await asyncio.to_thread(_reap, processes)


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
        #: a replacement parser run in a thread of this process (tests of the bookkeeping
        #: use it); None, the default, runs ``child_parse`` in the parse processes
        self.parse: ParseFn | None = parse
        #: what the parse processes run: a module-level function (it is sent by name)
        self.child_parse: ParseFn = parsing.parse_resume
        self._busy = 0  # slots reserved by claims in hand
        self._idle: list[ParseProcess] = []
        self._processes: list[ParseProcess] = []
        super().__init__()

    def _process_for_slot(self) -> ParseProcess:
        if self._idle:
            return self._idle.pop()
        s = self.settings
        process = ParseProcess(
            memory_limit_mb=s.parse_memory_limit_mb,
            cpu_limit_s=max(int(s.parse_timeout_s * 2), 10),
            warm=self.child_parse is parsing.parse_resume,
        )
        self._processes.append(process)
        return process

    def process_ids(self) -> list[int]:
        """Ids of the parse processes alive now."""
        return [pid for process in self._processes for pid in process.pids()]

    @property
    def free_slots(self) -> int:
        return max(self.settings.parse_concurrency - self._busy, 0)

    async def close(self) -> None:
        """Kill the parse processes (a parse still running is retried after its claim
        expires, as if this replica had died)."""
        processes, self._processes, self._idle = self._processes, [], []
        await asyncio.gather(*(process.kill() for process in processes))

    async def stop(self, grace: float = 5.0) -> None:
        try:
            await super().stop(grace)
        finally:
            await self.close()

    def retry_delay(self, attempt: int) -> timedelta:
        s = self.settings
        return timedelta(seconds=min(s.parse_retry_base_s * 2 ** (attempt - 1), 3600.0))

    async def run_once(self) -> int:
        """One round: claim due jobs and parse them (a few at a time); returns how many
        versions were settled or attempted."""
        s = self.settings
        wanted = min(s.parse_batch_size, self.free_slots)
        if wanted == 0:
            return 0
        self._busy += wanted  # reserved before the claim, so a concurrent round cannot overbook
        try:
            claims, gave_up = await claim_jobs(
                self.db,
                now=self.clock(),
                limit=wanted,
                max_attempts=s.parse_max_attempts,
                claim_timeout=timedelta(seconds=s.parse_timeout_s),
            )
        except BaseException:
            self._busy -= wanted
            raise
        self._busy -= wanted - len(claims)
        if gave_up:
            self.events_committed()
        results = await asyncio.gather(*(self._slot(c) for c in claims), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result  # e.g. the database went away while recording
        return len(claims) + gave_up

    async def _slot(self, claim: ClaimedParse) -> None:
        try:
            await self._process(claim)
        finally:
            self._busy -= 1

    async def _run_parse(self, data: bytes, kind: DocumentKind) -> ParsedResume:
        # a little inside the claim, so a slow parse still records under its claim
        timeout = self.settings.parse_timeout_s * 0.9
        if self.parse is not None:
            return await asyncio.wait_for(asyncio.to_thread(self.parse, data, kind), timeout)
        process = self._process_for_slot()
        try:
            return await process.run(self.child_parse, data, kind, timeout=timeout)
        except BrokenProcessPool:
            if process not in self._processes:  # killed by close(), not by the file: retry
                raise RuntimeError("ParseProcessClosed") from None
            raise
        finally:
            if process in self._processes:  # not closed meanwhile
                self._idle.append(process)

    async def _process(self, claim: ClaimedParse) -> None:
        async with self.db.session() as session:
            data = await service.BLOBS.get(session, claim.sha256)
        started = time.monotonic()
        extra = {"version_id": str(claim.version_id), "attempt": claim.attempt}
        result: ParsedResume | None = None
        reason: str | None = None  # a permanent failure, for the user
        retry_error: str | None = None  # a transient one, for the log
        try:
            if data is None:
                raise ValueError("The file of this version is missing.")
            result = await self._run_parse(data, claim.kind)
        except ValueError as exc:
            reason = (str(exc).strip() or "The text of this file could not be read.")[:ERROR_MAX]
        except (MemoryError, BrokenProcessPool) as exc:
            # the address-space limit, or the process killed under this file: the file's fault
            reason = TOO_MUCH_MEMORY
            retry_error = type(exc).__name__  # for the log only
        except TimeoutError:
            retry_error = "ParseTimeout"
        except Exception as exc:  # unexpected: try again later, never crash the loop
            retry_error = type(exc).__name__
        duration = time.monotonic() - started
        now = self.clock()
        if result is not None:
            outcome = await self._record_parsed(claim, result, now=now)
        elif reason is not None:
            outcome = await self._record_failed(claim, reason, now=now, error=retry_error or "ValueError")
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

    async def _record_failed(
        self, claim: ClaimedParse, reason: str, *, now: datetime, error: str = "ValueError"
    ) -> str:
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
        if self.parse is None:
            # start (and warm) the processes now, not on the first upload
            try:
                slots = [self._process_for_slot() for _ in range(self.settings.parse_concurrency)]
                self._idle.extend(slots)
                await asyncio.gather(*(slot.start() for slot in slots))
            except Exception:
                log.exception("starting the parse processes failed; they start on first use")
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
            if done >= min(self.settings.parse_batch_size, self.settings.parse_concurrency):
                continue  # more are probably due
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), poll)
