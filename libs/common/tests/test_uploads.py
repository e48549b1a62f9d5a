"""Uploads read as they stream in, and stored files sent back: real multipart bodies
through a small FastAPI app (httpx over ASGI), as every service's upload endpoint
receives them."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from aujobs_common.errors import install_problem_handlers
from aujobs_common.uploads import (
    UploadForm,
    clean_filename,
    describe_size,
    download,
    etag_matches,
    read_upload,
)

MAX_BYTES = 1024
FORM = UploadForm(
    invalid_detail="The upload must be multipart/form-data with the thing in the field 'file'.",
    text_fields={"title": 1, "tags": 3},
    too_large_type="thing-too-large",
    overhead_bytes=2048,
)
BOUNDARY = "b0undary"
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def upload_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, Any]:
        got = await read_upload(request, FORM, max_bytes=MAX_BYTES)
        return {
            "size": len(got.data),
            "sha256": got.sha256,
            "filename": got.filename,
            "fields": {name: list(values) for name, values in got.fields.items()},
            "title": got.first("title"),
            "tags": got.values("tags"),
        }

    @app.get("/download")
    async def get(name: str) -> Response:
        return download(b"%PDF-1.7 not really", filename=name, content_type="application/pdf")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=upload_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


def part(name: str, body: bytes, *, disposition_extra: str = "", content_type: str | None = None) -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"{disposition_extra}\r\n'
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode("utf-8") + b"\r\n" + body + b"\r\n"


def form_body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def problem(response: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/" + type_), body
    return body


def field_errors(response: httpx.Response) -> dict[str, str]:
    body = problem(response, 422, "validation-error")
    assert body["detail"] == FORM.invalid_detail
    return {e["field"]: e["message"] for e in body["errors"]}


# ---------------------------------------------------------------- accepted


async def test_the_file_and_the_allowed_fields_come_back_as_sent(client):
    data = bytes(range(256)) * 4  # exactly the limit, every byte value (CR, LF, "--" included)
    r = await client.post(
        "/upload",
        files={"file": ("cv.pdf", data, "application/pdf")},
        data={"title": "My CV", "tags": ["python", "go,rust"]},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["size"] == MAX_BYTES and body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["filename"] == "cv.pdf"
    assert body["title"] == "My CV" and body["tags"] == ["python", "go,rust"]


async def test_an_empty_file_is_returned_for_the_caller_to_judge(client):
    r = await client.post("/upload", files={"file": ("empty.pdf", b"")})
    assert r.status_code == 200, r.text
    assert r.json()["size"] == 0 and r.json()["tags"] is None and r.json()["title"] is None


# ---------------------------------------------------------------- limits


async def test_a_file_over_the_limit_is_413_with_the_forms_type(client):
    r = await client.post("/upload", files={"file": ("big.pdf", b"x" * (MAX_BYTES + 1))})
    body = problem(r, 413, "thing-too-large")
    assert body["detail"] == "The file is larger than 1 KiB."


async def test_a_declared_length_over_the_limit_is_refused_before_reading(client):
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(8):
            sent += 1
            yield part("file", b"x" * 512)

    headers = {**MULTIPART, "Content-Length": str(FORM.body_limit(MAX_BYTES) + 1)}
    r = await client.post("/upload", content=body(), headers=headers)
    problem(r, 413, "thing-too-large")
    assert sent <= 1


async def test_a_chunked_body_without_a_length_is_cut_off_past_the_limit(client):
    sent = 0
    chunk = b"\0" * 256

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield part("file", b"", disposition_extra='; filename="a.bin"')[:-2]  # the head, no data yet
        for _ in range(1000):  # 250 KiB on offer
            sent += 1
            yield chunk
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    r = await client.post("/upload", content=body(), headers=MULTIPART)
    assert "content-length" not in r.request.headers
    problem(r, 413, "thing-too-large")
    assert sent <= MAX_BYTES // len(chunk) + 2


async def test_the_whole_body_is_capped_not_only_the_file(client):
    """Bytes the parser skips (after the closing boundary) still count."""
    assert FORM.body_limit(MAX_BYTES) == MAX_BYTES + 4 * FORM.text_field_max_bytes + FORM.overhead_bytes
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield form_body(part("file", b"small", disposition_extra='; filename="a.pdf"'))
        for _ in range(1000):
            sent += 1
            yield b"epilogue " * 100

    r = await client.post("/upload", content=body(), headers=MULTIPART)
    problem(r, 413, "thing-too-large")
    assert sent <= FORM.body_limit(MAX_BYTES) // 900 + 1


async def test_a_text_field_over_its_byte_limit_is_422(client):
    errors = field_errors(
        await client.post(
            "/upload", files={"file": ("a.pdf", b"x")}, data={"title": "t" * (FORM.text_field_max_bytes + 1)}
        )
    )
    assert errors == {"title": "too long"}


def test_sizes_read_as_people_read_them():
    assert describe_size(5 * 1024 * 1024) == "5 MiB"
    assert describe_size(1536 * 1024) == "1.5 MiB"
    assert describe_size(64 * 1024) == "64 KiB"
    assert describe_size(1000) == "1000 bytes"


# ---------------------------------------------------------------- the shape of the form


async def test_unknown_fields_are_refused_by_name(client):
    errors = field_errors(
        await client.post("/upload", files={"file": ("a.pdf", b"x")}, data={"caption": "not ours"})
    )
    assert errors == {"caption": "unknown form field 'caption'"}


async def test_two_files_are_refused(client):
    body = form_body(
        part("file", b"one", disposition_extra='; filename="a.pdf"'),
        part("file", b"two", disposition_extra='; filename="b.pdf"'),
    )
    errors = field_errors(await client.post("/upload", content=body, headers=MULTIPART))
    assert errors == {"file": "send exactly one file"}


async def test_fields_are_refused_past_their_repeat_limit(client):
    once = await client.post("/upload", files={"file": ("a.pdf", b"x")}, data={"title": ["a", "b"]})
    assert field_errors(once) == {"title": "send this field once"}
    tags = await client.post("/upload", files={"file": ("a.pdf", b"x")}, data={"tags": ["a", "b", "c", "d"]})
    assert field_errors(tags) == {"tags": "send this field at most 3 times"}


async def test_a_form_without_a_file_is_refused(client):
    errors = field_errors(
        await client.post("/upload", content=form_body(part("title", b"t")), headers=MULTIPART)
    )
    assert errors == {"file": "a file is required"}


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b'{"file": "nope"}', {"Content-Type": "application/json"}),
        (b"file=nope", {"Content-Type": "application/x-www-form-urlencoded"}),
        (form_body(part("file", b"x")), {"Content-Type": "multipart/form-data"}),  # no boundary
        (form_body(part("file", b"x")), {}),
    ],
    ids=["json", "urlencoded", "no boundary", "no content type"],
)
async def test_what_is_not_multipart_is_refused(client, content, headers):
    errors = field_errors(await client.post("/upload", content=content, headers=headers))
    assert errors == {"file": "expected a multipart/form-data body"}


async def test_a_body_cut_short_is_malformed_not_a_shorter_file(client):
    whole = form_body(part("file", b"0123456789" * 20, disposition_extra='; filename="a.pdf"'))
    errors = field_errors(await client.post("/upload", content=whole[:120], headers=MULTIPART))
    assert list(errors) == ["file"] and "malformed" in errors["file"]


# ---------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('; filename="plain.pdf"', "plain.pdf"),
        ('; filename="r\u00e9sum\u00e9 \u5c65\u6b74.pdf"', "r\u00e9sum\u00e9 \u5c65\u6b74.pdf"),  # raw UTF-8
        (
            "; filename=\"fallback.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20final.pdf",
            "r\u00e9sum\u00e9 final.pdf",
        ),
        ("; filename*=utf-8'en'%E5%B1%A5%E6%AD%B4.pdf", "\u5c65\u6b74.pdf"),
        ("; filename*=iso-8859-1''caf%E9.pdf", "caf\u00e9.pdf"),
        ("; filename=\"kept.pdf\"; filename*=koi8-r''%C1.pdf", "kept.pdf"),  # a charset we do not read
        ("; filename=\"a; filename*=UTF-8''evil.exe\"", "a; filename*=UTF-8''evil.exe"),  # quoted, whole
        ('; filename="say \\"hi\\".pdf"', 'say "hi".pdf'),
        ("", None),
    ],
    ids=[
        "plain",
        "utf-8",
        "rfc 5987",
        "language tag",
        "latin-1",
        "unknown charset",
        "quoted",
        "escapes",
        "none",
    ],
)
async def test_the_file_name_is_decoded(client, disposition, expected):
    body = form_body(part("file", b"x", disposition_extra=disposition))
    r = await client.post("/upload", content=body, headers=MULTIPART)
    assert r.status_code == 200, r.text
    assert r.json()["filename"] == expected


async def test_httpx_names_arrive_as_the_client_meant(client):
    r = await client.post("/upload", files={"file": ("../../etc/\u202epasswd r\u00e9sum\u00e9.html", b"x")})
    assert r.json()["filename"] == "../../etc/\u202epasswd r\u00e9sum\u00e9.html"
    assert (
        clean_filename(r.json()["filename"], extension=".pdf", default="f") == "passwd r\u00e9sum\u00e9.pdf"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("C:\\Users\\me\\cv\x07\x00 final.PDF", "cv final.pdf"),
        ("../../etc/passwd", "passwd.pdf"),
        ("resume.html", "resume.pdf"),
        ("resume.docx", "resume.pdf"),
        ('evil"\r\nname.html', 'evil"name.pdf'),
        ("Jane Doe, CV (2024)", "Jane Doe, CV (2024).pdf"),
        ("Jane v1.2 final", "Jane v1.2 final.pdf"),  # not an extension: kept
        ("....", "document.pdf"),
        ("   ", "document.pdf"),
        (None, "document.pdf"),
        ("\u202e\u200bx", "x.pdf"),
    ],
)
def test_file_names_lose_paths_controls_and_their_own_extension(raw, expected):
    assert clean_filename(raw, extension=".pdf", default="document") == expected


def test_file_names_are_at_most_200_characters():
    name = clean_filename("a" * 500 + ".pdf", extension=".docx", default="d")
    assert len(name) == 200 and name.endswith("a.docx")
    assert len(clean_filename("\u00e9" * 500, extension=".pdf", default="d", max_length=150)) == 150


# ---------------------------------------------------------------- downloads


async def test_downloads_are_attachments_never_sniffed_or_rendered(client):
    r = await client.get("/download", params={"name": "passwd r\u00e9sum\u00e9.pdf"})
    assert r.status_code == 200 and r.content == b"%PDF-1.7 not really"
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"passwd resume.pdf\"; filename*=UTF-8''passwd%20r%C3%A9sum%C3%A9.pdf"
    )
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "private, no-store"
    assert r.headers["content-security-policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize(
    ("name", "fallback", "exact"),
    [
        ('evil"\r\nname;.pdf', "evil___name_.pdf", "evil%22__name%3B.pdf"),
        ("\u5c65\u6b74.pdf", "file.pdf", "%E5%B1%A5%E6%AD%B4.pdf"),
        ("\u5c65\u6b74", "file", "%E5%B1%A5%E6%AD%B4"),
        ("", "file", "file"),
        ("a/b\\c.pdf", "a/b_c.pdf", "a%2Fb%5Cc.pdf"),
    ],
)
async def test_no_name_can_break_out_of_the_header(client, name, fallback, exact):
    r = await client.get("/download", params={"name": name})
    assert (
        r.headers["content-disposition"] == f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"
    )


def test_download_headers_carry_the_cache_policy_and_etag():
    from aujobs_common.uploads import download_headers

    headers = download_headers("cv.pdf", cache="private, no-cache", etag='"abc"', default="resume")
    assert headers["Cache-Control"] == "private, no-cache" and headers["ETag"] == '"abc"'
    assert download_headers("", default="resume")["Content-Disposition"].startswith(
        'attachment; filename="resume"'
    )


def test_etags_match_weak_strong_and_star():
    assert etag_matches('"a", W/"b"', '"b"') and etag_matches("*", '"x"') and etag_matches('"a"', '"a"')
    assert not etag_matches(None, '"a"') and not etag_matches('"b"', '"a"') and not etag_matches("", '"a"')
