"""Callers, sample files and checks the resumes tests share."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import sqlalchemy as sa

# re-exported for the test modules
from aujobs_common.testing.callers import admin, employer, is_problem, seeker  # noqa: F401
from aujobs_resumes.document import Contact, ExperienceEntry, ParsedResume, ResumeDocument
from aujobs_resumes.models import ParseJob, Resume, ResumeVersion, ShareLink, blobs

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EMAIL = "charlotte.nguyen@example.com.au"

RESUME_LINES = [
    "Charlotte Nguyen",
    f"{EMAIL} | 0412 345 678 | Parramatta NSW",
    "",
    "SUMMARY",
    "Backend engineer with eight years building payment and booking platforms.",
    "",
    "EXPERIENCE",
    "Senior Software Engineer, Banksia Financial Group, Sydney NSW",
    "Jan 2020 - Present",
    "- Led the migration of the payments API to Python and PostgreSQL, cutting latency by 40%.",
    "- Mentored four engineers and introduced code review guidelines.",
    "Software Engineer, Eucalypt Software, Melbourne VIC",
    "Mar 2016 - Dec 2019",
    "- Built booking services in Java and Docker used by 2 million customers.",
    "",
    "EDUCATION",
    "Bachelor of Computer Science, University of Sydney, 2012 - 2015",
    "",
    "SKILLS",
    "Python, PostgreSQL, Docker, Kubernetes, Java, SQL",
]


# ---------------------------------------------------------------- callers


# ---------------------------------------------------------------- files


def make_pdf(lines: list[str] | None = None, **canvas_options: Any) -> bytes:
    """A text PDF drawn with reportlab (``encrypt=`` for a password-protected one)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, **canvas_options)
    y = 800
    for line in RESUME_LINES if lines is None else lines:
        pdf.drawString(50, y, line)
        y -= 16
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_docx(lines: list[str] | None = None) -> bytes:
    from docx import Document

    document = Document()
    for line in RESUME_LINES if lines is None else lines:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pdf_with_javascript() -> bytes:
    """A one-page PDF whose catalogue runs JavaScript when opened."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Type /Action /S /JavaScript /JS (app.alert('hello')) >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def zip_bomb_docx() -> bytes:
    """A real DOCX whose document part inflates to ~300 MB of spaces."""
    base = make_docx(["Zip bomb"])
    source = zipfile.ZipFile(io.BytesIO(base))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                head, _, tail = data.partition(b"<w:body>")
                with target.open("word/document.xml", "w", force_zip64=True) as part:
                    part.write(head + b"<w:body>")
                    chunk = b" " * (1024 * 1024)
                    for _ in range(300):
                        part.write(chunk)
                    part.write(tail)
            else:
                target.writestr(info, data)
    return buffer.getvalue()


def parsed_resume(skills: list[str] | None = None) -> ParsedResume:
    """What a parser returns, for tests that replace the parser."""
    document = ResumeDocument(
        contact=Contact(name="Charlotte Nguyen", email=EMAIL, phone="0412 345 678"),
        summary="Backend engineer.",
        experience=[
            ExperienceEntry(
                title="Senior Software Engineer", employer="Banksia", start="2020-01", current=True
            ),
            ExperienceEntry(title="Software Engineer", employer="Eucalypt", start="2016-03", end="2019-12"),
        ],
        skills=skills if skills is not None else ["Python", "PostgreSQL"],
    )
    return ParsedResume(
        document=document, text="\n".join(RESUME_LINES), sections={"skills": "Python"}, pages=1
    )


# ---------------------------------------------------------------- requests


async def upload(
    client,
    headers,
    data: bytes,
    filename: str = "resume.pdf",
    *,
    content_type: str = PDF,
    title: str | None = None,
    tags: list[str] | None = None,
    path: str = "/api/v1/resumes",
    idempotency_key: str | None = None,
):
    fields: dict[str, Any] = {}
    if title is not None:
        fields["title"] = title
    if tags is not None:
        fields["tags"] = tags
    extra = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    return await client.post(
        path, files={"file": (filename, data, content_type)}, data=fields, headers={**headers, **extra}
    )


async def new_resume(client, headers, data: bytes | None = None, **kwargs) -> dict:
    r = await upload(client, headers, data if data is not None else make_pdf(), **kwargs)
    assert r.status_code == 201, r.text
    return r.json()


async def counts(client) -> dict[str, int]:
    """Rows of every table an upload writes to."""
    out = {}
    async with client.app.state.runtime.db.session() as session:
        for name, table in (
            ("resumes", Resume.__table__),
            ("versions", ResumeVersion.__table__),
            ("parse_jobs", ParseJob.__table__),
            ("shares", ShareLink.__table__),
            ("blobs", blobs),
        ):
            out[name] = await session.scalar(sa.select(sa.func.count()).select_from(table))
    return out


def parser(client):
    return client.app.state.runtime.extras["parser"]


def resume_events(client, status: str | None = None) -> list:
    return [
        e
        for e in client.events
        if e.type == "au.jobs.resume.parsed.v1" and (status is None or e.data["status"] == status)
    ]
