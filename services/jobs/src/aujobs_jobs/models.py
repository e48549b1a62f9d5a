from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aujobs_common.ids import uuid7


class JobsBase(DeclarativeBase):
    metadata = sa.MetaData()


class JobPosting(JobsBase):
    __tablename__ = "job_postings"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    # The employer who created it; the company's owners and recruiters manage it.
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("companies.id", ondelete="RESTRICT"), index=True
    )
    company_name: Mapped[str | None] = mapped_column(sa.Text)
    title: Mapped[str] = mapped_column(sa.Text)
    # Sanitised HTML, and its plain text for search and email.
    description: Mapped[str] = mapped_column(sa.Text)
    description_text: Mapped[str | None] = mapped_column(sa.Text)
    suburb: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.Text)
    postcode: Mapped[str] = mapped_column(sa.Text)
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    work_arrangement: Mapped[str] = mapped_column(sa.Text, default="on_site")
    salary_min_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    salary_max_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    salary_currency: Mapped[str] = mapped_column(sa.Text, default="AUD")
    salary_period: Mapped[str | None] = mapped_column(sa.Text)
    salary_super_mode: Mapped[str | None] = mapped_column(sa.Text)
    salary_display_text: Mapped[str | None] = mapped_column(sa.Text)
    # The range annualised by the documented per-period rule (salary.py).
    salary_annual_min_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    salary_annual_max_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    work_type: Mapped[str] = mapped_column(sa.Text)
    classification: Mapped[str] = mapped_column(sa.Text)
    sub_classification: Mapped[str | None] = mapped_column(sa.Text)
    # [{name, category, matched}] normalised against the O*NET catalogue
    skills: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    benefits: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # [{id, kind, prompt, options, required, built_in}]
    screening_questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    application_method: Mapped[str] = mapped_column(sa.Text, default="on_platform")
    application_url: Mapped[str | None] = mapped_column(sa.Text)
    closing_date: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.Text, default="draft")
    # Why moderation holds it (unverified company, content flags) and a moderator's answer.
    moderation_flags: Mapped[list[str]] = mapped_column(JSONB, default=list)
    moderation_reason: Mapped[str | None] = mapped_column(sa.Text)
    featured_from: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    featured_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Bumped on every change; consumers keep only the newest version they see.
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    publish_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expiry_reminded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.Index("ix_job_postings_status_published", "status", sa.text("published_at DESC"), "id"),
        sa.Index("ix_job_postings_owner_created", "owner_id", sa.text("created_at DESC"), "id"),
        sa.Index("ix_job_postings_company_created", "company_id", sa.text("created_at DESC"), "id"),
        # the workflow worker's scans: due scheduled publishes and due expiries
        sa.Index(
            "ix_job_postings_publish_due", "publish_at", postgresql_where=sa.text("status = 'scheduled'")
        ),
        sa.Index("ix_job_postings_expiry_due", "expires_at", postgresql_where=sa.text("status = 'active'")),
    )


class JobTemplate(JobsBase):
    """A company's saved posting: the fields of a posting, reused to start new drafts."""

    __tablename__ = "job_templates"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    company_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.Text)
    # the JobCreate body (without company_id), as JSON
    fields: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())

    __table_args__ = (sa.UniqueConstraint("company_id", "name", name="uq_job_templates_company_name"),)


class Company(JobsBase):
    __tablename__ = "companies"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str | None] = mapped_column(sa.Text)
    website: Mapped[str | None] = mapped_column(sa.Text)
    industry: Mapped[str | None] = mapped_column(sa.Text)
    size: Mapped[str | None] = mapped_column(sa.Text)
    # [{suburb, state, postcode, latitude, longitude}], resolved from the postcode data
    locations: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    culture: Mapped[str | None] = mapped_column(sa.Text)
    benefits: Mapped[list[str]] = mapped_column(JSONB, default=list)
    social_links: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    abn: Mapped[str | None] = mapped_column(sa.Text)
    verification_status: Mapped[str] = mapped_column(sa.Text, default="unverified")
    verification_reason: Mapped[str | None] = mapped_column(sa.Text)
    verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The current logo in company_media (kept with it by media.py), so a profile or a
    # posting shows the logo without another query.
    logo_media_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class CompanyMember(JobsBase):
    __tablename__ = "company_members"

    company_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(sa.Text)  # owner | recruiter
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class CompanyInvitation(JobsBase):
    __tablename__ = "company_invitations"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    company_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(sa.Text)
    role: Mapped[str] = mapped_column(sa.Text, default="recruiter")
    # sha256 of the single-use token; the token itself is never stored
    token_hash: Mapped[str] = mapped_column(sa.Text, unique=True)
    invited_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
