"""Resumes and their versions: who may see them, the per-user limits, the one primary
resume, tags, the stored files, and the ``resume.parsed`` event.

Functions take the caller's ``session`` (inside its transaction) and never commit.
Anyone but the owner gets 404 for a resume (admins may read): whether a resume exists
is itself private."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.blobs import PostgresBlobStore, StoredBlob
from aujobs_common.documents import DocumentKind
from aujobs_common.errors import FieldError, ProblemError
from aujobs_common.events import ResumeParsed
from aujobs_common.outbox import enqueue
from aujobs_common.pagination import PageParams, encode_cursor
from aujobs_common.security import Principal

from .document import ResumeDocument
from .models import (
    ParseJob,
    ParseJobStatus,
    ParseStatus,
    Resume,
    ResumeSource,
    ResumeVersion,
    blobs,
)
from .schemas import TAG_MAX_CHARS, TAGS_MAX, TITLE_MAX, ResumeDetail, ResumeOut, VersionDetail, VersionOut
from .settings import ResumesSettings
from .uploads import clean_text

SOURCE = "/services/resumes"
BLOBS = PostgresBlobStore(blobs)


def utcnow() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- input


def clean_title(title: str | None, *, field: str = "title") -> str | None:
    if title is None:
        return None
    cleaned = clean_text(title)
    if not cleaned or len(cleaned) > TITLE_MAX:
        raise ProblemError(
            422,
            f"A title is 1-{TITLE_MAX} characters.",
            type_="validation-error",
            errors=[FieldError(field=field, message=f"1-{TITLE_MAX} characters")],
        )
    return cleaned


def normalise_tags(tags: list[str] | None, *, field: str = "tags") -> list[str] | None:
    """Trimmed, lower-case, spaces collapsed, duplicates and blanks dropped, order kept;
    at most 10 tags of at most 30 characters (422 otherwise)."""
    if tags is None:
        return None
    out: list[str] = []
    for raw in tags:
        tag = clean_text(raw).lower()
        if not tag or tag in out:
            continue
        if len(tag) > TAG_MAX_CHARS:
            raise ProblemError(
                422,
                f"A tag is at most {TAG_MAX_CHARS} characters.",
                type_="validation-error",
                errors=[FieldError(field=field, message=f"{tag[:40]!r} is longer than {TAG_MAX_CHARS}")],
            )
        out.append(tag)
    if len(out) > TAGS_MAX:
        raise ProblemError(
            422,
            f"A resume has at most {TAGS_MAX} tags.",
            type_="validation-error",
            errors=[FieldError(field=field, message=f"at most {TAGS_MAX} tags")],
        )
    return out


def require_creator(principal: Principal) -> None:
    """Only job seekers with a verified email address keep resumes."""
    if not principal.has_role("job_seeker"):
        raise ProblemError(403, "Only job seekers keep resumes.", type_="forbidden")
    if not principal.email_verified:
        raise ProblemError(
            403, "Verify your email address before adding resumes.", type_="email-not-verified"
        )


# ---------------------------------------------------------------- finding


def not_found() -> ProblemError:
    return ProblemError(404, "There is no such resume.", type_="resume-not-found")


def version_not_found() -> ProblemError:
    return ProblemError(404, "There is no such version of this resume.", type_="version-not-found")


async def lock_owner(session: AsyncSession, owner_id: uuid.UUID) -> None:
    """Serialises one user's creates, deletes and primary changes (limits and the one
    primary are counted and kept under this lock), until the transaction ends."""
    await session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(str(owner_id), 0)))
    )


async def get_resume(
    *,
    session: AsyncSession,
    resume_id: uuid.UUID,
    principal: Principal,
    allow_admin: bool = False,
    for_update: bool = False,
) -> Resume:
    """The caller's resume (or any, for an admin when ``allow_admin``: reads only); 404
    for anything else, whether it exists or not."""
    query = sa.select(Resume).where(Resume.id == resume_id)
    if not (allow_admin and principal.is_admin):
        query = query.where(Resume.owner_id == principal.user_id)
    if for_update:
        query = query.with_for_update()
    resume = await session.scalar(query)
    if resume is None:
        raise not_found()
    return resume


async def get_version(*, session: AsyncSession, resume: Resume, version_id: uuid.UUID) -> ResumeVersion:
    version = await session.scalar(
        sa.select(ResumeVersion).where(ResumeVersion.id == version_id, ResumeVersion.resume_id == resume.id)
    )
    if version is None:
        raise version_not_found()
    return version


async def latest_version(*, session: AsyncSession, resume: Resume) -> ResumeVersion:
    version = await session.scalar(
        sa.select(ResumeVersion)
        .where(ResumeVersion.resume_id == resume.id)
        .order_by(ResumeVersion.number.desc())
        .limit(1)
    )
    if version is None:  # cannot happen: a resume is created with its first version
        raise version_not_found()
    return version


async def list_resumes(
    *, session: AsyncSession, owner_id: uuid.UUID, page: PageParams, tags: list[str] | None = None
) -> tuple[list[Resume], str | None]:
    """A user's resumes, newest first (keyset on created_at, id); with ``tags``, only
    those carrying every one of them."""
    query = sa.select(Resume).where(Resume.owner_id == owner_id)
    if tags:
        query = query.where(Resume.tags.contains(tags))
    if page.cursor is not None:
        try:
            after = (datetime.fromisoformat(str(page.cursor["t"])), uuid.UUID(str(page.cursor["id"])))
        except (KeyError, ValueError) as exc:
            raise ProblemError(
                400, "The cursor is not valid; use next_cursor from a previous page.", type_="invalid-cursor"
            ) from exc
        query = query.where(
            sa.tuple_(Resume.created_at, Resume.id) < sa.tuple_(sa.literal(after[0]), sa.literal(after[1]))
        )
    query = query.order_by(Resume.created_at.desc(), Resume.id.desc()).limit(page.limit + 1)
    rows = list((await session.scalars(query)).all())
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    last = rows[-1]
    return rows, encode_cursor({"t": last.created_at.isoformat(), "id": str(last.id)})


# ---------------------------------------------------------------- presenting


def version_out(version: ResumeVersion) -> VersionOut:
    return VersionOut(
        id=version.id,
        resume_id=version.resume_id,
        owner_id=version.owner_id,
        number=version.number,
        filename=version.filename,
        content_type=version.content_type,
        size_bytes=version.size_bytes,
        sha256=version.sha256,
        created_at=version.created_at,
        parse_status=version.parse_status,  # type: ignore[arg-type]
        parse_error=version.parse_error,
        origin=version.origin,  # type: ignore[arg-type]
        template=version.template,
    )


def version_detail(version: ResumeVersion) -> VersionDetail:
    parsed = (
        ResumeDocument.model_validate(version.document)
        if version.document is not None and version.parse_status == ParseStatus.parsed.value
        else None
    )
    return VersionDetail(**version_out(version).model_dump(), parsed=parsed, parsed_at=version.parsed_at)


async def present(session: AsyncSession, resumes: list[Resume]) -> list[ResumeOut]:
    """Resumes with their latest version and version count (two queries for a page)."""
    if not resumes:
        return []
    ids = [r.id for r in resumes]
    latest = {
        v.resume_id: v
        for v in (
            await session.scalars(
                sa.select(ResumeVersion)
                .where(ResumeVersion.resume_id.in_(ids))
                .ext(distinct_on(ResumeVersion.resume_id))
                .order_by(ResumeVersion.resume_id, ResumeVersion.number.desc())
            )
        ).all()
    }
    counts = dict(
        (
            await session.execute(
                sa.select(ResumeVersion.resume_id, sa.func.count())
                .where(ResumeVersion.resume_id.in_(ids))
                .group_by(ResumeVersion.resume_id)
            )
        ).all()
    )
    return [
        ResumeOut(
            id=r.id,
            title=r.title,
            tags=list(r.tags or []),
            is_primary=r.is_primary,
            source=r.source,  # type: ignore[arg-type]
            template=r.template,
            version_count=int(counts.get(r.id, 0)),
            latest_version=version_out(latest[r.id]) if r.id in latest else None,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in resumes
    ]


async def resume_detail(session: AsyncSession, resume: Resume) -> ResumeDetail:
    (out,) = await present(session, [resume])
    versions = (
        await session.scalars(
            sa.select(ResumeVersion)
            .where(ResumeVersion.resume_id == resume.id)
            .order_by(ResumeVersion.number.desc())
        )
    ).all()
    return ResumeDetail(**out.model_dump(), versions=[version_out(v) for v in versions])


# ---------------------------------------------------------------- files


async def store_blob(session: AsyncSession, data: bytes) -> StoredBlob:
    """Stores the bytes (once per content) and holds a KEY SHARE lock on the blob row
    until commit, so a concurrent delete of the last other version using the same bytes
    cannot remove them from under this one (see :func:`release_blobs`)."""
    for _ in range(5):
        stored = await BLOBS.put(session, data)
        held = await session.scalar(
            sa.select(blobs.c.sha256).where(blobs.c.sha256 == stored.sha256).with_for_update(key_share=True)
        )
        if held is not None:
            return stored
        # deleted by a concurrent transaction between our insert and lock: store again
    raise RuntimeError("could not store the file")  # pragma: no cover


async def release_blobs(session: AsyncSession, sha256s: set[str]) -> None:
    """After versions are deleted: remove the bytes no version refers to any more. The
    blob row is locked first, so the "still used" check sees any upload of the same
    bytes that was racing with us once it has committed."""
    for digest in sorted(sha256s):
        locked = await session.scalar(
            sa.select(blobs.c.sha256).where(blobs.c.sha256 == digest).with_for_update()
        )
        if locked is None:
            continue
        still_used = await session.scalar(sa.select(sa.exists().where(ResumeVersion.sha256 == digest)))
        await BLOBS.delete_unreferenced(session, digest, still_used=bool(still_used))


async def read_file(session: AsyncSession, version: ResumeVersion) -> bytes:
    data = await BLOBS.get(session, version.sha256)
    if data is None:  # pragma: no cover - the blob goes only with its last version
        raise version_not_found()
    return data


# ---------------------------------------------------------------- writing


async def create_resume(
    *,
    session: AsyncSession,
    owner_id: uuid.UUID,
    title: str,
    tags: list[str],
    source: ResumeSource,
    template: str | None,
    now: datetime,
    max_resumes: int,
) -> Resume:
    """A new resume (without versions yet); the user's first (or any, while none is
    primary) is their primary. 409 ``resume-limit-reached`` beyond ``max_resumes``."""
    await lock_owner(session, owner_id)
    count = await session.scalar(sa.select(sa.func.count()).where(Resume.owner_id == owner_id)) or 0
    if count >= max_resumes:
        raise ProblemError(
            409,
            f"You can keep at most {max_resumes} resumes; delete one to add another.",
            type_="resume-limit-reached",
        )
    has_primary = count > 0 and await session.scalar(
        sa.select(sa.exists().where(Resume.owner_id == owner_id, Resume.is_primary.is_(True)))
    )
    resume = Resume(
        owner_id=owner_id,
        title=title,
        tags=tags,
        is_primary=not has_primary,
        source=source.value,
        template=template,
        last_version_number=0,
        created_at=now,
        updated_at=now,
    )
    session.add(resume)
    await session.flush()
    return resume


async def create_with_version(
    *,
    session: AsyncSession,
    owner_id: uuid.UUID,
    title: str,
    tags: list[str],
    source: ResumeSource,
    data: bytes,
    kind: DocumentKind,
    filename: str,
    now: datetime,
    settings: ResumesSettings,
    document: ResumeDocument | None = None,
    template: str | None = None,
) -> Resume:
    """A new resume with its first version (an upload, or a generated one with its
    ``document`` and ``template``), within the user's limits."""
    resume = await create_resume(
        session=session,
        owner_id=owner_id,
        title=title,
        tags=tags,
        source=source,
        template=template,
        now=now,
        max_resumes=settings.resumes_per_user_max,
    )
    await add_version(
        session=session,
        resume=resume,
        data=data,
        kind=kind,
        filename=filename,
        now=now,
        max_versions=settings.versions_per_resume_max,
        document=document,
        template=template,
    )
    return resume


async def add_version(
    *,
    session: AsyncSession,
    resume: Resume,
    data: bytes,
    kind: DocumentKind,
    filename: str,
    now: datetime,
    max_versions: int,
    document: ResumeDocument | None = None,
    template: str | None = None,
) -> ResumeVersion:
    """A new version of ``resume`` (locked by the caller or just created). An upload
    (``document`` None) gets a pending parse job; a generated version carries its
    document, is ``parsed`` at once and publishes ``resume.parsed``. 409
    ``version-limit-reached`` beyond ``max_versions``."""
    count = await session.scalar(sa.select(sa.func.count()).where(ResumeVersion.resume_id == resume.id)) or 0
    if count >= max_versions:
        raise ProblemError(
            409,
            f"A resume keeps at most {max_versions} versions; start a new resume instead.",
            type_="version-limit-reached",
        )
    stored = await store_blob(session, data)
    resume.last_version_number += 1
    resume.updated_at = now
    generated = document is not None
    version = ResumeVersion(
        resume_id=resume.id,
        owner_id=resume.owner_id,
        number=resume.last_version_number,
        filename=filename,
        kind=kind.value,
        content_type=kind.media_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        origin=(ResumeSource.builder if generated else ResumeSource.upload).value,
        template=template,
        parse_status=(ParseStatus.parsed if generated else ParseStatus.pending).value,
        document=document.model_dump(mode="json") if document is not None else None,
        parsed_at=now if generated else None,
        created_at=now,
    )
    session.add(version)
    await session.flush()
    if document is not None:
        await publish_parsed(session, version, document, now=now)
    else:
        session.add(ParseJob(version_id=version.id, status=ParseJobStatus.pending.value, next_attempt_at=now))
        await session.flush()
    return version


async def update_resume(
    *,
    session: AsyncSession,
    resume: Resume,
    title: str | None,
    tags: list[str] | None,
    is_primary: bool | None,
    now: datetime,
) -> None:
    """Callers changing ``is_primary`` must hold :func:`lock_owner` *before* they lock the
    resume row (``get_resume(for_update=True)``): this updates the other primary row too,
    so the reverse order deadlocks with a concurrent delete of that primary."""
    if is_primary is not None:
        await lock_owner(session, resume.owner_id)  # re-entrant: already held by the caller
        await session.refresh(resume)
        if is_primary and not resume.is_primary:
            await session.execute(
                sa.update(Resume)
                .where(Resume.owner_id == resume.owner_id, Resume.is_primary.is_(True))
                .values(is_primary=False, updated_at=now)
            )
            await session.flush()
            resume.is_primary = True
        elif not is_primary and resume.is_primary:
            raise ProblemError(
                422,
                "A user with resumes always has one primary resume: make another one primary instead.",
                type_="primary-resume-required",
                errors=[FieldError(field="is_primary", message="make another resume primary instead")],
            )
    if title is not None:
        resume.title = title
    if tags is not None:
        resume.tags = tags
    resume.updated_at = now
    await session.flush()


async def delete_resume(*, session: AsyncSession, resume: Resume, now: datetime) -> None:
    """The resume, its versions, parse jobs and share links (cascade), the bytes no
    other version uses; a deleted primary hands over to the newest other resume.

    The caller must take :func:`lock_owner` before locking the resume row (see
    :func:`update_resume`)."""
    await lock_owner(session, resume.owner_id)  # re-entrant: already held by the caller
    digests = set(
        (
            await session.scalars(sa.select(ResumeVersion.sha256).where(ResumeVersion.resume_id == resume.id))
        ).all()
    )
    was_primary = await session.scalar(sa.select(Resume.is_primary).where(Resume.id == resume.id))
    await session.execute(sa.delete(Resume).where(Resume.id == resume.id))
    session.expunge(resume)
    if was_primary:
        successor = await session.scalar(
            sa.select(Resume.id)
            .where(Resume.owner_id == resume.owner_id)
            .order_by(Resume.created_at.desc(), Resume.id.desc())
            .limit(1)
        )
        if successor is not None:
            await session.execute(
                sa.update(Resume).where(Resume.id == successor).values(is_primary=True, updated_at=now)
            )
    await release_blobs(session, digests)


# ---------------------------------------------------------------- resume.parsed


def _month_index(value: str | None) -> int | None:
    if not value:
        return None
    parts = value.strip().split("-")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else 1
    except ValueError:
        return None
    if not (1900 <= year <= 2200 and 1 <= month <= 12):
        return None
    return year * 12 + month - 1


def experience_years(document: ResumeDocument, now: datetime) -> float | None:
    """Whole years across the experience entries with dates, overlapping months
    counted once (None when no entry has usable dates)."""
    months: set[int] = set()
    current = now.year * 12 + now.month - 1
    for entry in document.experience:
        start = _month_index(entry.start)
        end = current if entry.current and not entry.end else _month_index(entry.end)
        if start is None or end is None or end < start:
            continue
        months.update(range(start, min(end, current) + 1))
    if not months:
        return None
    return float(len(months) // 12)


def job_titles(document: ResumeDocument) -> list[str]:
    seen: list[str] = []
    for entry in document.experience:
        title = (entry.title or "").strip()
        if title and title.casefold() not in {s.casefold() for s in seen}:
            seen.append(title[:200])
    return seen


async def publish_parsed(
    session: AsyncSession, version: ResumeVersion, document: ResumeDocument | None, *, now: datetime
) -> None:
    """``resume.parsed`` (or failed) in the caller's transaction: skills, titles and
    years for matching — never contact details or the text."""
    payload = ResumeParsed(
        resume_id=version.resume_id,
        version_id=version.id,
        owner_id=version.owner_id,
        status="parsed" if document is not None else "failed",
        skills=list(document.skills) if document is not None else [],
        job_titles=job_titles(document) if document is not None else [],
        experience_years=experience_years(document, now) if document is not None else None,
        parsed_at=now,
    )
    await enqueue(session, payload.to_event(source=SOURCE, subject=str(version.resume_id)))
