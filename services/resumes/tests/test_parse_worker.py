"""The background parse worker on a real database: claims with SKIP LOCKED, a file the
parser cannot read fails at once with the reason, anything unexpected is retried with
back-off up to the attempt cap, and a job whose worker died is claimed again after the
timeout. ``resume.parsed`` is published with the outcome either way."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import threading
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from aujobs_common.testing.waiting import eventually
from aujobs_resumes import parsing
from aujobs_resumes.models import ParseJob
from aujobs_resumes.worker import ParseWorker, claim_jobs

from .conftest import Clock
from .support import EMAIL, make_docx, make_pdf, new_resume, parsed_resume, parser, resume_events, seeker


async def version_of(api, headers, resume) -> dict:
    r = await api.get(
        f"/api/v1/resumes/{resume['id']}/versions/{resume['versions'][0]['id']}", headers=headers
    )
    assert r.status_code == 200, r.text
    return r.json()


async def job_row(api, version_id) -> ParseJob:
    async with api.app.state.runtime.db.session() as session:
        return await session.scalar(sa.select(ParseJob).where(ParseJob.version_id == uuid.UUID(version_id)))


async def test_a_parsed_version_carries_the_profile_and_publishes_matching_data_only(api):
    me = seeker(api)
    worker = parser(api)
    worker.parse = lambda data, kind: parsed_resume(["Python", "Kubernetes"])
    resume = await new_resume(api, me)
    assert (await version_of(api, me, resume))["parse_status"] == "pending"

    assert await worker.run_once() == 1
    version = await version_of(api, me, resume)
    assert version["parse_status"] == "parsed" and version["parse_error"] is None
    assert version["parsed"]["skills"] == ["Python", "Kubernetes"]
    assert version["parsed"]["contact"]["email"] == EMAIL

    (event,) = await eventually(lambda: resume_events(api))
    assert event.data["status"] == "parsed"
    assert event.data["version_id"] == version["id"] and event.data["resume_id"] == resume["id"]
    assert event.data["skills"] == ["Python", "Kubernetes"]
    assert event.data["job_titles"] == ["Senior Software Engineer", "Software Engineer"]
    # 2016-03..2019-12 and 2020-01..now: at least ten whole years by 2026
    assert event.data["experience_years"] >= 10
    assert EMAIL not in event.model_dump_json()
    row = await job_row(api, version["id"])
    assert (row.status, row.attempts) == ("done", 1)


async def test_a_file_the_parser_cannot_read_fails_at_once_with_the_reason(api):
    me = seeker(api)
    worker = parser(api)

    def unreadable(data, kind):
        raise ValueError("No text could be read from this PDF (is it a scanned image?).")

    worker.parse = unreadable
    resume = await new_resume(api, me)
    await worker.run_once()
    version = await version_of(api, me, resume)
    assert version["parse_status"] == "failed" and version["parsed"] is None
    assert version["parse_error"] == "No text could be read from this PDF (is it a scanned image?)."
    (event,) = await eventually(lambda: resume_events(api, "failed"))
    assert event.data["skills"] == [] and event.data["experience_years"] is None
    assert (await job_row(api, version["id"])).status == "failed"
    assert await worker.run_once() == 0  # not tried again


async def test_unexpected_errors_are_retried_with_back_off_until_the_cap(start_resumes):
    clock = Clock()
    tokens, service = start_resumes(
        ["au.jobs.resume.*.v1"], clock=clock, parse_max_attempts=3, parse_retry_base_s=60
    )
    async with service as api:
        api.tokens = tokens
        me = seeker(api)
        worker = parser(api)
        calls = []

        def flaky(data, kind):
            calls.append(kind)
            if len(calls) == 1:
                raise RuntimeError("pdfminer hiccup")
            return parsed_resume()

        worker.parse = flaky
        resume = await new_resume(api, me)
        await worker.run_once()
        version = await version_of(api, me, resume)
        assert version["parse_status"] == "pending" and version["parse_error"] is None
        row = await job_row(api, version["id"])
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "RuntimeError")
        assert row.next_attempt_at == clock.now + timedelta(seconds=60)

        assert await worker.run_once() == 0  # not due yet
        clock.advance(seconds=61)
        assert await worker.run_once() == 1
        assert (await version_of(api, me, resume))["parse_status"] == "parsed"
        assert len(calls) == 2

        # a file that always breaks the parser gives up after three attempts
        def broken(data, kind):
            raise KeyError("boom")

        worker.parse = broken
        other = await new_resume(api, me, make_docx())
        for _ in range(3):
            clock.advance(hours=2)
            await worker.run_once()
        version = await version_of(api, me, other)
        assert version["parse_status"] == "failed"
        assert "3 attempts" in version["parse_error"]
        row = await job_row(api, version["id"])
        assert (row.status, row.attempts) == ("failed", 3)
        await eventually(lambda: resume_events(api, "failed"))
        clock.advance(hours=2)
        assert await worker.run_once() == 0


async def test_a_job_whose_worker_died_is_claimed_again_after_the_timeout(start_resumes):
    clock = Clock()
    tokens, service = start_resumes(
        ["au.jobs.resume.*.v1"], clock=clock, parse_timeout_s=300, parse_max_attempts=2
    )
    async with service as api:
        api.tokens = tokens
        me = seeker(api)
        worker = parser(api)
        worker.parse = lambda data, kind: parsed_resume()
        resume = await new_resume(api, me)

        # a worker claims it, then dies without a word
        db = api.app.state.runtime.db
        claims, _ = await claim_jobs(
            db, now=clock(), limit=10, max_attempts=2, claim_timeout=timedelta(seconds=300)
        )
        assert len(claims) == 1
        assert (await version_of(api, me, resume))["parse_status"] == "parsing"
        assert await worker.run_once() == 0  # the claim still stands

        clock.advance(seconds=301)
        assert await worker.run_once() == 1
        assert (await version_of(api, me, resume))["parse_status"] == "parsed"
        row = await job_row(api, resume["versions"][0]["id"])
        assert (row.status, row.attempts) == ("done", 2)

        # a late result from the dead worker's claim changes nothing
        assert await worker._record_retry(claims[0], "Late", now=clock()) == "stale"
        assert (await version_of(api, me, resume))["parse_status"] == "parsed"

        # claimed and abandoned on the last allowed attempt: failed for good
        other = await new_resume(api, me, make_pdf(["other"]))
        for _ in range(2):
            await claim_jobs(db, now=clock(), limit=10, max_attempts=2, claim_timeout=timedelta(seconds=300))
            clock.advance(seconds=301)
        assert await worker.run_once() == 1
        version = await version_of(api, me, other)
        assert version["parse_status"] == "failed" and "2 attempts" in version["parse_error"]
        await eventually(lambda: resume_events(api, "failed"))


async def test_two_workers_share_the_queue_and_parse_each_version_once(start_resumes):
    clock = Clock()
    tokens, service = start_resumes(["au.jobs.resume.*.v1"], clock=clock, parse_batch_size=2)
    async with service as api:
        api.tokens = tokens
        me = seeker(api)
        for n in range(6):
            await new_resume(api, me, make_pdf([f"resume {n}"]))
        runtime = api.app.state.runtime
        seen: list[bytes] = []
        lock = threading.Lock()

        def slow(data, kind):
            with lock:
                seen.append(data)
            return parsed_resume()

        workers = [
            ParseWorker(
                runtime.db,
                runtime.settings,
                clock=clock,
                events_committed=runtime.events_committed,
                parse=slow,
            )
            for _ in range(2)
        ]

        async def drain(worker):
            while await worker.run_once():
                pass

        await asyncio.gather(*(drain(w) for w in workers))
        assert len(seen) == 6 and len(set(seen)) == 6
        await eventually(lambda: len(resume_events(api, "parsed")) == 6)


async def test_the_running_loop_is_woken_by_an_upload(start_resumes):
    tokens, service = start_resumes(["au.jobs.resume.*.v1"], parse_poll_interval_s=30)
    async with service as api:
        api.tokens = tokens
        me = seeker(api)
        worker = parser(api)
        worker.parse = lambda data, kind: parsed_resume()
        resume = await new_resume(api, me)  # the upload wakes the loop: no 30 s wait

        async def parsed():
            return (await version_of(api, me, resume))["parse_status"] == "parsed"

        await eventually(parsed, timeout=5)


async def test_a_parse_that_hangs_is_abandoned_and_retried(start_resumes):
    clock = Clock()
    tokens, service = start_resumes(clock=clock, parse_timeout_s=0.5, parse_max_attempts=2)
    async with service as api:
        api.tokens = tokens
        me = seeker(api)
        worker = parser(api)
        stop = threading.Event()

        def hangs(data, kind):
            stop.wait(5)
            return parsed_resume()

        worker.parse = hangs
        resume = await new_resume(api, me)
        try:
            await asyncio.wait_for(worker.run_once(), 3)
        finally:
            stop.set()
        row = await job_row(api, resume["versions"][0]["id"])
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "ParseTimeout")
        assert (await version_of(api, me, resume))["parse_status"] == "pending"


async def test_parse_metrics_are_exported(api):
    worker = parser(api)
    worker.parse = lambda data, kind: parsed_resume()
    await new_resume(api, seeker(api))
    await worker.run_once()
    r = await api.get("/metrics")
    assert 'aujobs_resume_parse_duration_seconds_count{outcome="parsed"}' in r.text
    assert 'aujobs_resume_uploads_total{outcome="accepted"}' in r.text


async def test_text_the_database_cannot_hold_is_cleaned_not_fatal(api):
    me = seeker(api)
    worker = parser(api)

    def odd(data, kind):
        result = parsed_resume(["Python\x00"])
        return result.model_copy(
            update={"text": "Skills\x00: Python \ud800", "sections": {"skills\x00": "Py\x00"}}
        )

    worker.parse = odd
    resume = await new_resume(api, me)
    await worker.run_once()
    version = await version_of(api, me, resume)
    assert version["parse_status"] == "parsed" and version["parsed"]["skills"] == ["Python"]


# ---------------------------------------------------------------- the parse processes

HOSTILE = '''
import os, signal, time

PIDS = {pids!r}


def _note():
    with open(PIDS, "a") as out:
        out.write(f"{{os.getpid()}}\\n")


def hang(data, kind):
    """A parse that never ends (a CPU bomb)."""
    _note()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        pass


def hog(data, kind):
    """A parse that wants ever more memory (a decompression bomb in the parser)."""
    _note()
    held = []
    while True:
        held.append(bytearray(64 * 1024 * 1024))


def die(data, kind):
    """The process killed under the parse (the kernel's OOM killer, a crash)."""
    _note()
    os.kill(os.getpid(), signal.SIGKILL)
'''


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    """Parsers that misbehave, in a module the spawned parse processes can import (they
    get this process's sys.path); ``hostile.pids()`` are the processes they ran in."""
    pids = tmp_path / "pids.txt"
    (tmp_path / "hostile_parsers.py").write_text(HOSTILE.format(pids=str(pids)))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("hostile_parsers")
    module.pids = lambda: [int(line) for line in pids.read_text().split()] if pids.exists() else []
    yield module
    sys.modules.pop("hostile_parsers", None)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_real_parses_run_in_a_separate_process(api):
    me = seeker(api)
    worker = parser(api)
    assert worker.parse is None  # the real parser, in the parse processes
    resume = await new_resume(api, me)
    assert await worker.run_once() == 1
    version = await version_of(api, me, resume)
    assert version["parse_status"] == "parsed", version["parse_error"]
    assert "Python" in version["parsed"]["skills"]
    (pid,) = worker.process_ids()
    assert pid != os.getpid()
    await worker.close()
    assert not alive(pid)


async def test_a_parse_that_wants_too_much_memory_fails_the_file_not_the_service(start_resumes, hostile):
    tokens, service = start_resumes(["au.jobs.resume.*.v1"], parse_memory_limit_mb=600)
    async with service as api:
        api.tokens = tokens
        me = seeker(api)
        worker = parser(api)
        worker.child_parse = hostile.hog
        bomb = await new_resume(api, me)
        started = time.monotonic()
        assert await worker.run_once() == 1
        assert time.monotonic() - started < 30
        version = await version_of(api, me, bomb)
        assert version["parse_status"] == "failed"
        assert "needs too much memory" in version["parse_error"]
        assert (await job_row(api, version["id"])).status == "failed"
        await eventually(lambda: resume_events(api, "failed"))

        # a process killed under the file (OOM killer, crash) is that file's failure too
        worker.child_parse = hostile.die
        dead = await new_resume(api, me, make_pdf(["dead"]))
        assert await worker.run_once() == 1
        version = await version_of(api, me, dead)
        assert version["parse_status"] == "failed" and "needs too much memory" in version["parse_error"]
        assert (await job_row(api, version["id"])).last_error == "BrokenProcessPool"

        # and the service goes on: the next file parses normally, in a fresh process
        worker.child_parse = parsing.parse_resume
        good = await new_resume(api, me, make_pdf())
        assert await worker.run_once() == 1
        assert (await version_of(api, me, good))["parse_status"] == "parsed"
        assert (await api.get("/healthz")).status_code == 200
        assert len(hostile.pids()) == 2 and not any(alive(pid) for pid in hostile.pids())


async def test_a_parse_that_overruns_is_killed_retried_then_failed(start_resumes, hostile):
    clock = Clock()
    tokens, service = start_resumes(
        ["au.jobs.resume.*.v1"], clock=clock, parse_timeout_s=4, parse_max_attempts=2, parse_retry_base_s=10
    )
    async with service as api:
        api.tokens = tokens
        me = seeker(api)
        worker = parser(api)
        worker.child_parse = hostile.hang
        resume = await new_resume(api, me)
        version_id = resume["versions"][0]["id"]

        started = time.monotonic()
        assert await worker.run_once() == 1
        # killed at the timeout (~3.6 s), long before the parse would end by itself (120 s);
        # the bound is loose because spawning the process on a busy machine takes a while
        assert time.monotonic() - started < 60
        (first,) = hostile.pids()
        assert not alive(first)  # killed, not left running in the background
        assert worker.process_ids() == []
        row = await job_row(api, version_id)
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "ParseTimeout")

        clock.advance(seconds=11)
        assert await worker.run_once() == 1
        first_again, second = hostile.pids()
        assert first_again == first and second != first and not alive(second)
        version = await version_of(api, me, resume)
        assert version["parse_status"] == "failed" and "2 attempts" in version["parse_error"]
        row = await job_row(api, version_id)
        assert (row.status, row.attempts, row.last_error) == ("failed", 2, "ParseTimeout")


async def test_only_as_many_jobs_are_claimed_as_there_are_free_slots(start_resumes):
    """Five pending, two slots, a batch of four: a round claims two; a second round
    while both are busy claims none (its claims would only wait here, their 120 s
    running out, for another replica to take them as well)."""
    tokens, service = start_resumes(parse_concurrency=2, parse_batch_size=4)
    async with service as api:
        api.tokens = tokens
        me = seeker(api)
        for n in range(5):
            await new_resume(api, me, make_pdf([f"cv {n}"]))
        worker = parser(api)
        release = threading.Event()
        started = threading.Semaphore(0)

        def held(data, kind):
            started.release()
            release.wait(10)
            return parsed_resume()

        worker.parse = held

        async def running() -> int:
            async with api.app.state.runtime.db.session() as session:
                return await session.scalar(
                    sa.select(sa.func.count()).select_from(ParseJob).where(ParseJob.status == "running")
                )

        first = asyncio.create_task(worker.run_once())
        try:
            for _ in range(2):
                assert await asyncio.to_thread(started.acquire, True, 10)
            assert await running() == 2
            assert worker.free_slots == 0
            assert await worker.run_once() == 0  # no free slot: nothing claimed
            assert await running() == 2
        finally:
            release.set()
        assert await first == 2
        assert worker.free_slots == 2
        assert await worker.run_once() == 2
        assert await worker.run_once() == 1
        assert await worker.run_once() == 0


def test_a_docx_of_thousands_of_empty_paragraphs_is_refused_quickly():
    """160 KB of empty paragraphs took python-docx line reading ~100 s (a CPU bomb that
    passes the upload checks); the parser refuses it before reading lines."""
    import io

    from docx import Document

    from aujobs_common.documents import DocumentKind, inspect_document

    document = Document()
    for _ in range(20_000):
        document.add_paragraph()
    out = io.BytesIO()
    document.save(out)
    data = out.getvalue()
    assert inspect_document(data) is DocumentKind.docx
    started = time.monotonic()
    with pytest.raises(ValueError, match="paragraphs, far more than a resume"):
        parsing.parse_resume(data, DocumentKind.docx)
    assert time.monotonic() - started < 30  # refused up front, not read (which took ~100 s)
