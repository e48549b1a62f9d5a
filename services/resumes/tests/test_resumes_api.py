"""Resumes on a real PostgreSQL database: uploads checked from the bytes (refusals store
nothing), parsing into a profile, versions and their files, the one primary resume,
tags, limits, idempotent creates, and that nobody reaches another user's resume."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from aujobs_common.documents import DocumentKind
from aujobs_common.testing.waiting import eventually
from aujobs_resumes.models import Resume
from aujobs_resumes.uploads import display_filename

from .support import (
    DOCX,
    EMAIL,
    PDF,
    admin,
    counts,
    employer,
    is_problem,
    make_docx,
    make_pdf,
    new_resume,
    parser,
    pdf_with_javascript,
    resume_events,
    seeker,
    upload,
    zip_bomb_docx,
)

EMPTY = {"resumes": 0, "versions": 0, "parse_jobs": 0, "shares": 0, "blobs": 0}


# ---------------------------------------------------------------- upload and parse


async def test_pdf_and_docx_uploads_are_parsed_into_a_profile_and_published(api):
    owner = uuid.uuid4()
    me = seeker(api, owner)
    pdf_bytes, docx_bytes = make_pdf(), make_docx()

    r = await upload(api, me, pdf_bytes, "Charlotte Nguyen CV.pdf", title="Engineering", tags=["Python"])
    assert r.status_code == 201, r.text
    pdf_resume = r.json()
    assert pdf_resume["title"] == "Engineering" and pdf_resume["tags"] == ["python"]
    assert pdf_resume["is_primary"] is True and pdf_resume["version_count"] == 1
    (v1,) = pdf_resume["versions"]
    assert v1["number"] == 1 and v1["parse_status"] == "pending"
    assert v1["content_type"] == PDF and v1["size_bytes"] == len(pdf_bytes)
    assert v1["sha256"] == hashlib.sha256(pdf_bytes).hexdigest()
    assert v1["filename"] == "Charlotte Nguyen CV.pdf"

    # the declared type is ignored: the bytes decide
    r = await upload(api, me, docx_bytes, "cv.docx", content_type="application/octet-stream")
    assert r.status_code == 201, r.text
    docx_resume = r.json()
    assert docx_resume["title"] == "cv" and docx_resume["is_primary"] is False
    assert docx_resume["versions"][0]["content_type"] == DOCX

    assert await parser(api).run_once() == 2
    for resume in (pdf_resume, docx_resume):
        version = resume["versions"][0]
        r = await api.get(f"/api/v1/resumes/{resume['id']}/versions/{version['id']}", headers=me)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["parse_status"] == "parsed", body
        parsed = body["parsed"]
        assert set(parsed) >= {"contact", "summary", "experience", "education", "skills", "certifications"}
        assert parsed["contact"]["email"] == EMAIL
        assert "python" in {s.lower() for s in parsed["skills"]}
        assert parsed["experience"], parsed

    await eventually(lambda: len(resume_events(api, "parsed")) == 2)
    for event in resume_events(api):
        assert event.data["owner_id"] == str(owner)
        assert "python" in {s.lower() for s in event.data["skills"]}
        assert EMAIL not in event.model_dump_json() and "0412" not in event.model_dump_json()
    assert {e.data["resume_id"] for e in resume_events(api)} == {pdf_resume["id"], docx_resume["id"]}


async def test_a_parsed_version_is_not_parsed_again(api):
    me = seeker(api)
    await new_resume(api, me)
    assert await parser(api).run_once() == 1
    assert await parser(api).run_once() == 0


# ---------------------------------------------------------------- refusals


def over_limit() -> bytes:
    return make_pdf() + b"%" * (10 * 1024 * 1024)


REFUSALS = [
    ("empty", lambda: b"", 422, "empty-document"),
    ("text", lambda: b"Charlotte Nguyen\nSenior Software Engineer\n" * 20, 415, "unsupported-document-type"),
    ("encrypted pdf", lambda: make_pdf(encrypt="hunter2"), 422, "encrypted-document"),
    ("pdf with javascript", pdf_with_javascript, 422, "active-content"),
    ("zip bomb docx", zip_bomb_docx, 422, "document-too-large-unpacked"),
    ("over 10 MB", over_limit, 413, "document-too-large"),
]


@pytest.mark.parametrize(("name", "make", "status", "type_"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_every_refused_upload_has_its_problem_and_stores_nothing(api, name, make, status, type_):
    me = seeker(api)
    r = await upload(api, me, make(), "resume.pdf")
    is_problem(r, status, type_)
    assert await counts(api) == EMPTY
    # and not as a new version either
    resume = await new_resume(api, me)
    before = await counts(api)
    r = await upload(api, me, make(), path=f"/api/v1/resumes/{resume['id']}/versions")
    is_problem(r, status, type_)
    assert await counts(api) == before


async def test_a_declared_oversized_body_is_refused_before_it_is_read(api):
    r = await api.post(
        "/api/v1/resumes",
        content=b"--x\r\n",
        headers={
            **seeker(api),
            "content-type": "multipart/form-data; boundary=x",
            "content-length": str(20 * 1024 * 1024),
        },
    )
    is_problem(r, 413, "document-too-large")


async def test_malformed_forms_are_validation_errors(api):
    me = seeker(api)
    r = await api.post("/api/v1/resumes", json={"file": "nope"}, headers=me)
    is_problem(r, 422, "validation-error")
    r = await api.post("/api/v1/resumes", data={"title": "No file"}, files={"other": ("x", b"y")}, headers=me)
    is_problem(r, 422, "validation-error")
    assert await counts(api) == EMPTY


async def test_only_job_seekers_with_a_verified_email_add_resumes(api):
    is_problem(await upload(api, {}, make_pdf()), 401)
    is_problem(await upload(api, employer(api), make_pdf()), 403, "forbidden")
    is_problem(await upload(api, seeker(api, email_verified=False), make_pdf()), 403, "email-not-verified")
    assert await counts(api) == EMPTY


async def test_the_filename_is_a_sanitised_display_name(api):
    me = seeker(api)
    resume = await new_resume(api, me, filename="../../etc/\u202epasswd résumé.html")
    version = resume["versions"][0]
    assert version["filename"] == "passwd résumé.pdf"
    long = await new_resume(api, me, filename="a" * 500 + ".pdf")
    assert len(long["versions"][0]["filename"]) <= 200 and long["versions"][0]["filename"].endswith(".pdf")

    r = await api.get(f"/api/v1/resumes/{resume['id']}/versions/{version['id']}/file", headers=me)
    assert r.status_code == 200
    assert 'filename="passwd resume.pdf"' in r.headers["content-disposition"]
    assert "filename*=UTF-8''passwd%20r%C3%A9sum%C3%A9.pdf" in r.headers["content-disposition"]
    assert r.headers["content-disposition"].startswith("attachment;")


def test_display_filenames_lose_paths_controls_and_foreign_extensions():
    assert display_filename("C:\\Users\\me\\cv\x07\x00 final.PDF", DocumentKind.pdf) == "cv final.pdf"
    assert display_filename("resume.html", DocumentKind.pdf) == "resume.pdf"
    assert display_filename("resume.docx", DocumentKind.pdf) == "resume.pdf"
    assert display_filename("....", DocumentKind.docx) == "resume.docx"
    assert display_filename(None, DocumentKind.docx) == "resume.docx"
    assert display_filename("Jane Doe, CV (2024)", DocumentKind.pdf) == "Jane Doe, CV (2024).pdf"


# ---------------------------------------------------------------- versions and files


async def test_versions_are_numbered_and_serve_their_own_bytes(api):
    me = seeker(api)
    first, second = make_pdf(), make_docx()
    resume = await new_resume(api, me, first)
    r = await upload(api, me, second, "v2.docx", path=f"/api/v1/resumes/{resume['id']}/versions")
    assert r.status_code == 201, r.text
    v2 = r.json()
    assert v2["number"] == 2 and v2["resume_id"] == resume["id"] and v2["parse_status"] == "pending"

    r = await api.get(f"/api/v1/resumes/{resume['id']}", headers=me)
    detail = r.json()
    assert [v["number"] for v in detail["versions"]] == [2, 1]
    assert detail["version_count"] == 2 and detail["latest_version"]["id"] == v2["id"]

    for version, data, media in ((detail["versions"][1], first, PDF), (v2, second, DOCX)):
        url = f"/api/v1/resumes/{resume['id']}/versions/{version['id']}/file"
        r = await api.get(url, headers=me)
        assert r.status_code == 200 and r.content == data
        assert r.headers["content-type"] == media
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
        r = await api.get(url, headers={**me, "If-None-Match": r.headers["etag"]})
        assert r.status_code == 304

    # the contract the applications service reads
    r = await api.get(f"/api/v1/resumes/{resume['id']}/versions/{v2['id']}", headers=me)
    body = r.json()
    for name in (
        "id",
        "resume_id",
        "number",
        "filename",
        "content_type",
        "size_bytes",
        "sha256",
        "created_at",
        "parse_status",
        "parsed",
    ):
        assert name in body
    assert body["parsed"] is None

    # a version of another resume is not found through this one
    other = await new_resume(api, me)
    r = await api.get(f"/api/v1/resumes/{other['id']}/versions/{v2['id']}", headers=me)
    is_problem(r, 404, "version-not-found")


async def test_limits_on_resumes_and_versions(start_resumes):
    tokens, service = start_resumes(resumes_per_user_max=2, versions_per_resume_max=2)
    async with service as api:
        api.tokens = tokens
        me = seeker(api)
        resume = await new_resume(api, me)
        await new_resume(api, me)
        is_problem(await upload(api, me, make_pdf(["third"])), 409, "resume-limit-reached")
        # another user has their own allowance
        await new_resume(api, seeker(api))

        path = f"/api/v1/resumes/{resume['id']}/versions"
        assert (await upload(api, me, make_docx(), path=path)).status_code == 201
        is_problem(await upload(api, me, make_pdf(["v3"]), path=path), 409, "version-limit-reached")
        assert (await counts(api))["resumes"] == 3


async def test_an_idempotency_key_retry_creates_one_resume(api):
    me = seeker(api)
    data = make_pdf()
    first = await upload(api, me, data, idempotency_key="upload-1")
    again = await upload(api, me, data, idempotency_key="upload-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    assert (await counts(api))["resumes"] == 1
    # the same key for a different file is an error, not a silent replay
    r = await upload(api, me, make_docx(), "other.docx", idempotency_key="upload-1")
    is_problem(r, 422, "idempotency-key-reused")


# ---------------------------------------------------------------- primary, tags, listing


async def test_exactly_one_primary_resume(api):
    me = seeker(api)
    first = await new_resume(api, me, title="First")
    second = await new_resume(api, me, make_pdf(["second"]), title="Second")
    third = await new_resume(api, me, make_pdf(["third"]), title="Third")
    assert (first["is_primary"], second["is_primary"], third["is_primary"]) == (True, False, False)

    async def primaries():
        r = await api.get("/api/v1/resumes", headers=me)
        return [item["title"] for item in r.json()["items"] if item["is_primary"]]

    r = await api.patch(f"/api/v1/resumes/{second['id']}", json={"is_primary": True}, headers=me)
    assert r.status_code == 200 and r.json()["is_primary"] is True
    assert await primaries() == ["Second"]

    r = await api.patch(f"/api/v1/resumes/{second['id']}", json={"is_primary": False}, headers=me)
    is_problem(r, 422, "primary-resume-required")
    assert await primaries() == ["Second"]

    # deleting the primary promotes the newest other one
    assert (await api.delete(f"/api/v1/resumes/{second['id']}", headers=me)).status_code == 204
    assert await primaries() == ["Third"]
    assert (await api.delete(f"/api/v1/resumes/{first['id']}", headers=me)).status_code == 204
    assert await primaries() == ["Third"]

    # the database itself refuses a second primary
    async with api.app.state.runtime.db.session() as session:
        owner = await session.scalar(sa.select(Resume.owner_id).where(Resume.id == uuid.UUID(third["id"])))
    with pytest.raises(sa.exc.IntegrityError):
        async with api.app.state.runtime.db.transaction() as session:
            session.add(Resume(owner_id=owner, title="x", tags=[], is_primary=True, source="upload"))


async def test_tags_are_normalised_limited_and_filter_the_list(api):
    me = seeker(api)
    a = await new_resume(api, me, title="A")
    b = await new_resume(api, me, make_pdf(["b"]), title="B", tags=["Remote,  Sydney "])
    assert b["tags"] == ["remote", "sydney"]

    r = await api.patch(
        f"/api/v1/resumes/{a['id']}", json={"tags": [" Python ", "python", "REMOTE", "  "]}, headers=me
    )
    assert r.status_code == 200 and r.json()["tags"] == ["python", "remote"]
    is_problem(
        await api.patch(
            f"/api/v1/resumes/{a['id']}", json={"tags": [f"t{i}" for i in range(11)]}, headers=me
        ),
        422,
        "validation-error",
    )
    is_problem(
        await api.patch(f"/api/v1/resumes/{a['id']}", json={"tags": ["x" * 31]}, headers=me),
        422,
        "validation-error",
    )
    is_problem(await api.patch(f"/api/v1/resumes/{a['id']}", json={"title": "  "}, headers=me), 422)
    r = await api.patch(f"/api/v1/resumes/{a['id']}", json={"title": " Data  roles "}, headers=me)
    assert r.json()["title"] == "Data roles"

    async def titles(**params):
        r = await api.get("/api/v1/resumes", params=params, headers=me)
        assert r.status_code == 200, r.text
        return [item["title"] for item in r.json()["items"]]

    assert await titles(tag="remote") == ["B", "Data roles"]
    assert await titles(tag=["remote", "python"]) == ["Data roles"]
    assert await titles(tag="Sydney") == ["B"]
    assert await titles(tag="nothing") == []


async def test_the_list_is_cursor_paginated_and_only_ever_mine(api):
    me = seeker(api)
    for n in range(5):
        await new_resume(api, me, make_pdf([f"resume {n}"]), title=f"R{n}")
    await new_resume(api, seeker(api), title="Someone else's")
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await api.get("/api/v1/resumes", params=params, headers=me)
        assert r.status_code == 200, r.text
        seen += [item["title"] for item in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert seen == ["R4", "R3", "R2", "R1", "R0"]
    is_problem(
        await api.get("/api/v1/resumes", params={"cursor": "bm9wZQ"}, headers=me), 400, "invalid-cursor"
    )


# ---------------------------------------------------------------- nobody else's


async def test_another_user_cannot_reach_my_resume(api):
    mine = uuid.uuid4()
    me, them = seeker(api, mine), seeker(api)
    resume = await new_resume(api, me)
    rid, vid = resume["id"], resume["versions"][0]["id"]
    attempts = [
        ("GET", f"/api/v1/resumes/{rid}", None),
        ("GET", f"/api/v1/resumes/{rid}/versions/{vid}", None),
        ("GET", f"/api/v1/resumes/{rid}/versions/{vid}/file", None),
        ("GET", f"/api/v1/resumes/{rid}/versions/{vid}/export", None),
        ("PATCH", f"/api/v1/resumes/{rid}", {"title": "Mine now"}),
        ("PUT", f"/api/v1/resumes/{rid}/document", {"document": {}}),
        ("POST", f"/api/v1/resumes/{rid}/review", {}),
        ("POST", f"/api/v1/resumes/{rid}/versions/{vid}/share", {}),
        ("GET", f"/api/v1/resumes/{rid}/shares", None),
        ("DELETE", f"/api/v1/resumes/{rid}/shares/{uuid.uuid4()}", None),
        ("DELETE", f"/api/v1/resumes/{rid}", None),
    ]
    for caller in (them, employer(api)):
        for method, url, body in attempts:
            r = await api.request(method, url, json=body, headers=caller)
            is_problem(r, 404, "resume-not-found")
        r = await upload(api, caller, make_pdf(), path=f"/api/v1/resumes/{rid}/versions")
        assert r.status_code in (403, 404), r.text
    r = await api.get("/api/v1/resumes", headers=them)
    assert r.json()["items"] == []
    is_problem(await api.get("/api/v1/resumes", params={"owner_id": str(mine)}, headers=them), 403)

    # an admin may read, not change
    boss = admin(api)
    assert (await api.get(f"/api/v1/resumes/{rid}", headers=boss)).status_code == 200
    assert (await api.get(f"/api/v1/resumes/{rid}/versions/{vid}/file", headers=boss)).status_code == 200
    r = await api.get("/api/v1/resumes", params={"owner_id": str(mine)}, headers=boss)
    assert [item["id"] for item in r.json()["items"]] == [rid]
    is_problem(await api.delete(f"/api/v1/resumes/{rid}", headers=boss), 404)

    # and nothing changed
    r = await api.get(f"/api/v1/resumes/{rid}", headers=me)
    assert r.status_code == 200 and r.json()["title"] == resume["title"]
    assert (await counts(api))["resumes"] == 1


# ---------------------------------------------------------------- delete


async def test_delete_removes_versions_files_and_links_but_keeps_bytes_still_used(api):
    me = seeker(api)
    shared_bytes = make_pdf()
    one = await new_resume(api, me, shared_bytes)
    r = await upload(api, me, make_docx(), "v2.docx", path=f"/api/v1/resumes/{one['id']}/versions")
    assert r.status_code == 201
    r = await api.post(f"/api/v1/resumes/{one['id']}/versions/{one['versions'][0]['id']}/share", headers=me)
    assert r.status_code == 201, r.text
    token_url = r.json()["url"]
    # someone else uploads the very same file: stored once, used twice
    other_owner = seeker(api)
    other = await new_resume(api, other_owner, shared_bytes)
    assert await counts(api) == {"resumes": 2, "versions": 3, "parse_jobs": 3, "shares": 1, "blobs": 2}

    assert (await api.delete(f"/api/v1/resumes/{one['id']}", headers=me)).status_code == 204
    assert await counts(api) == {"resumes": 1, "versions": 1, "parse_jobs": 1, "shares": 0, "blobs": 1}
    is_problem(await api.get(f"/api/v1/resumes/{one['id']}", headers=me), 404)
    assert (await api.get(token_url)).status_code == 404
    r = await api.get(
        f"/api/v1/resumes/{other['id']}/versions/{other['versions'][0]['id']}/file", headers=other_owner
    )
    assert r.content == shared_bytes

    assert (await api.delete(f"/api/v1/resumes/{other['id']}", headers=other_owner)).status_code == 204
    assert await counts(api) == EMPTY


RENDERCV = Path(__file__).parent / "data" / "rendercv"


@pytest.mark.parametrize("theme", ["Classic", "Sb2nov"])
async def test_a_real_world_cv_is_parsed(api, theme):
    """RenderCV's sample CV (typeset by LaTeX/Typst, not by us) goes through upload,
    checks and parsing."""
    me = seeker(api)
    data = (RENDERCV / f"John_Doe_{theme}Theme_CV.pdf").read_bytes()
    resume = await new_resume(api, me, data, filename=f"John_Doe_{theme}Theme_CV.pdf")
    await parser(api).run_once()
    version = resume["versions"][0]
    r = await api.get(f"/api/v1/resumes/{resume['id']}/versions/{version['id']}", headers=me)
    body = r.json()
    assert body["parse_status"] == "parsed", body
    assert body["parsed"]["contact"]["name"] == "John Doe"
    assert body["parsed"]["contact"]["email"] == "john.doe@email.com"
    assert "python" in {s.lower() for s in body["parsed"]["skills"]}
    assert any(e["institution"] == "Princeton University" for e in body["parsed"]["education"])


async def test_concurrent_first_uploads_make_exactly_one_primary(api):
    me = seeker(api)
    results = await asyncio.gather(*(upload(api, me, make_pdf([f"cv {n}"])) for n in range(6)))
    assert [r.status_code for r in results] == [201] * 6
    r = await api.get("/api/v1/resumes", headers=me)
    assert sum(item["is_primary"] for item in r.json()["items"]) == 1


async def test_refusals_are_counted_by_reason(api):
    await upload(api, seeker(api), b"plain text, not a resume file")
    r = await api.get("/metrics")
    assert 'aujobs_resume_uploads_total{outcome="unsupported-document-type"}' in r.text


async def test_an_undeclared_oversized_body_is_cut_off_while_streaming(api):
    """No Content-Length (chunked): reading stops soon after the limit, not at the end."""
    sent = 0
    boundary = "resumeboundary"

    async def body():
        nonlocal sent
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
        ).encode()
        yield head
        chunk = b"0" * (1024 * 1024)
        for _ in range(40):  # 40 MB on offer
            sent += len(chunk)
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    r = await api.post(
        "/api/v1/resumes",
        content=body(),
        headers={**seeker(api), "content-type": f"multipart/form-data; boundary={boundary}"},
    )
    is_problem(r, 413, "document-too-large")
    assert sent <= 12 * 1024 * 1024
    assert await counts(api) == EMPTY


async def test_making_one_primary_while_deleting_the_primary_never_deadlocks(api):
    """PATCH R2 ``is_primary`` races DELETE R1 (the primary): both take the user's lock
    before any resume row, so neither waits on the other in a cycle (was a deadlock: 500)."""
    pdf = make_pdf(["race"])
    for _ in range(10):
        me = seeker(api)
        first = await new_resume(api, me, pdf, title="First")
        second = await new_resume(api, me, pdf, title="Second")
        assert first["is_primary"] and not second["is_primary"]
        patched, deleted = await asyncio.gather(
            api.patch(f"/api/v1/resumes/{second['id']}", json={"is_primary": True}, headers=me),
            api.delete(f"/api/v1/resumes/{first['id']}", headers=me),
        )
        assert patched.status_code == 200, patched.text
        assert deleted.status_code == 204, deleted.text
        r = await api.get("/api/v1/resumes", headers=me)
        items = r.json()["items"]
        assert [(item["title"], item["is_primary"]) for item in items] == [("Second", True)]
