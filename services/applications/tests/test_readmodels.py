"""The read models built from events: job snapshots (newest version wins), resume
skills arriving after the application (match score), and attachments."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

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
