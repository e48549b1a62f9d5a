"""The builder, export and review through the API on a real database: a resume built
from structured data is a generated PDF that is parsed at once; any parsed version
exports as PDF or Word with a template; review scores a version, against a job the
service learnt from the jobs service's events."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pdfplumber
from docx import Document

from aujobs_common.events import (
    JobClosed,
    JobLocation,
    JobPublished,
    JobStatus,
    JobSubmitted,
    JobUpdated,
    WorkType,
)
from aujobs_common.testing.waiting import eventually

from .support import DOCX, PDF, is_problem, new_resume, parsed_resume, parser, resume_events, seeker

DOCUMENT = {
    "contact": {"name": "Lachlan Murphy", "email": "lachlan@example.com.au", "location": "Brisbane QLD"},
    "summary": "Data engineer building reliable pipelines for health data.",
    "experience": [
        {
            "title": "Data Engineer",
            "employer": "Southern Cross Health",
            "start": "2019-02",
            "current": True,
            "highlights": ["Cut nightly load time by 60% by moving ETL to Apache Spark."],
        }
    ],
    "education": [{"institution": "Queensland University of Technology", "degree": "BIT", "end": "2018"}],
    "skills": ["Python", "Apache Spark", "SQL"],
    "certifications": ["AWS Certified Data Engineer"],
}


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


async def build(api, headers, **changes):
    body = {"title": "Data Engineer CV", "template": "classic", "document": DOCUMENT, **changes}
    r = await api.post("/api/v1/resumes/builder", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_templates_are_listed(api):
    r = await api.get("/api/v1/resumes/templates", headers=seeker(api))
    assert r.status_code == 200
    names = [t["name"] for t in r.json()]
    assert "classic" in names and all(t["description"] for t in r.json())


async def test_a_built_resume_is_a_parsed_pdf_of_the_data(api):
    owner = uuid.uuid4()
    me = seeker(api, owner)
    resume = await build(api, me)
    assert resume["source"] == "builder" and resume["template"] == "classic" and resume["is_primary"]
    (version,) = resume["versions"]
    assert version["parse_status"] == "parsed" and version["content_type"] == PDF
    assert version["origin"] == "builder" and version["filename"] == "Data Engineer CV.pdf"

    r = await api.get(f"/api/v1/resumes/{resume['id']}/versions/{version['id']}", headers=me)
    assert r.json()["parsed"]["skills"] == DOCUMENT["skills"]
    r = await api.get(f"/api/v1/resumes/{resume['id']}/versions/{version['id']}/file", headers=me)
    assert r.status_code == 200
    text = pdf_text(r.content)
    assert "Lachlan Murphy" in text and "Southern Cross Health" in text
    assert await parser(api).run_once() == 0  # nothing to parse

    (event,) = await eventually(lambda: resume_events(api, "parsed"))
    assert event.data["owner_id"] == str(owner) and event.data["skills"] == DOCUMENT["skills"]
    assert event.data["job_titles"] == ["Data Engineer"]

    # edits are a new generated version
    edited = {**DOCUMENT, "summary": "Lead data engineer.", "skills": ["Python", "dbt"]}
    r = await api.put(
        f"/api/v1/resumes/{resume['id']}/document",
        json={"document": edited, "template": "modern"},
        headers=me,
    )
    assert r.status_code == 201, r.text
    v2 = r.json()
    assert v2["number"] == 2 and v2["template"] == "modern" and v2["parsed"]["skills"] == ["Python", "dbt"]
    r = await api.get(f"/api/v1/resumes/{resume['id']}", headers=me)
    assert r.json()["template"] == "modern" and r.json()["version_count"] == 2
    await eventually(lambda: len(resume_events(api, "parsed")) == 2)


async def test_builder_input_is_checked(api):
    me = seeker(api)
    r = await api.post(
        "/api/v1/resumes/builder",
        json={"title": "CV", "template": "no-such-template", "document": DOCUMENT},
        headers=me,
    )
    is_problem(r, 422, "unknown-template")
    r = await api.post(
        "/api/v1/resumes/builder", json={"title": "CV", "document": {"skills": "x"}}, headers=me
    )
    is_problem(r, 422, "validation-error")
    r = await api.post(
        "/api/v1/resumes/builder",
        json={"title": "CV", "document": DOCUMENT},
        headers=seeker(api, email_verified=False),
    )
    is_problem(r, 403, "email-not-verified")
    # within every field limit, yet far too long to typeset: refused, not a 500
    sprawling = {
        **DOCUMENT,
        "experience": [
            {**DOCUMENT["experience"][0], "highlights": ["Delivered outcomes " * 60] * 30} for _ in range(10)
        ],
    }
    r = await api.post("/api/v1/resumes/builder", json={"title": "CV", "document": sprawling}, headers=me)
    is_problem(r, 422, "document-too-long")
    r = await api.get("/api/v1/resumes", headers=me)
    assert r.json()["items"] == []


async def test_an_idempotent_build_creates_one_resume(api):
    me = seeker(api)
    body = {"title": "CV", "document": DOCUMENT}
    headers = {**me, "Idempotency-Key": "build-1"}
    first = await api.post("/api/v1/resumes/builder", json=body, headers=headers)
    again = await api.post("/api/v1/resumes/builder", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    r = await api.get("/api/v1/resumes", headers=me)
    assert len(r.json()["items"]) == 1


async def test_export_in_both_formats_with_a_template(api):
    me = seeker(api)
    resume = await build(api, me)
    url = f"/api/v1/resumes/{resume['id']}/versions/{resume['versions'][0]['id']}/export"

    r = await api.get(url, params={"format": "pdf", "template": "compact"}, headers=me)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == PDF and r.content.startswith(b"%PDF-")
    assert "attachment;" in r.headers["content-disposition"] and ".pdf" in r.headers["content-disposition"]
    assert "Apache Spark" in pdf_text(r.content)

    r = await api.get(url, params={"format": "docx"}, headers=me)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == DOCX
    text = docx_text(r.content)
    assert "Lachlan Murphy" in text and "AWS Certified Data Engineer" in text

    is_problem(await api.get(url, params={"format": "rtf"}, headers=me), 422, "validation-error")
    is_problem(await api.get(url, params={"template": "fancy"}, headers=me), 422, "unknown-template")


async def test_an_upload_exports_once_parsed_and_not_before(api):
    me = seeker(api)
    resume = await new_resume(api, me)
    url = f"/api/v1/resumes/{resume['id']}/versions/{resume['versions'][0]['id']}/export"
    is_problem(await api.get(url, headers=me), 409, "resume-not-parsed")
    await parser(api).run_once()
    r = await api.get(url, params={"format": "docx"}, headers=me)
    assert r.status_code == 200, r.text
    assert "Charlotte Nguyen" in docx_text(r.content)


# ---------------------------------------------------------------- review


def job_event(event_type=JobPublished, *, job_id=None, version=1, status=JobStatus.active, **changes):
    now = datetime.now(UTC)
    fields = dict(
        job_id=job_id or uuid.uuid4(),
        version=version,
        owner_id=uuid.uuid4(),
        title="Senior Data Engineer",
        description="<p>Build pipelines.</p>",
        description_text="Build data pipelines with Python, Apache Spark and Airflow on AWS.",
        location=JobLocation(suburb="Brisbane City", state="QLD", postcode="4000"),
        work_type=WorkType.full_time,
        classification="Information & Communication Technology",
        skills=["Python", "Apache Spark", "Apache Airflow", "Amazon Web Services"],
        status=status,
        created_at=now,
        updated_at=now,
    )
    fields.update(changes)
    payload = event_type(**fields)
    return payload.to_event(source="/services/jobs", subject=str(payload.job_id))


async def deliver(api, *events):
    for event in events:
        await api.bus.publish(event)
    await api.bus.drain()
    assert await api.bus.dead_letters("resumes") == []


async def test_review_against_a_job_from_the_read_model(api):
    me = seeker(api)
    resume = await build(api, me)
    url = f"/api/v1/resumes/{resume['id']}/review"

    r = await api.post(url, json={}, headers=me)
    assert r.status_code == 200, r.text
    plain = r.json()
    assert 0 <= plain["score"] <= 100 and plain["sub_scores"] and plain["job_match"] is None

    job_id = uuid.uuid4()
    await deliver(api, job_event(job_id=job_id, version=2))
    r = await api.post(url, json={"job_id": str(job_id)}, headers=me)
    assert r.status_code == 200, r.text
    match = r.json()["job_match"]
    assert "Python" in match["matched_skills"] and "Apache Airflow" in match["missing_skills"]

    # an older snapshot arriving late changes nothing; a newer one does
    await deliver(api, job_event(JobUpdated, job_id=job_id, version=1, skills=["Cobol"]))
    r = await api.post(url, json={"job_id": str(job_id)}, headers=me)
    assert "Python" in r.json()["job_match"]["matched_skills"]
    closed = job_event(
        JobClosed,
        job_id=job_id,
        version=3,
        status=JobStatus.closed,
        skills=["SQL"],
        description_text="SQL reports.",
    )
    await deliver(api, closed)
    r = await api.post(url, json={"job_id": str(job_id)}, headers=me)
    match = r.json()["job_match"]
    assert any("SQL" in s for s in match["matched_skills"]), match
    assert not any("Airflow" in s for s in match["matched_skills"] + match["missing_skills"]), match

    # an inline job
    r = await api.post(url, json={"job": {"title": "Analyst", "skills": ["SQL", "Tableau"]}}, headers=me)
    assert r.status_code == 200 and "Tableau" in r.json()["job_match"]["missing_skills"]

    # unknown, or never listed publicly
    is_problem(await api.post(url, json={"job_id": str(uuid.uuid4())}, headers=me), 404, "job-not-found")
    pending = uuid.uuid4()
    await deliver(api, job_event(JobSubmitted, job_id=pending, status=JobStatus.pending))
    is_problem(await api.post(url, json={"job_id": str(pending)}, headers=me), 404, "job-not-found")
    r = await api.post(url, json={"job_id": str(job_id), "job": {"title": "x"}}, headers=me)
    is_problem(r, 422, "validation-error")


async def test_review_waits_for_parsing_and_reads_the_chosen_version(api):
    me = seeker(api)
    resume = await new_resume(api, me)
    url = f"/api/v1/resumes/{resume['id']}/review"
    is_problem(await api.post(url, json={}, headers=me), 409, "resume-not-parsed")
    parser(api).parse = lambda data, kind: parsed_resume(["Python"])
    await parser(api).run_once()
    r = await api.post(url, json={"version_id": resume["versions"][0]["id"]}, headers=me)
    assert r.status_code == 200, r.text
    is_problem(
        await api.post(url, json={"version_id": str(uuid.uuid4())}, headers=me), 404, "version-not-found"
    )
