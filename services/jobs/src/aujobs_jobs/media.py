"""Company logos and gallery images: decoding and checking uploads from their bytes,
computing renditions, storing and serving them.

Decisions (see the report to the lead and the API summaries):

* Accepted: JPEG, PNG and WebP, identified by Pillow from the bytes only; the client's
  filename and content type are ignored. Anything else, or a file that does not decode
  completely (truncated, corrupt), is 415 ``unsupported-media-type``.
* Animated PNG/WebP are accepted and only their first frame is kept.
* More than ``media_max_pixels`` pixels is 422 ``image-too-many-pixels`` — checked from
  the header, before anything is decompressed.
* Every rendition is re-encoded as WebP (quality 82; alpha kept), which drops EXIF
  (GPS included), XMP and anything appended to the file. EXIF orientation is applied
  first and an embedded ICC profile is converted to sRGB.
* Logos: squares of 64, 128 and 256 px; the picture is scaled to fit (up or down) and
  centred, padded transparent (PNG/WebP sources) or white (JPEG sources, which have no
  transparency). Images: widths 480, 1024 and 1600 px, never upscaled (a narrower
  upload keeps its width under every name), height in proportion.
* Functions take ``session``, never commit; the decoding is CPU-bound and synchronous
  (``process_image``) so the API runs it in a thread.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import sqlalchemy as sa
from PIL import Image, ImageCms, ImageOps
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.errors import ProblemError
from aujobs_common.ids import uuid7

from . import companies
from .media_models import CompanyMedia, MediaRendition
from .models import Company

MediaKind = Literal["logo", "image"]

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
LOGO_SIZES = (64, 128, 256)
IMAGE_WIDTHS = (480, 1024, 1600)
WEBP_QUALITY = 82
# libwebp cannot encode a side longer than this
WEBP_MAX_SIDE = 16383
RENDITION_TYPE = "image/webp"
ALT_TEXT_MAX = 200


# ---------------------------------------------------------------- decoding and renditions


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int
    height: int
    content: bytes
    content_type: str = RENDITION_TYPE

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class ProcessedImage:
    source_format: str
    width: int
    height: int
    source_bytes: int
    renditions: tuple[Rendition, ...]


def unsupported() -> ProblemError:
    return ProblemError(
        415,
        "The file is not a JPEG, PNG or WebP image that can be read in full.",
        type_="unsupported-media-type",
    )


def _too_many_pixels(width: int, height: int, max_pixels: int) -> ProblemError:
    return ProblemError(
        422,
        f"The image is {width}x{height} pixels; at most {max_pixels:,} pixels are accepted.",
        type_="image-too-many-pixels",
    )


def _decode(data: bytes, max_pixels: int) -> tuple[str, Image.Image]:
    """The first frame, upright, fully decoded. The pixel count is checked from the
    header before any pixel data is decompressed, and ``verify`` catches bad PNG
    checksums that a lenient decoder would skip."""
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as probe:
            width, height = probe.size
            if width * height > max_pixels:
                raise _too_many_pixels(width, height, max_pixels)
            probe.verify()
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
            source_format = image.format or ""
            image.seek(0)
            image.load()
            upright = ImageOps.exif_transpose(image)
            return source_format, _to_srgb(upright, image.info.get("icc_profile"))
    except ProblemError:
        raise
    except Image.DecompressionBombError as exc:
        raise ProblemError(
            422, "The image has too many pixels to be processed.", type_="image-too-many-pixels"
        ) from exc
    except Exception as exc:
        # Untrusted bytes reach a decoder: whatever it trips on means "not an image we take".
        raise unsupported() from exc


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB or RGBA pixels in sRGB: browsers assume sRGB once the profile is gone."""
    mode = "RGBA" if _has_alpha(image) else "RGB"
    if image.mode.startswith("I"):  # 16-bit greyscale PNG: scale down, do not clip
        image = image.convert("I").point(lambda value: value / 257, "L")
    if icc_profile and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            srgb = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(image, source, srgb, outputMode=mode)
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: keep the pixels as they are
    return image if image.mode == mode else image.convert(mode)


def _encode(image: Image.Image) -> bytes:
    image.info.clear()  # nothing from the source's metadata travels into the output
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
    return buffer.getvalue()


def _scaled(width: int, height: int, scale: float) -> tuple[int, int]:
    return max(1, round(width * scale)), max(1, round(height * scale))


def _logo_renditions(image: Image.Image, *, pad_transparent: bool) -> tuple[Rendition, ...]:
    out = []
    for side in LOGO_SIZES:
        size = _scaled(image.width, image.height, min(side / image.width, side / image.height))
        fitted = image.resize(size, Image.Resampling.LANCZOS)
        if pad_transparent:
            canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
            fitted = fitted.convert("RGBA")
        else:
            canvas = Image.new("RGB", (side, side), (255, 255, 255))
        offset = ((side - size[0]) // 2, (side - size[1]) // 2)
        canvas.paste(fitted, offset)  # a plain copy: the canvas is empty, nothing to blend with
        out.append(Rendition(name=str(side), width=side, height=side, content=_encode(canvas)))
    return tuple(out)


def _image_renditions(image: Image.Image) -> tuple[Rendition, ...]:
    out = []
    for target in IMAGE_WIDTHS:
        scale = min(1.0, target / image.width, WEBP_MAX_SIDE / image.height)
        size = _scaled(image.width, image.height, scale)
        resized = image.resize(size, Image.Resampling.LANCZOS) if size != image.size else image.copy()
        out.append(Rendition(name=str(target), width=size[0], height=size[1], content=_encode(resized)))
    return tuple(out)


def process_image(data: bytes, *, kind: MediaKind, max_pixels: int) -> ProcessedImage:
    """Check an upload from its bytes and compute its renditions (CPU-bound: run it in
    a thread). Raises 415/422 problems for what cannot be accepted."""
    source_format, image = _decode(data, max_pixels)
    if kind == "logo":
        renditions = _logo_renditions(image, pad_transparent=source_format != "JPEG")
    else:
        renditions = _image_renditions(image)
    return ProcessedImage(
        source_format=source_format,
        width=image.width,
        height=image.height,
        source_bytes=len(data),
        renditions=renditions,
    )


# ---------------------------------------------------------------- output


class RenditionOut(BaseModel):
    url: str
    width: int
    height: int
    content_type: str
    size: int


class MediaOut(BaseModel):
    id: uuid.UUID
    company_id: uuid.UUID
    kind: MediaKind
    alt_text: str | None
    #: the upright size of the upload
    width: int
    height: int
    #: rendition name ("64"/"128"/"256" for logos, "480"/"1024"/"1600" for images) → where to get it
    renditions: dict[str, RenditionOut]
    created_at: datetime


def rendition_url(company_id: uuid.UUID, media_id: uuid.UUID, name: str) -> str:
    return f"/api/v1/companies/{company_id}/media/{media_id}/{name}"


def _sort_key(name: str) -> int:
    return int(name) if name.isdigit() else 0


def media_out(media: CompanyMedia, renditions: list[MediaRendition]) -> MediaOut:
    return MediaOut(
        id=media.id,
        company_id=media.company_id,
        kind=media.kind,  # type: ignore[arg-type]
        alt_text=media.alt_text,
        width=media.width,
        height=media.height,
        renditions={
            r.name: RenditionOut(
                url=rendition_url(media.company_id, media.id, r.name),
                width=r.width,
                height=r.height,
                content_type=r.content_type,
                size=r.size,
            )
            for r in sorted(renditions, key=lambda r: _sort_key(r.name))
        },
        created_at=media.created_at,
    )


# ---------------------------------------------------------------- storage


def clean_alt_text(value: str | None) -> str | None:
    """Trimmed alt text, ``None`` when blank; the caller reports a 422 when too long."""
    value = " ".join(value.split()) if value else ""
    return value or None


async def _insert(
    *,
    session: AsyncSession,
    company_id: uuid.UUID,
    kind: MediaKind,
    processed: ProcessedImage,
    alt_text: str | None,
    created_by: uuid.UUID,
    now: datetime,
) -> MediaOut:
    media = CompanyMedia(
        id=uuid7(),
        company_id=company_id,
        kind=kind,
        alt_text=alt_text,
        width=processed.width,
        height=processed.height,
        source_format=processed.source_format,
        source_bytes=processed.source_bytes,
        created_by=created_by,
        created_at=now,
    )
    session.add(media)
    await session.flush()
    rows = [
        MediaRendition(
            media_id=media.id,
            name=r.name,
            content_type=r.content_type,
            width=r.width,
            height=r.height,
            size=len(r.content),
            sha256=r.sha256,
            content=r.content,
        )
        for r in processed.renditions
    ]
    session.add_all(rows)
    await session.flush()
    return media_out(media, rows)


async def _lock_company(session: AsyncSession, company_id: uuid.UUID) -> None:
    """Serialises uploads per company so the one-logo rule and the image limit hold
    under concurrent requests."""
    await companies.get_company(session=session, company_id=company_id, for_update=True)


async def replace_logo(
    *,
    session: AsyncSession,
    company_id: uuid.UUID,
    processed: ProcessedImage,
    created_by: uuid.UUID,
    now: datetime | None = None,
) -> MediaOut:
    """Store a new logo; the previous one (and its URLs) is gone."""
    await _lock_company(session, company_id)
    await session.execute(
        sa.delete(CompanyMedia).where(CompanyMedia.company_id == company_id, CompanyMedia.kind == "logo")
    )
    logo = await _insert(
        session=session,
        company_id=company_id,
        kind="logo",
        processed=processed,
        alt_text=None,
        created_by=created_by,
        now=now or datetime.now(UTC),
    )
    await session.execute(sa.update(Company).where(Company.id == company_id).values(logo_media_id=logo.id))
    return logo


async def add_image(
    *,
    session: AsyncSession,
    company_id: uuid.UUID,
    processed: ProcessedImage,
    alt_text: str | None,
    created_by: uuid.UUID,
    max_images: int,
    now: datetime | None = None,
) -> MediaOut:
    await _lock_company(session, company_id)
    count = await session.scalar(
        sa.select(sa.func.count())
        .select_from(CompanyMedia)
        .where(CompanyMedia.company_id == company_id, CompanyMedia.kind == "image")
    )
    if (count or 0) >= max_images:
        raise ProblemError(
            409,
            f"A company can have at most {max_images} images; delete one first.",
            type_="image-limit-reached",
        )
    return await _insert(
        session=session,
        company_id=company_id,
        kind="image",
        processed=processed,
        alt_text=alt_text,
        created_by=created_by,
        now=now or datetime.now(UTC),
    )


async def _with_renditions(session: AsyncSession, rows: list[CompanyMedia]) -> list[MediaOut]:
    if not rows:
        return []
    renditions = (
        await session.scalars(
            sa.select(MediaRendition).where(MediaRendition.media_id.in_([m.id for m in rows]))
        )
    ).all()
    by_media: dict[uuid.UUID, list[MediaRendition]] = {}
    for r in renditions:
        by_media.setdefault(r.media_id, []).append(r)
    return [media_out(m, by_media.get(m.id, [])) for m in rows]


async def list_images(*, session: AsyncSession, company_id: uuid.UUID) -> list[MediaOut]:
    """Every gallery image in upload order (bounded by ``company_images_max``)."""
    rows = (
        await session.scalars(
            sa.select(CompanyMedia)
            .where(CompanyMedia.company_id == company_id, CompanyMedia.kind == "image")
            .order_by(CompanyMedia.id)
        )
    ).all()
    return await _with_renditions(session, list(rows))


async def get_logo(*, session: AsyncSession, company_id: uuid.UUID) -> MediaOut:
    logo = await session.scalar(
        sa.select(CompanyMedia).where(CompanyMedia.company_id == company_id, CompanyMedia.kind == "logo")
    )
    if logo is None:
        raise ProblemError(404, "This company has no logo.", type_="logo-not-found")
    return (await _with_renditions(session, [logo]))[0]


async def delete_media(
    *, session: AsyncSession, company_id: uuid.UUID, kind: MediaKind, media_id: uuid.UUID | None = None
) -> None:
    """Delete the logo (``media_id`` None) or one image; 404 when there is none."""
    query = sa.delete(CompanyMedia).where(CompanyMedia.company_id == company_id, CompanyMedia.kind == kind)
    if media_id is not None:
        query = query.where(CompanyMedia.id == media_id)
    deleted = await session.execute(query.returning(CompanyMedia.id))
    if deleted.first() is None:
        what = "logo" if kind == "logo" else "image"
        raise ProblemError(404, f"No such {what}.", type_=f"{what}-not-found")
    if kind == "logo":
        await session.execute(sa.update(Company).where(Company.id == company_id).values(logo_media_id=None))


async def get_rendition(
    *, session: AsyncSession, company_id: uuid.UUID, media_id: uuid.UUID, name: str
) -> MediaRendition:
    """A rendition's metadata (not its bytes: a 304 needs only the hash)."""
    rendition = await session.scalar(
        sa.select(MediaRendition)
        .join(CompanyMedia, CompanyMedia.id == MediaRendition.media_id)
        .where(
            CompanyMedia.company_id == company_id,
            MediaRendition.media_id == media_id,
            MediaRendition.name == name,
        )
    )
    if rendition is None:
        raise ProblemError(404, "No such picture.", type_="media-not-found")
    return rendition


async def rendition_content(*, session: AsyncSession, rendition: MediaRendition) -> bytes:
    content = await session.scalar(
        sa.select(MediaRendition.content).where(
            MediaRendition.media_id == rendition.media_id, MediaRendition.name == rendition.name
        )
    )
    if content is None:  # deleted between the two reads
        raise ProblemError(404, "No such picture.", type_="media-not-found")
    return content


def logo_urls(company: Company) -> dict[str, str] | None:
    """The company's logo renditions (size in px → URL path), or None without a logo."""
    if company.logo_media_id is None:
        return None
    return {str(side): rendition_url(company.id, company.logo_media_id, str(side)) for side in LOGO_SIZES}
