"""Tables of the applications service: the local read models built from other services'
events (``job_view``, ``company_members``, ``resume_skills``) and what this service owns (applications,
their status history, private notes, attachments, and the copied files in ``blobs``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aujobs_common.blobs import blob_table
from aujobs_common.ids import uuid7


class ApplicationsBase(DeclarativeBase):
    metadata = sa.MetaData()


#: Resume copies, cover letters and attachments (content-addressed, aujobs_common.blobs).
blobs = blob_table(ApplicationsBase.metadata)


# ---------------------------------------------------------------- read models


class JobView(ApplicationsBase):
    """The newest snapshot of a posting this service has seen (jobs' ``job.*`` events);
    an older ``version`` never overwrites a newer one."""

    __tablename__ = "job_view"

    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    company_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    company_name: Mapped[str | None] = mapped_column(sa.Text)
    title: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text)
    # [{id, kind, prompt, options, required, built_in}]
    screening_questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    skills: Mapped[list[str]] = mapped_column(JSONB, default=list)
    closing_date: Mapped[date | None] = mapped_column(sa.Date)
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    application_method: Mapped[str] = mapped_column(sa.Text, default="on_platform")
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class CompanyMemberSet(ApplicationsBase):
    """When the member list of a company was last replaced (``changed_at`` of the
    ``company.members_changed`` snapshot held), so older snapshots are ignored."""

    __tablename__ = "company_member_sets"

    company_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class CompanyMemberRow(ApplicationsBase):
    __tablename__ = "company_members"

    company_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(sa.Text)


class ResumeSkills(ApplicationsBase):
    """The parsed skills of a resume version (``resume.parsed`` events; the newest
    ``parsed_at`` wins). Kept so an application sent while the parse finishes still gets
    its skills: when the version fetched at submit has none yet, these are used (the
    parse may have been handled before the application row existed)."""

    __tablename__ = "resume_skills"

    version_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    skills: Mapped[list[str]] = mapped_column(JSONB)
    parsed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


# ---------------------------------------------------------------- owned


class Application(ApplicationsBase):
    __tablename__ = "applications"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # The job's company when the application was sent (who may see it).
    company_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    applicant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # 1 for the first application of a person to a job; a re-application after a
    # withdrawal (only with allow_reapply_after_withdraw) takes the next number. The
    # unique key (job_id, applicant_id, attempt) is what stops duplicates, races included.
    attempt: Mapped[int] = mapped_column(sa.Integer, default=1)
    status: Mapped[str] = mapped_column(sa.Text, default="submitted")
    # The furthest pipeline stage ever reached (skips count as passing the stages skipped).
    furthest_stage: Mapped[str] = mapped_column(sa.Text, default="submitted")
    # Bumped on every change: the ETag / If-Match of optimistic concurrency.
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    job_title: Mapped[str] = mapped_column(sa.Text)
    company_name: Mapped[str | None] = mapped_column(sa.Text)
    cover_letter: Mapped[str | None] = mapped_column(sa.Text)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # The resume version as it was sent, copied into ``blobs``.
    resume_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    resume_version_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    resume_filename: Mapped[str] = mapped_column(sa.Text)
    resume_content_type: Mapped[str] = mapped_column(sa.Text)
    resume_size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    resume_sha256: Mapped[str] = mapped_column(sa.String(64))
    # The resume's parsed skills (null until the resume service has parsed it).
    resume_skills: Mapped[list[str] | None] = mapped_column(JSONB(none_as_null=True))
    match_score: Mapped[int | None] = mapped_column(sa.Integer)
    submitted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    first_reviewed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    hired_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.UniqueConstraint("job_id", "applicant_id", "attempt", name="uq_applications_job_applicant"),
        sa.Index("ix_applications_job_submitted", "job_id", "submitted_at", "id"),
        sa.Index("ix_applications_applicant_submitted", "applicant_id", "submitted_at", "id"),
        sa.Index("ix_applications_company", "company_id"),
        sa.CheckConstraint(
            "status IN ('submitted','reviewed','shortlisted','interview','offer','hired',"
            "'rejected','withdrawn')",
            name="ck_applications_status",
        ),
        sa.CheckConstraint(
            "match_score IS NULL OR match_score BETWEEN 0 AND 100", name="ck_applications_score"
        ),
    )


class StatusHistory(ApplicationsBase):
    """Every status an application has had: the first row (from NULL to submitted) is
    the submission itself."""

    __tablename__ = "application_status_history"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    application_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(sa.Text)
    to_status: Mapped[str] = mapped_column(sa.Text)
    changed_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    # The employer's message to the applicant, or the applicant's reason for withdrawing
    # (that one is for the company only: never put into the status_changed event).
    message: Mapped[str | None] = mapped_column(sa.Text)


class ApplicationNote(ApplicationsBase):
    """A private note of the hiring company on an application (never shown to the applicant)."""

    __tablename__ = "application_notes"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    application_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class Attachment(ApplicationsBase):
    __tablename__ = "application_attachments"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    application_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.Text)  # cover_letter | other
    filename: Mapped[str] = mapped_column(sa.Text)
    content_type: Mapped[str] = mapped_column(sa.Text)
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.CheckConstraint("kind IN ('cover_letter','other')", name="ck_attachments_kind"),)
