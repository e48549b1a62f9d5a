"""The read models built from events: job snapshots (newest version wins), resume
skills arriving after the application (match score), and attachments."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from aujobs_applications.matching import match_score
from aujobs_applications.models import JobView
from aujobs_common import documents
from aujobs_common.events import ResumeParsed

from .support import Company, apply, deliver, employer, is_problem, job_snapshot, open_job, seeker


def test_match_score_uses_canonical_skill_names():
    assert match_score(["JavaScript", "ReactJS", "Excel", "Payroll"], ["js", "React", "ms excel"]) == 75
    assert match_score([], ["Python"]) is None
    assert match_score(["Python"], None) is None
    assert match_score(["Python"], []) == 0


async def test_out_of_order_job_snapshots_are_ignored(api):
    company = Company()
    job = await open_job(api, company)
    await deliver(api, job_snapshot(company, job_id=job.job_id, version=3, title="Senior Bookkeeper"))
    await deliver(api, job_snapshot(company, job_id=job.job_id, version=2, title="Old", status="closed"))
    async with api.app.state.runtime.db.session() as session:
        view = await session.get(JobView, job.job_id)
        assert (view.version, view.title, view.status) == (3, "Senior Bookkeeper", "active")
    # Still open: the stale "closed" did not win.
    app = (await apply(api, job.job_id)).json()
    assert app["job_title"] == "Senior Bookkeeper"
    await deliver(api, job_snapshot(company, job_id=job.job_id, version=4, status="closed"))
    is_problem(await apply(api, job.job_id, expect=None), 409, "job-not-open")


async def test_resume_parsed_later_sets_the_match_score(api):
    company = Company()
    job = await open_job(api, company)  # skills Xero, MYOB, Excel, Payroll
    user = uuid.uuid4()
    version = api.resumes.add(user, skills=None)  # not parsed yet
    app = (await apply(api, job.job_id, user, version=version)).json()
    path = f"/api/v1/applications/{app['id']}"
    assert (await api.get(path, headers=employer(api, company.owner))).json()["match_score"] is None

    parsed = ResumeParsed(
        resume_id=version.resume_id,
        version_id=version.version_id,
        owner_id=user,
        status="parsed",
        skills=["Xero", "MYOB", "Excel"],
        parsed_at=datetime.now(UTC),
    )
    await deliver(api, parsed)
    assert (await api.get(path, headers=employer(api, company.owner))).json()["match_score"] == 75
    # A later parse of the same version does not overwrite skills already held.
    await deliver(api, parsed.model_copy(update={"skills": ["Cooking"]}))
    assert (await api.get(path, headers=employer(api, company.owner))).json()["match_score"] == 75
    # Another owner's event for the version changes nothing (ids must match both ways).
    other = api.resumes.add(uuid.uuid4())
    other_app = (await apply(api, job.job_id, other.owner_id, version=other)).json()
    await deliver(api, parsed.model_copy(update={"version_id": other.version_id, "owner_id": user}))
    seen = await api.get(f"/api/v1/applications/{other_app['id']}", headers=employer(api, company.owner))
    assert seen.json()["match_score"] is None


def parsed_event(version, *, skills, parsed_at=None, owner_id=None, status="parsed") -> ResumeParsed:
    return ResumeParsed(
        resume_id=version.resume_id,
        version_id=version.version_id,
        owner_id=owner_id or version.owner_id,
        status=status,
        skills=skills,
        parsed_at=parsed_at or datetime.now(UTC),
    )


async def employer_view(api, company, application_id):
    r = await api.get(f"/api/v1/applications/{application_id}", headers=employer(api, company.owner))
    assert r.status_code == 200, r.text
    return r.json()


async def held_skills(api, version_id):
    from aujobs_applications.models import ResumeSkills

    async with api.app.state.runtime.db.session() as session:
        row = await session.get(ResumeSkills, version_id)
        return None if row is None else (row.owner_id, row.skills, row.parsed_at)


async def test_a_parse_that_lands_before_the_application_is_not_lost(api):
    company = Company()
    job = await open_job(api, company)  # skills Xero, MYOB, Excel, Payroll
    user = uuid.uuid4()
    version = api.resumes.add(user, skills=None)  # the resumes service still says pending
    # The parse finishes (and its event is handled) before the application exists.
    await deliver(api, parsed_event(version, skills=["Xero", "MYOB", "Excel"]))
    app = (await apply(api, job.job_id, user, version=version)).json()
    assert (await employer_view(api, company, app["id"]))["match_score"] == 75


async def test_held_resume_skills_newest_parse_wins_and_owner_must_match(api):
    company = Company()
    job = await open_job(api, company)
    user = uuid.uuid4()
    version = api.resumes.add(user, skills=None)
    t0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
    await deliver(api, parsed_event(version, skills=["Xero"], parsed_at=t0))
    await deliver(api, parsed_event(version, skills=["Xero", "MYOB"], parsed_at=t0 + timedelta(hours=1)))
    # Late and duplicate deliveries of older or equal parses change nothing; failures keep the skills.
    await deliver(api, parsed_event(version, skills=["Cooking"], parsed_at=t0 + timedelta(minutes=30)))
    await deliver(api, parsed_event(version, skills=["Cooking"], parsed_at=t0 + timedelta(hours=1)))
    await deliver(api, parsed_event(version, skills=[], parsed_at=t0 + timedelta(hours=2), status="failed"))
    assert await held_skills(api, version.version_id) == (user, ["Xero", "MYOB"], t0 + timedelta(hours=1))
    app = (await apply(api, job.job_id, user, version=version)).json()
    assert (await employer_view(api, company, app["id"]))["match_score"] == 50

    # A version someone else's event names is not used for this applicant.
    other_user = uuid.uuid4()
    other = api.resumes.add(other_user, skills=None)
    await deliver(api, parsed_event(other, skills=["Xero"], owner_id=uuid.uuid4()))
    app = (await apply(api, job.job_id, other_user, version=other)).json()
    assert (await employer_view(api, company, app["id"]))["match_score"] is None

    # Skills the resumes service already returns win over the ones held here.
    third_user = uuid.uuid4()
    third = api.resumes.add(third_user, skills=["Xero", "MYOB", "Excel", "Payroll"])
    await deliver(api, parsed_event(third, skills=["Xero"]))
    app = (await apply(api, job.job_id, third_user, version=third)).json()
    assert (await employer_view(api, company, app["id"]))["match_score"] == 100


class PausingBlobs:
    """The blob store, holding each ``put`` (inside the submit transaction) until released."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def put(self, session, content):
        self.entered.set()
        await self.release.wait()
        return await self.inner.put(session, content)

    def __getattr__(self, name):
        return getattr(self.inner, name)


async def test_parse_and_submit_racing_either_way_keep_the_skills(api):
    from aujobs_applications.readmodels import handle_resume_parsed

    runtime = api.app.state.runtime
    company = Company()
    job = await open_job(api, company)

    # 1. The parse is being handled (not yet committed) while the application is sent.
    user = uuid.uuid4()
    version = api.resumes.add(user, skills=None)
    event = parsed_event(version, skills=["Xero", "MYOB", "Excel"]).to_event(source="/services/resumes")
    async with runtime.db.transaction() as session:
        await handle_resume_parsed(session, event)
        sending = asyncio.create_task(apply(api, job.job_id, user, version=version))
        await asyncio.sleep(0.5)  # the application's transaction reaches the skills lookup
    app = (await asyncio.wait_for(sending, 10)).json()
    assert (await employer_view(api, company, app["id"]))["match_score"] == 75

    # 2. The application is being saved (not yet committed) while the parse is handled.
    user = uuid.uuid4()
    version = api.resumes.add(user, skills=None)
    event = parsed_event(version, skills=["Xero", "MYOB"]).to_event(source="/services/resumes")
    pausing = PausingBlobs(runtime.extras["blobs"])
    runtime.extras["blobs"] = pausing
    try:
        sending = asyncio.create_task(apply(api, job.job_id, user, version=version))
        await asyncio.wait_for(pausing.entered.wait(), 10)

        async def consume():
            async with runtime.db.transaction() as session:
                await handle_resume_parsed(session, event)

        consuming = asyncio.create_task(consume())
        await asyncio.sleep(0.5)
        pausing.release.set()
        app = (await asyncio.wait_for(sending, 10)).json()
        await asyncio.wait_for(consuming, 10)
    finally:
        runtime.extras["blobs"] = pausing.inner
    assert (await employer_view(api, company, app["id"]))["match_score"] == 50


PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def fake_documents(monkeypatch):
    """A stand-in for aujobs_common.documents.inspect_document (being written elsewhere):
    PDFs by their signature, everything else refused as the real one would."""

    def inspect(data: bytes, *, max_bytes: int = documents.MAX_DOCUMENT_BYTES):
        if data.startswith(b"%PDF-"):
            return documents.DocumentKind.pdf
        raise documents.DocumentRejected("unsupported-document", 415, "Send a PDF or a Word (DOCX) document.")

    monkeypatch.setattr(documents, "inspect_document", inspect)


async def upload(api, app_id, user, *, content=PDF, kind="other", name="cert.pdf", headers=None):
    return await api.post(
        f"/api/v1/applications/{app_id}/attachments",
        files={"file": (name, content, "text/html")},
        data={"kind": kind},
        headers=headers or seeker(api, user),
    )


async def test_attachments(api, fake_documents):
    x, y = Company(), Company()
    job = await open_job(api, x)
    user = uuid.uuid4()
    app = (await apply(api, job.job_id, user)).json()

    r = await upload(api, app["id"], user, kind="cover_letter", name='../../evil"\r\nname.html')
    assert r.status_code == 201, r.text
    attachment = r.json()
    assert attachment["content_type"] == "application/pdf"  # from the bytes, not the declared type
    assert attachment["filename"].endswith(".pdf") and "/" not in attachment["filename"]
    is_problem(await upload(api, app["id"], user, content=b"<html>hi</html>"), 415, "unsupported-document")
    is_problem(await upload(api, app["id"], user, kind="selfie"), 422)
    is_problem(await upload(api, app["id"], uuid.uuid4()), 404)  # someone else's application
    is_problem(await upload(api, app["id"], user, headers=employer(api, x.owner)), 404)

    path = f"/api/v1/applications/{app['id']}/attachments/{attachment['id']}"
    for headers, expected in [
        (seeker(api, user), 200),
        (employer(api, x.recruiter), 200),
        (seeker(api), 404),
        (employer(api, y.owner), 404),
    ]:
        r = await api.get(path, headers=headers)
        assert r.status_code == expected
        if expected == 200:
            assert r.content == PDF
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["content-type"] == "application/pdf"
            assert r.headers["content-disposition"].startswith("attachment;")
            assert "\r" not in r.headers["content-disposition"]

    for _ in range(4):
        assert (await upload(api, app["id"], user)).status_code == 201
    is_problem(await upload(api, app["id"], user), 409, "attachment-limit-reached")

    # Once reviewed, nothing more can be added.
    other = (await apply(api, job.job_id)).json()
    applicant = uuid.UUID(
        (await api.get(f"/api/v1/applications/{other['id']}", headers=employer(api, x.owner))).json()[
            "applicant_id"
        ]
    )
    await api.post(f"/api/v1/applications/{other['id']}/review", headers=employer(api, x.owner))
    is_problem(await upload(api, other["id"], applicant), 409, "application-not-editable")
    full = await api.get(f"/api/v1/applications/{app['id']}", headers=seeker(api, user))
    assert len(full.json()["attachments"]) == 5


async def test_too_large_attachment_is_413(start_applications, fake_documents):
    tokens, clock, resumes, context = start_applications(attachment_max_bytes=1024)
    async with context as api:
        api.tokens, api.clock, api.resumes = tokens, clock, resumes
        job = await open_job(api)
        user = uuid.uuid4()
        app = (await apply(api, job.job_id, user)).json()
        is_problem(await upload(api, app["id"], user, content=PDF + b"0" * 2048), 413, "file-too-large")

        async def chunked():  # no Content-Length: the cap applies while reading
            yield b'--b\r\nContent-Disposition: form-data; name="kind"\r\n\r\nother\r\n'
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'
            for _ in range(40):
                yield PDF + b"0" * 1024
            yield b"\r\n--b--\r\n"

        r = await api.post(
            f"/api/v1/applications/{app['id']}/attachments",
            content=chunked(),
            headers={**seeker(api, user), "Content-Type": "multipart/form-data; boundary=b"},
        )
        assert "content-length" not in r.request.headers
        is_problem(r, 413, "file-too-large")
        small = await api.post(
            f"/api/v1/applications/{app['id']}/attachments",
            content=(
                b'--b\r\nContent-Disposition: form-data; name="kind"\r\n\r\nother\r\n'
                b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'
                + PDF
                + b"\r\n--b--\r\n"
            ),
            headers={**seeker(api, user), "Content-Type": "multipart/form-data; boundary=b"},
        )
        assert small.status_code == 201, small.text
        async with api.app.state.runtime.db.session() as session:
            count = await session.scalar(sa.text("SELECT count(*) FROM application_attachments"))
        assert count == 1


async def test_attachments_with_the_real_document_checks(api):
    """PDF and DOCX pass aujobs_common.documents; anything else is refused by its bytes."""
    import io

    import docx
    from reportlab.pdfgen import canvas

    pdf = io.BytesIO()
    page = canvas.Canvas(pdf)
    page.drawString(100, 750, "Cover letter")
    page.save()
    word = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Certificate")
    document.save(word)

    job = await open_job(api)
    user = uuid.uuid4()
    app = (await apply(api, job.job_id, user)).json()
    r = await upload(api, app["id"], user, content=pdf.getvalue(), kind="cover_letter", name="letter.docx")
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "application/pdf" and r.json()["filename"] == "letter.pdf"
    r = await upload(api, app["id"], user, content=word.getvalue(), name="cert")
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == documents.DocumentKind.docx.media_type
    assert r.json()["filename"] == "cert.docx"
    r = await upload(api, app["id"], user, content=b"<script>alert(1)</script>", name="x.pdf")
    assert r.status_code == 415 and r.headers["content-type"].startswith("application/problem+json")
