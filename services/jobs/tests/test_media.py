"""Company logos and gallery images on a real PostgreSQL database: what is accepted
(decided from the bytes), the renditions and what they no longer carry (EXIF/GPS),
what is refused without storing anything, who may change media, and the public,
cacheable rendition URLs."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import uuid
import zlib

import pytest
import sqlalchemy as sa
from PIL import Image

from aujobs_jobs.media_models import CompanyMedia, MediaRendition

from .support import employer, is_problem

MAX_BYTES = 256 * 1024
MAX_PIXELS = 4_000_000
MAX_IMAGES = 3

COMPANY = {"name": "Wattle Analytics", "description": "Data people in Hobart."}


@pytest.fixture
async def api(start_jobs):
    tokens, service = start_jobs(
        media_max_bytes=MAX_BYTES, media_max_pixels=MAX_PIXELS, company_images_max=MAX_IMAGES
    )
    async with service as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        yield client


@pytest.fixture
async def company(api):
    owner = uuid.uuid4()
    r = await api.post("/api/v1/companies", json=COMPANY, headers=employer(api, owner))
    assert r.status_code == 201, r.text
    return {"id": r.json()["id"], "owner": owner}


async def stored_media(api) -> int:
    async with api.app.state.runtime.db.session() as session:
        media_rows = await session.scalar(sa.select(sa.func.count()).select_from(CompanyMedia))
        renditions = await session.scalar(sa.select(sa.func.count()).select_from(MediaRendition))
    return media_rows + renditions


# ---------------------------------------------------------------- pictures


def picture(fmt, size=(300, 150), *, mode="RGB", color=(200, 30, 30), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, fmt, **save)
    return buffer.getvalue()


def noise_png(size=(400, 400)) -> bytes:
    """A PNG of random pixels: it does not compress."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, random.Random(7).randbytes(size[0] * size[1] * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_with_gps(size=(400, 200), orientation=6) -> bytes:
    """A JPEG whose EXIF holds a GPS position and an orientation (6 = rotate 90° cw)."""
    image = Image.new("RGB", size, (20, 120, 220))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "SnoopCam"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "S", 2: (33.0, 51.0, 54.0), 3: "E", 4: (151.0, 12.0, 36.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` but carries one tiny IDAT."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


def animated_png() -> bytes:
    frames = [Image.new("RGB", (120, 120), c) for c in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


async def put_logo(api, company, data, headers=None, filename="logo.png", content_type="image/png"):
    return await api.put(
        f"/api/v1/companies/{company['id']}/logo",
        files={"file": (filename, data, content_type)},
        headers=headers if headers is not None else employer(api, company["owner"]),
    )


async def post_image(api, company, data, headers=None, filename="office.jpg", **form):
    return await api.post(
        f"/api/v1/companies/{company['id']}/images",
        files={"file": (filename, data, "image/jpeg")},
        data=form,
        headers=headers if headers is not None else employer(api, company["owner"]),
    )


async def fetch(api, url) -> Image.Image:
    r = await api.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/webp"
    image = Image.open(io.BytesIO(r.content))
    image.load()
    return image


# ---------------------------------------------------------------- accepted


async def test_png_logo_gets_transparent_padded_square_renditions(api, company):
    r = await put_logo(api, company, picture("PNG", (300, 150), mode="RGBA", color=(200, 30, 30, 128)))
    assert r.status_code == 200, r.text
    logo = r.json()
    assert logo["kind"] == "logo" and (logo["width"], logo["height"]) == (300, 150)
    assert sorted(logo["renditions"], key=int) == ["64", "128", "256"]
    for name, rendition in logo["renditions"].items():
        side = int(name)
        assert (rendition["width"], rendition["height"]) == (side, side)
        image = await fetch(api, rendition["url"])
        assert image.format == "WEBP" and image.size == (side, side) and image.mode == "RGBA"
        assert image.getpixel((0, 0))[3] == 0  # the padding above a wide logo is transparent
        red, green, _, alpha = image.getpixel((side // 2, side // 2))
        assert 120 <= alpha <= 136 and red > 180 and green < 50  # half-transparent red, as uploaded
    assert (await api.get(f"/api/v1/companies/{company['id']}/logo")).json()["id"] == logo["id"]


async def test_jpeg_is_turned_upright_and_loses_its_exif_and_gps(api, company):
    original = jpeg_with_gps((400, 200), orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the fixture does carry GPS
    r = await post_image(api, company, original, alt_text="  Our   Hobart office  ")
    assert r.status_code == 201, r.text
    image = r.json()
    assert (image["width"], image["height"]) == (200, 400)  # rotated by its EXIF orientation
    assert image["alt_text"] == "Our Hobart office"
    for name in ("480", "1024", "1600"):
        rendition = image["renditions"][name]
        assert (rendition["width"], rendition["height"]) == (200, 400)  # never upscaled
        body = (await api.get(rendition["url"])).content
        served = Image.open(io.BytesIO(body))
        assert served.size == (200, 400)
        assert not served.getexif() and "exif" not in served.info
        assert b"Exif" not in body and b"SnoopCam" not in body


async def test_jpeg_logo_is_padded_white(api, company):
    r = await put_logo(api, company, picture("JPEG", (100, 50)), filename="logo.jpg")
    assert r.status_code == 200, r.text
    image = await fetch(api, r.json()["renditions"]["128"]["url"])
    assert image.size == (128, 128)
    assert image.convert("RGB").getpixel((0, 0)) == (255, 255, 255)


async def test_webp_image_gets_the_three_widths(api, company):
    r = await post_image(api, company, picture("WEBP", (2000, 1000)), filename="team.webp")
    assert r.status_code == 201, r.text
    sizes = {name: (x["width"], x["height"]) for name, x in r.json()["renditions"].items()}
    assert sizes == {"480": (480, 240), "1024": (1024, 512), "1600": (1600, 800)}
    for name, (width, height) in sizes.items():
        assert (await fetch(api, r.json()["renditions"][name]["url"])).size == (width, height)


async def test_an_animated_picture_keeps_its_first_frame(api, company):
    r = await put_logo(api, company, animated_png())
    assert r.status_code == 200, r.text
    image = await fetch(api, r.json()["renditions"]["64"]["url"])
    assert getattr(image, "n_frames", 1) == 1
    red, _, blue = image.convert("RGB").getpixel((32, 32))
    assert red > 200 and blue < 50


async def test_the_file_name_and_declared_type_do_not_matter(api, company):
    r = await post_image(api, company, picture("PNG", (500, 250)), filename="notes.txt")
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------- refused


HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.parametrize(
    "name,data",
    [
        ("text", b"just some words, not a picture\n"),
        ("html renamed .jpg", HTML),
        ("pdf", PDF),
        ("svg", SVG),
        ("gif", picture("GIF", (40, 40))),
        ("truncated png", noise_png()[:4000]),
        ("png with a bad checksum", picture("PNG", (30, 30))[:-9] + b"\0\0\0\0" + b"IEND\xaeB`\x82"),
        ("truncated jpeg", jpeg_with_gps()[:1500]),
        ("empty", b""),
    ],
)
async def test_what_is_not_a_whole_jpeg_png_or_webp_is_415_and_not_stored(api, company, name, data):
    for response in (
        await post_image(api, company, data, filename="photo.jpg"),
        await put_logo(api, company, data, filename="logo.jpg", content_type="image/jpeg"),
    ):
        is_problem(response, 415, "unsupported-media-type")
    assert await stored_media(api) == 0
    assert (await api.get(f"/api/v1/companies/{company['id']}/images")).json()["items"] == []


async def test_too_large_is_413_and_not_stored(api, company):
    big = noise_png() + b"\0" * MAX_BYTES  # a real PNG, followed by padding past the limit
    is_problem(await put_logo(api, company, big), 413, "file-too-large")
    is_problem(await post_image(api, company, big), 413, "file-too-large")
    assert await stored_media(api) == 0


async def test_reading_stops_past_the_limit_without_a_content_length(api, company):
    """A chunked body (no Content-Length) is read only until the file passes the limit."""
    boundary = "upload-boundary"
    chunk = b"\0" * 16 * 1024
    total_chunks = 4 * MAX_BYTES // len(chunk)
    sent = 0

    async def body():
        nonlocal sent
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        for _ in range(total_chunks):
            sent += 1
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {**employer(api, company["owner"]), "Content-Type": f"multipart/form-data; boundary={boundary}"}
    r = await api.put(f"/api/v1/companies/{company['id']}/logo", content=body(), headers=headers)
    is_problem(r, 413, "file-too-large")
    assert sent <= MAX_BYTES // len(chunk) + 2 < total_chunks
    assert await stored_media(api) == 0


async def test_too_many_pixels_is_422_before_decoding(api, company):
    # 2001 x 2000 just passes the limit; it is a real, small PNG
    is_problem(await post_image(api, company, picture("PNG", (2001, 2000))), 422, "image-too-many-pixels")
    # a header that claims 60000 x 60000 (a decompression bomb) is refused from the header alone
    is_problem(await put_logo(api, company, png_header_only(60000, 60000)), 422, "image-too-many-pixels")
    assert await stored_media(api) == 0
    ok = await post_image(api, company, picture("PNG", (2000, 2000)))
    assert ok.status_code == 201, ok.text


async def test_the_upload_must_be_a_multipart_file_field(api, company):
    owner = employer(api, company["owner"])
    url = f"/api/v1/companies/{company['id']}/images"
    missing = await api.post(url, data={"alt_text": "no file"}, headers=owner)
    assert any(e["field"] == "file" for e in is_problem(missing, 422)["errors"])
    raw = await api.post(url, content=picture("PNG"), headers={**owner, "Content-Type": "image/png"})
    is_problem(raw, 422, "validation-error")
    extra = await post_image(api, company, picture("PNG"), caption="unknown field")
    assert any(e["field"] == "caption" for e in is_problem(extra, 422)["errors"])
    long_alt = await post_image(api, company, picture("PNG"), alt_text="x" * 201)
    assert any(e["field"] == "alt_text" for e in is_problem(long_alt, 422)["errors"])
    assert await stored_media(api) == 0


# ---------------------------------------------------------------- who may


async def with_recruiter(api, company):
    recruiter = uuid.uuid4()
    invite = await api.post(
        f"/api/v1/companies/{company['id']}/invitations",
        json={"email": "recruiter@example.com"},
        headers=employer(api, company["owner"]),
    )
    assert invite.status_code == 201, invite.text
    accepted = await api.post(
        f"/api/v1/companies/invitations/{invite.json()['token']}/accept", headers=employer(api, recruiter)
    )
    assert accepted.status_code == 200, accepted.text
    return recruiter


async def test_permission_matrix_for_changing_media(api, company):
    recruiter = await with_recruiter(api, company)
    who = {
        "owner": (employer(api, company["owner"]), 200),
        "recruiter": (employer(api, recruiter), 200),
        "admin": (api.tokens.headers(uuid.uuid4(), roles=["admin"], email_verified=True), 200),
        "other employer": (employer(api), 403),
        "job seeker": (api.tokens.headers(uuid.uuid4(), roles=["job_seeker"], email_verified=True), 403),
        "anonymous": ({}, 401),
    }
    logo = picture("PNG", (64, 64))
    for name, (headers, status) in who.items():
        r = await put_logo(api, company, logo, headers=headers)
        assert r.status_code == status, (name, r.text)
        r = await post_image(api, company, logo, headers=headers)
        assert r.status_code == (201 if status == 200 else status), (name, r.text)
        if status != 200:
            assert r.headers["content-type"].startswith("application/problem+json")
    images = (await api.get(f"/api/v1/companies/{company['id']}/images")).json()["items"]
    assert len(images) == 3  # owner, recruiter and admin; nobody else stored anything
    for name, (headers, status) in who.items():
        if status == 200:
            continue
        r = await api.delete(f"/api/v1/companies/{company['id']}/images/{images[0]['id']}", headers=headers)
        assert r.status_code == status, (name, r.text)
        r = await api.delete(f"/api/v1/companies/{company['id']}/logo", headers=headers)
        assert r.status_code == status, (name, r.text)
    assert len((await api.get(f"/api/v1/companies/{company['id']}/images")).json()["items"]) == 3
    for (headers, _), image in zip((who["owner"], who["recruiter"], who["admin"]), images, strict=True):
        r = await api.delete(f"/api/v1/companies/{company['id']}/images/{image['id']}", headers=headers)
        assert r.status_code == 204, r.text
    assert (
        await api.delete(f"/api/v1/companies/{company['id']}/logo", headers=who["admin"][0])
    ).status_code == 204
    assert await stored_media(api) == 0


async def test_unknown_company_is_404_before_the_body_is_read(api):
    r = await put_logo(api, {"id": str(uuid.uuid4()), "owner": uuid.uuid4()}, picture("PNG"))
    is_problem(r, 404, "company-not-found")


# ---------------------------------------------------------------- lifecycle and serving


async def test_replacing_the_logo_retires_the_old_urls(api, company):
    first = (await put_logo(api, company, picture("PNG", (80, 80), color=(255, 0, 0)))).json()
    second = (await put_logo(api, company, picture("PNG", (80, 80), color=(0, 0, 255)))).json()
    assert first["id"] != second["id"]
    assert (await api.get(first["renditions"]["64"]["url"])).status_code == 404
    assert (await api.get(second["renditions"]["64"]["url"])).status_code == 200
    async with api.app.state.runtime.db.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(CompanyMedia)) == 1
    assert (
        await api.delete(f"/api/v1/companies/{company['id']}/logo", headers=employer(api, company["owner"]))
    ).status_code == 204
    is_problem(await api.get(f"/api/v1/companies/{company['id']}/logo"), 404, "logo-not-found")
    is_problem(
        await api.delete(f"/api/v1/companies/{company['id']}/logo", headers=employer(api, company["owner"])),
        404,
        "logo-not-found",
    )


async def test_renditions_are_public_immutable_and_revalidate_with_etag(api, company):
    image = (await post_image(api, company, picture("JPEG", (600, 300)))).json()
    url = image["renditions"]["480"]["url"]
    r = await api.get(url)
    assert r.status_code == 200
    assert r.headers["etag"] == f'"{hashlib.sha256(r.content).hexdigest()}"'
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"] == f'inline; filename="company-{image["id"]}-480.webp"'
    assert int(r.headers["content-length"]) == image["renditions"]["480"]["size"] == len(r.content)
    again = await api.get(url, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == r.headers["etag"]
    stale = await api.get(url, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.content == r.content
    is_problem(await api.get(url.replace("/480", "/999")), 404, "media-not-found")
    other = (await api.post("/api/v1/companies", json=COMPANY, headers=employer(api))).json()
    is_problem(await api.get(url.replace(company["id"], other["id"])), 404, "media-not-found")


async def test_image_limit_and_listing(api, company):
    ids = []
    for n in range(MAX_IMAGES):
        r = await post_image(api, company, picture("PNG", (50 + n, 50)), alt_text=f"Image {n}")
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    before = await stored_media(api)
    is_problem(await post_image(api, company, picture("PNG")), 409, "image-limit-reached")
    assert await stored_media(api) == before
    listed = (await api.get(f"/api/v1/companies/{company['id']}/images")).json()
    assert [i["id"] for i in listed["items"]] == ids and listed["next_cursor"] is None
    assert [i["alt_text"] for i in listed["items"]] == ["Image 0", "Image 1", "Image 2"]
    assert listed["items"][0]["renditions"]["480"]["width"] == 50
    owner = employer(api, company["owner"])
    assert (
        await api.delete(f"/api/v1/companies/{company['id']}/images/{ids[0]}", headers=owner)
    ).status_code == 204
    is_problem(
        await api.delete(f"/api/v1/companies/{company['id']}/images/{ids[0]}", headers=owner),
        404,
        "image-not-found",
    )
    assert (await post_image(api, company, picture("PNG"))).status_code == 201


async def test_an_idempotency_key_adds_the_image_once(api, company):
    headers = {**employer(api, company["owner"]), "Idempotency-Key": "gallery-1"}
    data = picture("PNG", (90, 60))
    first = await post_image(api, company, data, headers=headers)
    second = await post_image(api, company, data, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert len((await api.get(f"/api/v1/companies/{company['id']}/images")).json()["items"]) == 1


async def test_the_profile_shows_the_current_logo(api, company):
    url = f"/api/v1/companies/{company['id']}"
    assert (await api.get(url)).json()["logo"] is None
    logo = (await put_logo(api, company, picture("PNG", (64, 64)))).json()
    expected = {n: logo["renditions"][n]["url"] for n in ("64", "128", "256")}
    profile = (await api.get(url)).json()
    assert profile["logo"] == expected and list(profile["logo"]) == ["64", "128", "256"]
    listed = (await api.get("/api/v1/companies")).json()["items"]
    assert [c["logo"] for c in listed if c["id"] == company["id"]] == [expected]
    replaced = (await put_logo(api, company, picture("PNG", (80, 80)))).json()
    assert (await api.get(url)).json()["logo"]["64"] == replaced["renditions"]["64"]["url"] != expected["64"]
    assert (await api.delete(f"{url}/logo", headers=employer(api, company["owner"]))).status_code == 204
    assert (await api.get(url)).json()["logo"] is None
