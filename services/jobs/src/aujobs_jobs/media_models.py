"""Company logos and gallery images, stored in the jobs database (DESIGN.md §6: the
default file storage is the owning service's PostgreSQL). Only re-encoded renditions
are kept, never the uploaded bytes, so EXIF/GPS and anything smuggled in the original
cannot be served back."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from aujobs_common.ids import uuid7

from .models import JobsBase


class CompanyMedia(JobsBase):
    """One uploaded picture: a company's logo (at most one) or a gallery image."""

    __tablename__ = "company_media"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    company_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("companies.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(sa.Text)  # logo | image
    alt_text: Mapped[str | None] = mapped_column(sa.Text)
    # the upright (EXIF-oriented) size of the upload and what it was, for the record
    width: Mapped[int] = mapped_column(sa.Integer)
    height: Mapped[int] = mapped_column(sa.Integer)
    source_format: Mapped[str] = mapped_column(sa.Text)
    source_bytes: Mapped[int] = mapped_column(sa.Integer)
    created_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())

    __table_args__ = (
        sa.CheckConstraint("kind IN ('logo','image')", name="ck_company_media_kind"),
        sa.Index("ix_company_media_company", "company_id", "kind", "id"),
        sa.Index(
            "uq_company_media_one_logo",
            "company_id",
            unique=True,
            postgresql_where=sa.text("kind = 'logo'"),
        ),
    )


class MediaRendition(JobsBase):
    """The bytes served for one size of a picture, computed once at upload."""

    __tablename__ = "company_media_renditions"

    media_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("company_media.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(sa.Text, primary_key=True)  # "64" … for logos, "480" … for images
    content_type: Mapped[str] = mapped_column(sa.Text)
    width: Mapped[int] = mapped_column(sa.Integer)
    height: Mapped[int] = mapped_column(sa.Integer)
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.Text)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
