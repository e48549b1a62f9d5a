"""The resumes service's data: resumes and their versions (the files themselves are
content-addressed blobs in the same database), the background parse queue, share
links, and the local read model of jobs used to review a resume against a job."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aujobs_common.blobs import blob_table
from aujobs_common.ids import uuid7


class ResumesBase(DeclarativeBase):
    metadata = sa.MetaData()


#: the file bytes, keyed by SHA-256 (aujobs_common.blobs)
blobs = blob_table(ResumesBase.metadata)


class ResumeSource(StrEnum):
    upload = "upload"  # a file the user sent
    builder = "builder"  # generated from structured data in the builder


class ParseStatus(StrEnum):
    pending = "pending"
    parsing = "parsing"
    parsed = "parsed"
    failed = "failed"


class ParseJobStatus(StrEnum):
    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"


class Resume(ResumesBase):
    """One resume of a job seeker: a title, tags and a history of versions. Exactly one
    resume of a user who has any is primary (partial unique index)."""

    __tablename__ = "resumes"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    title: Mapped[str] = mapped_column(sa.Text)
    tags: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    is_primary: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    source: Mapped[str] = mapped_column(sa.Text)
    #: the builder template of the latest generated version
    template: Mapped[str | None] = mapped_column(sa.Text)
    #: the number the last version got (versions are numbered 1, 2, … and never reused)
    last_version_number: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())

    __table_args__ = (
        sa.CheckConstraint("source IN ('upload','builder')", name="ck_resumes_source"),
        sa.Index("ix_resumes_owner_created", "owner_id", sa.text("created_at DESC"), sa.text("id DESC")),
        sa.Index("uq_resumes_one_primary", "owner_id", unique=True, postgresql_where=sa.text("is_primary")),
        sa.Index("ix_resumes_tags", "tags", postgresql_using="gin"),
    )


class ResumeVersion(ResumesBase):
    """One file of a resume (uploaded or generated) and what parsing read from it."""

    __tablename__ = "resume_versions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    resume_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("resumes.id", ondelete="CASCADE")
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    number: Mapped[int] = mapped_column(sa.Integer)
    #: a display name only (sanitised); never used as a path
    filename: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.Text)  # DocumentKind: pdf | docx
    content_type: Mapped[str] = mapped_column(sa.Text)
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    origin: Mapped[str] = mapped_column(sa.Text)  # ResumeSource
    template: Mapped[str | None] = mapped_column(sa.Text)
    parse_status: Mapped[str] = mapped_column(sa.Text, server_default=ParseStatus.pending.value)
    parse_error: Mapped[str | None] = mapped_column(sa.Text)
    #: ResumeDocument as JSON (parsed, or the builder's input)
    document: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    text: Mapped[str | None] = mapped_column(sa.Text, deferred=True)
    sections: Mapped[dict[str, Any] | None] = mapped_column(JSONB, deferred=True)
    pages: Mapped[int | None] = mapped_column(sa.Integer)
    parsed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())

    __table_args__ = (
        sa.UniqueConstraint("resume_id", "number", name="uq_resume_versions_number"),
        sa.CheckConstraint("kind IN ('pdf','docx')", name="ck_resume_versions_kind"),
        sa.CheckConstraint("origin IN ('upload','builder')", name="ck_resume_versions_origin"),
        sa.CheckConstraint(
            "parse_status IN ('pending','parsing','parsed','failed')", name="ck_resume_versions_parse_status"
        ),
        sa.Index("ix_resume_versions_sha256", "sha256"),
    )


class ParseJob(ResumesBase):
    """The background parse of one uploaded version. Claimed with SKIP LOCKED; a claim
    lasts until ``next_attempt_at`` (now + parse timeout), after which another worker
    may take it over."""

    __tablename__ = "parse_jobs"

    version_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("resume_versions.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(sa.Text, server_default=ParseJobStatus.pending.value)
    attempts: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending','running','done','failed')", name="ck_parse_jobs_status"),
        sa.Index(
            "ix_parse_jobs_due",
            "next_attempt_at",
            postgresql_where=sa.text("status IN ('pending','running')"),
        ),
    )


class ShareLink(ResumesBase):
    """A link that lets anyone holding it read one version. Only the SHA-256 of the
    token is stored: a database leak does not leak working links."""

    __tablename__ = "share_links"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    resume_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("resumes.id", ondelete="CASCADE")
    )
    version_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("resume_versions.id", ondelete="CASCADE")
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    access_count: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    last_accessed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.Index("ix_share_links_resume", "resume_id", sa.text("created_at DESC")),)


class JobView(ResumesBase):
    """What the resumes service knows of a job (from the jobs service's snapshot
    events): enough to review a resume against it. Older versions are ignored."""

    __tablename__ = "job_view"

    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    title: Mapped[str] = mapped_column(sa.Text)
    skills: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    description_text: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
