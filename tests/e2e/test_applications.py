"""Resumes and applications (issue 6) through the gateway on the distributed topology
(every service a real process; RabbitMQ, Redis, SMTP): a real PDF resume from upload to
parsed profile to application; who may see what; duplicate and retried submissions;
every status transition; bulk actions; every kind of rejected upload.

Refusals are checked to change nothing: the resumes and applications databases are
fingerprinted before and after."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from aujobs_common.testing.waiting import eventually

from . import documents

pytestmark = pytest.mark.timeout(300)

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: What the resume and application services keep; a refusal leaves them as they were.
TABLES = {
    "resumes": ("resumes", "resume_versions", "blobs"),
    "applications": ("applications", "application_status_history", "blobs"),
}
FINGERPRINT = "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM {} t"
WORK_RIGHTS = "I'm an Australian citizen"
JOB_SKILLS = ["Python", "PyTorch", "Kubernetes", "CUDA", "Tableau"]


@dataclass
class Hiring:
    """Two employers with a job each (X has a recruiter too), and three job seekers."""

    frontend: Any
    databases: Any
    accounts: dict[str, Any]
    jobs: dict[str, dict[str, Any]]

    @property
    def http(self) -> httpx.AsyncClient:
        return self.frontend.http

    def headers(self, actor: str) -> dict[str, str]:
        return {} if actor == "anonymous" else self.accounts[actor].headers

    async def fingerprint(self) -> dict[str, str]:
        out = {}
        for service, tables in TABLES.items():
            for table in tables:
                rows = await self.databases.fetch(service, FINGERPRINT.format(table))
                out[f"{service}.{table}"] = rows[0]["h"]
            # events written (their rows change when the relay publishes them: count only)
            out[f"{service}.outbox"] = str(await self.databases.count(service, "outbox"))
        return out

    async def upload(self, actor: str, data: bytes, filename: str, content_type: str = PDF) -> httpx.Response:
        return await self.http.post(
            "/api/v1/resumes",
            files={"file": (filename, data, content_type)},
            data={"title": filename},
            headers=self.headers(actor),
        )

    async def parsed_resume(self, actor: str, data: bytes, filename: str = "cv.pdf") -> dict[str, Any]:
        """Upload, then wait for the background parse; the resume and its version."""
        kind = DOCX if filename.endswith(".docx") else PDF
        r = await self.upload(actor, data, filename, kind)
        assert r.status_code == 201, r.text
        resume = r.json()
        version_id = resume["versions"][0]["id"]
        url = f"/api/v1/resumes/{resume['id']}/versions/{version_id}"

        async def parsed() -> dict[str, Any] | None:
            r = await self.http.get(url, headers=self.headers(actor))
            assert r.status_code == 200, r.text
            assert r.json()["parse_status"] in ("pending", "parsing", "parsed"), r.json()
            return r.json() if r.json()["parse_status"] == "parsed" else None

        version = await eventually(parsed, timeout=60)
        return {"resume": resume, "version": version}

    async def apply(
        self, actor: str, job: str, resume: dict[str, Any], *, key: str | None = None, **body: Any
    ) -> httpx.Response:
        payload = {
            "job_id": self.jobs[job]["id"],
            "resume_id": resume["resume"]["id"],
            "resume_version_id": resume["version"]["id"],
            "cover_letter": "I would love to build your platform.",
            "answers": {"work_rights": WORK_RIGHTS, "q1": True},
            **body,
        }
        headers = {**self.headers(actor), **({"Idempotency-Key": key} if key else {})}
        return await self.http.post("/api/v1/applications", json=payload, headers=headers)

    async def applied(self, actor: str, job: str, resume: dict[str, Any], **body: Any) -> dict[str, Any]:
        """Apply once the applications service has seen the job (events are asynchronous)."""

        async def attempt() -> dict[str, Any] | None:
            r = await self.apply(actor, job, resume, **body)
            if r.status_code == 404:  # the job's events have not arrived yet
                return None
            assert r.status_code == 201, r.text
            return r.json()

        return await eventually(attempt, timeout=30)

    async def status(self, actor: str, application_id: str, status: str, **extra: Any) -> httpx.Response:
        return await self.http.post(
            f"/api/v1/applications/{application_id}/status",
            json={"status": status, **extra},
            headers=self.headers(actor),
        )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def hiring(frontend, databases) -> Hiring:
    accounts = dict(
        zip(
            ["owner_x", "recruiter_x", "owner_y", "seeker_a", "seeker_b", "seeker_c"],
            await asyncio.gather(
                frontend.signup("employer"),
                frontend.signup("employer"),
                frontend.signup("employer"),
                frontend.signup("job_seeker"),
                frontend.signup("job_seeker"),
                frontend.signup("job_seeker"),
            ),
            strict=True,
        )
    )
    accounts["unverified"] = await frontend.signup("job_seeker", verified=False)
    accounts["admin"] = await frontend.admin()
    company_x = await frontend.company_for(accounts["owner_x"])
    await frontend.add_recruiter(accounts["owner_x"], company_x["id"], accounts["recruiter_x"])
    question = {"kind": "yes_no", "prompt": "Can you start within a month?", "required": True}
    jobs = {}
    for name, owner in (("x", "owner_x"), ("y", "owner_y")):
        draft = await frontend.create_job(
            accounts[owner],
            f"Machine Learning Engineer {name.upper()}",
            skills=JOB_SKILLS,
            screening_questions=[question],
        )
        jobs[name] = await frontend.publish(accounts[owner], draft["id"])
    return Hiring(frontend, databases, accounts, jobs)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cv(hiring: Hiring) -> dict[str, Any]:
    """Seeker A's real PDF resume, parsed."""
    return await hiring.parsed_resume("seeker_a", documents.REAL_CV.read_bytes(), "John_Doe_CV.pdf")


# ------------------------------------------------------------- resume → application


async def test_a_real_pdf_resume_goes_from_upload_to_parsed_profile_to_application(hiring, cv):
    version = cv["version"]
    parsed = version["parsed"]
    assert parsed["contact"]["name"] == "John Doe"
    assert parsed["contact"]["email"] == "john.doe@email.com"
    assert {"Python", "PyTorch", "Kubernetes"} <= set(parsed["skills"])
    employers = {e["employer"] for e in parsed["experience"]}
    assert {"Nexus AI", "NVIDIA Research", "Google DeepMind"} <= employers
    assert {e["institution"] for e in parsed["education"]} >= {"Princeton University"}

    # the review, against the job the seeker is about to apply for
    async def reviewed() -> dict[str, Any] | None:
        r = await hiring.http.post(
            f"/api/v1/resumes/{cv['resume']['id']}/review",
            json={"job_id": hiring.jobs["x"]["id"]},
            headers=hiring.headers("seeker_a"),
        )
        if r.status_code == 404:  # the resumes service has not seen the job's events yet
            return None
        assert r.status_code == 200, r.text
        return r.json()

    review = await eventually(reviewed, timeout=30)
    assert 0 <= review["score"] <= 100 and review["sub_scores"]
    assert "Tableau" in review["job_match"]["missing_skills"]
    assert {"Python", "PyTorch"} <= set(review["job_match"]["matched_skills"])

    application = await hiring.applied("seeker_a", "x", cv)
    assert application["status"] == "submitted"
    assert application.get("match_score") is None  # the employer's figure, not shown to applicants

    # the employer sees the applicant, with the exact resume version sent
    r = await hiring.http.get(
        f"/api/v1/jobs/{hiring.jobs['x']['id']}/applications", headers=hiring.headers("owner_x")
    )
    assert r.status_code == 200, r.text
    [listed] = [a for a in r.json()["items"] if a["id"] == application["id"]]
    assert listed["applicant_id"] == hiring.accounts["seeker_a"].id
    assert listed["match_score"] == 80  # 4 of the job's 5 skills are on the resume
    assert listed["answers"] == {"work_rights": WORK_RIGHTS, "q1": True}
    r = await hiring.http.get(
        f"/api/v1/applications/{application['id']}/resume", headers=hiring.headers("recruiter_x")
    )
    assert r.status_code == 200 and r.content == documents.REAL_CV.read_bytes()
    assert r.headers["content-type"].startswith(PDF)

    # the applicant is told by email
    mail = await eventually(
        lambda: _mail_to(hiring, hiring.accounts["seeker_a"].email, "Application sent"), timeout=30
    )
    assert "Machine Learning Engineer X" in mail["subject"]


async def _mail_to(hiring: Hiring, address: str, subject_part: str) -> dict[str, Any] | None:
    for message in await hiring.frontend.mail():
        if message["to"].endswith(address) and subject_part in message["subject"]:
            return message
    return None


# ------------------------------------------------------------- who may see what


async def test_applicants_and_employers_see_only_their_own(hiring, cv):
    application = await _application_of(hiring, "seeker_a", "x", cv)
    resume_url = f"/api/v1/resumes/{cv['resume']['id']}"
    file_url = f"{resume_url}/versions/{cv['version']['id']}/file"
    app_url = f"/api/v1/applications/{application['id']}"
    applicants = f"/api/v1/jobs/{hiring.jobs['x']['id']}/applications"
    before = await hiring.fingerprint()

    # B, another job seeker: none of A's resume, file or application exists for them
    for url in (resume_url, file_url, app_url, f"{app_url}/resume"):
        hiring.frontend.assert_problem(await hiring.http.get(url, headers=hiring.headers("seeker_b")), 404)
    hiring.frontend.assert_problem(
        await hiring.http.post(f"{app_url}/withdraw", headers=hiring.headers("seeker_b")), 404
    )
    hiring.frontend.assert_problem(
        await hiring.http.delete(resume_url, headers=hiring.headers("seeker_b")), 404
    )
    # B cannot apply with A's resume either
    r = await hiring.apply("seeker_b", "y", cv)
    assert r.status_code == 422, r.text
    # Y, another employer: X's applicants, their application and resume copy are not there
    for url in (applicants, app_url, f"{app_url}/resume"):
        r = await hiring.http.get(url, headers=hiring.headers("owner_y"))
        hiring.frontend.assert_problem(r, 404)
    hiring.frontend.assert_problem(await hiring.status("owner_y", application["id"], "rejected"), 404)
    # a job seeker cannot act as the employer of their own application
    hiring.frontend.assert_problem(await hiring.status("seeker_a", application["id"], "hired"), 403)
    # no token: 401 at the gateway, also for the applicants path under the public jobs area
    for url in (applicants, app_url, resume_url):
        hiring.frontend.assert_problem(await hiring.http.get(url), 401)
    assert await hiring.fingerprint() == before

    # the owner and the recruiter of X see the applicant; the admin may read
    for actor in ("owner_x", "recruiter_x", "admin"):
        r = await hiring.http.get(app_url, headers=hiring.headers(actor))
        assert r.status_code == 200, (actor, r.text)
    # A sees their own, without the employer's private notes
    r = await hiring.http.post(
        f"{app_url}/notes", json={"text": "Strong research background."}, headers=hiring.headers("owner_x")
    )
    assert r.status_code == 201, r.text
    r = await hiring.http.get(app_url, headers=hiring.headers("seeker_a"))
    assert r.status_code == 200 and "Strong research" not in r.text
    r = await hiring.http.get(f"{app_url}/notes", headers=hiring.headers("recruiter_x"))
    assert [n["text"] for n in r.json()] == ["Strong research background."]
    # employer endpoints answer a job seeker 403 before any lookup (nothing to learn)
    hiring.frontend.assert_problem(
        await hiring.http.get(f"{app_url}/notes", headers=hiring.headers("seeker_a")), 403
    )


async def _application_of(hiring: Hiring, actor: str, job: str, resume: dict[str, Any]) -> dict[str, Any]:
    r = await hiring.http.get("/api/v1/applications", headers=hiring.headers(actor))
    assert r.status_code == 200, r.text
    for item in r.json()["items"]:
        if item["job_id"] == hiring.jobs[job]["id"]:
            return item
    return await hiring.applied(actor, job, resume)


# ------------------------------------------------------------- duplicates and retries


async def test_retried_and_duplicate_submissions_make_one_application(hiring):
    resume = await hiring.parsed_resume("seeker_b", documents.resume_pdf("Bea Citizen"))
    key = str(uuid.uuid4())
    first = await hiring.applied("seeker_b", "x", resume, key=key)
    retried = await hiring.apply("seeker_b", "x", resume, key=key)
    assert retried.status_code in (200, 201) and retried.json()["id"] == first["id"]
    again = await hiring.apply("seeker_b", "x", resume, key=str(uuid.uuid4()))
    body = hiring.frontend.assert_problem(again, 409)
    assert first["id"] in str(body)
    # several at once, each with its own key: still exactly one
    resume_c = await hiring.parsed_resume("seeker_c", documents.resume_pdf("Cy Citizen"))
    await hiring.applied("seeker_c", "y", resume_c)  # the job is known to applications now
    responses = await asyncio.gather(
        *(hiring.apply("seeker_c", "x", resume_c, key=str(uuid.uuid4())) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409], [r.text for r in responses]
    rows = await hiring.databases.fetch(
        "applications",
        "SELECT count(*) AS n FROM applications WHERE job_id = $1 AND applicant_id = $2",
        uuid.UUID(hiring.jobs["x"]["id"]),
        uuid.UUID(hiring.accounts["seeker_c"].id),
    )
    assert rows[0]["n"] == 1


async def test_applications_are_refused_with_reasons_and_change_nothing(hiring, cv):
    before = await hiring.fingerprint()
    # missing required answers
    r = await hiring.apply("seeker_a", "y", cv, answers={"work_rights": WORK_RIGHTS})
    body = hiring.frontend.assert_problem(r, 422)
    assert "q1" in str(body["errors"])
    r = await hiring.apply("seeker_a", "y", cv, answers={"work_rights": "I'm a Martian", "q1": True})
    hiring.frontend.assert_problem(r, 422)
    # an unverified seeker, an employer
    hiring.frontend.assert_problem(await hiring.apply("unverified", "y", cv), 403)
    hiring.frontend.assert_problem(await hiring.apply("owner_y", "y", cv), 403)
    assert await hiring.fingerprint() == before


# ------------------------------------------------------------- the pipeline


async def test_every_status_transition_and_history(hiring):
    seeker = await hiring.frontend.signup("job_seeker")
    hiring.accounts["pipeline"] = seeker
    resume = await hiring.parsed_resume("pipeline", documents.resume_pdf("Pat Pipeline"))
    application = await hiring.applied("pipeline", "x", resume)
    app_id = application["id"]
    path = ["reviewed", "shortlisted", "interview", "offer", "hired"]
    for status in path:
        r = await hiring.status("recruiter_x" if status != "hired" else "owner_x", app_id, status)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == status
    before = await hiring.fingerprint()
    for status in ("interview", "rejected", "submitted", "withdrawn"):
        hiring.frontend.assert_problem(await hiring.status("owner_x", app_id, status), 409)
    hiring.frontend.assert_problem(
        await hiring.http.post(f"/api/v1/applications/{app_id}/withdraw", headers=seeker.headers), 409
    )
    assert await hiring.fingerprint() == before
    r = await hiring.http.get(f"/api/v1/applications/{app_id}", headers=seeker.headers)
    history = r.json()["history"]
    assert [h["status"] for h in history] == ["submitted", *path]
    assert all(h["changed_at"] for h in history)

    # withdrawn by the applicant, and rejected by the employer
    other = await hiring.applied("pipeline", "y", resume)
    r = await hiring.http.post(
        f"/api/v1/applications/{other['id']}/withdraw",
        json={"reason": "Took another job"},
        headers=seeker.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "withdrawn", r.text
    hiring.frontend.assert_problem(await hiring.status("owner_y", other["id"], "reviewed"), 409)

    # the employer's funnel counts what happened
    r = await hiring.http.get(
        f"/api/v1/jobs/{hiring.jobs['x']['id']}/applications/analytics", headers=hiring.headers("owner_x")
    )
    assert r.status_code == 200, r.text
    assert r.json()["funnel"]["hired"] >= 1

    mail = await eventually(lambda: _mail_to(hiring, seeker.email, "hired"), timeout=30)
    assert "Machine Learning Engineer X" in mail["subject"]


async def test_bulk_status_change_reports_each_application(hiring):
    job = hiring.jobs["y"]
    seekers = await asyncio.gather(*(hiring.frontend.signup("job_seeker") for _ in range(3)))
    ids = []
    for n, seeker in enumerate(seekers):
        hiring.accounts[f"bulk{n}"] = seeker
        resume = await hiring.parsed_resume(f"bulk{n}", documents.resume_pdf(f"Bulk Applicant {n}"))
        ids.append((await hiring.applied(f"bulk{n}", "y", resume))["id"])
    assert (await hiring.status("owner_y", ids[0], "hired")).status_code == 200
    unknown = str(uuid.uuid4())
    r = await hiring.http.post(
        f"/api/v1/jobs/{job['id']}/applications/bulk-status",
        json={
            "application_ids": [*ids, unknown],
            "status": "rejected",
            "message": "Thank you for applying; we have filled the role.",
        },
        headers=hiring.headers("owner_y"),
    )
    assert r.status_code == 200, r.text
    outcome = {item["application_id"]: item["result"] for item in r.json()["results"]}
    assert outcome == {
        ids[0]: "invalid-transition",
        ids[1]: "changed",
        ids[2]: "changed",
        unknown: "not-found",
    }
    for n in (1, 2):
        mail = await eventually(
            lambda n=n: _mail_to(hiring, seekers[n].email, "Update on your application"), timeout=30
        )
        assert "we have filled the role" in mail["text"]
    # another employer's bulk request reaches none of them
    r = await hiring.http.post(
        f"/api/v1/jobs/{job['id']}/applications/bulk-status",
        json={"application_ids": ids, "status": "shortlisted"},
        headers=hiring.headers("owner_x"),
    )
    hiring.frontend.assert_problem(r, 404)


# ------------------------------------------------------------- rejected uploads

REJECTED = {
    "empty": (b"", "empty.pdf", PDF, 422),
    "text": (b"Jane Citizen\nSoftware engineer\n", "resume.pdf", PDF, 415),
    "legacy word": (documents.legacy_word_document(), "resume.doc", "application/msword", 415),
    "image": (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "resume.pdf", PDF, 415),
    "encrypted pdf": (documents.pdf(["Jane"], encrypt=True), "locked.pdf", PDF, 422),
    "malformed pdf": (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", "broken.pdf", PDF, 422),
    "javascript pdf": (documents.pdf_with_javascript(), "cv.pdf", PDF, 422),
    "macro docx": (documents.docx_with_macros(), "cv.docx", DOCX, 422),
    "zip bomb docx": (documents.docx_bomb(), "cv.docx", DOCX, 422),
    "over 10 MB": (documents.oversized_pdf(), "big.pdf", PDF, 413),
}


@pytest.mark.parametrize("kind", REJECTED)
async def test_each_rejected_upload_kind_is_a_clear_problem_that_stores_nothing(hiring, kind):
    data, filename, content_type, status = REJECTED[kind]
    before = await hiring.fingerprint()
    r = await hiring.upload("seeker_c", data, filename, content_type)
    body = hiring.frontend.assert_problem(r, status)
    assert body["detail"]
    assert await hiring.fingerprint() == before


async def test_a_docx_resume_is_accepted_parsed_and_downloadable(hiring):
    data = documents.docx(documents.resume_lines("Dana Docx"))
    parsed = await hiring.parsed_resume("seeker_c", data, "dana.docx")
    version = parsed["version"]
    assert version["content_type"] == DOCX and version["filename"] == "dana.docx"
    assert version["parsed"]["contact"]["email"] == "dana.docx@example.com.au"
    assert {"Python", "PyTorch", "Kubernetes"} <= set(version["parsed"]["skills"])
    r = await hiring.http.get(
        f"/api/v1/resumes/{parsed['resume']['id']}/versions/{version['id']}/file",
        headers=hiring.headers("seeker_c"),
    )
    assert r.status_code == 200 and r.content == data
    assert r.headers["x-content-type-options"] == "nosniff"
