"""Share links: a secret URL that lets anyone holding it read one version of a resume
(the file, or its structured data) until it expires or is revoked.

The token is 32 random bytes (``secrets.token_urlsafe``); only its SHA-256 is stored,
so the database cannot give working links away. Every way a token can fail — unknown,
malformed, expired, revoked, or its resume deleted — is the same 404, so a caller
learns nothing by probing."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.errors import ProblemError

from .models import Resume, ResumeVersion, ShareLink
from .schemas import ShareCreated, ShareOut

SHARED_PATH = "/api/v1/resumes/shared/"
#: on every answer of the public path: never cached by a shared cache, never indexed
PUBLIC_HEADERS = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex, nofollow"}
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,128}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_not_found() -> ProblemError:
    return ProblemError(
        404,
        "This link does not exist or is no longer valid.",
        type_="share-link-not-found",
        headers=PUBLIC_HEADERS,
    )


def share_out(link: ShareLink, now: datetime) -> ShareOut:
    return ShareOut(
        id=link.id,
        resume_id=link.resume_id,
        version_id=link.version_id,
        created_at=link.created_at,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        access_count=link.access_count,
        last_accessed_at=link.last_accessed_at,
        active=link.revoked_at is None and link.expires_at > now,
    )


async def create_share(
    *,
    session: AsyncSession,
    resume: Resume,
    version: ResumeVersion,
    days: int,
    now: datetime,
    max_links: int,
) -> ShareCreated:
    """A new link to ``version``; 409 ``share-limit-reached`` when the resume already
    has ``max_links`` live links."""
    live = await session.scalar(
        sa.select(sa.func.count()).where(
            ShareLink.resume_id == resume.id, ShareLink.revoked_at.is_(None), ShareLink.expires_at > now
        )
    )
    if (live or 0) >= max_links:
        raise ProblemError(
            409,
            f"A resume has at most {max_links} live share links; revoke one first.",
            type_="share-limit-reached",
        )
    token = secrets.token_urlsafe(32)
    link = ShareLink(
        resume_id=resume.id,
        version_id=version.id,
        owner_id=resume.owner_id,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + timedelta(days=days),
        access_count=0,
    )
    session.add(link)
    await session.flush()
    return ShareCreated(**share_out(link, now).model_dump(), url=SHARED_PATH + token, token=token)


async def list_shares(*, session: AsyncSession, resume: Resume) -> list[ShareLink]:
    return list(
        (
            await session.scalars(
                sa.select(ShareLink)
                .where(ShareLink.resume_id == resume.id)
                .order_by(ShareLink.created_at.desc(), ShareLink.id.desc())
            )
        ).all()
    )


async def revoke_share(*, session: AsyncSession, resume: Resume, share_id: uuid.UUID, now: datetime) -> None:
    link = await session.scalar(
        sa.select(ShareLink)
        .where(ShareLink.id == share_id, ShareLink.resume_id == resume.id)
        .with_for_update()
    )
    if link is None:
        raise ProblemError(404, "There is no such share link.", type_="share-not-found")
    if link.revoked_at is None:
        link.revoked_at = now
        await session.flush()


async def open_share(*, session: AsyncSession, token: str, now: datetime) -> ResumeVersion:
    """The version a live token points at, counting the access; the one 404 otherwise."""
    if not _TOKEN_SHAPE.fullmatch(token):
        raise link_not_found()
    version_id = await session.scalar(
        sa.update(ShareLink)
        .where(
            ShareLink.token_hash == token_hash(token),
            ShareLink.revoked_at.is_(None),
            ShareLink.expires_at > now,
        )
        .values(access_count=ShareLink.access_count + 1, last_accessed_at=now)
        .returning(ShareLink.version_id)
    )
    if version_id is None:
        raise link_not_found()
    version = await session.scalar(sa.select(ResumeVersion).where(ResumeVersion.id == version_id))
    if version is None:  # pragma: no cover - cascades with the version
        raise link_not_found()
    return version
