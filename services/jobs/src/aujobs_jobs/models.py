from __future__ import annotations

import uuid
from datetime import datetime
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
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    company_name: Mapped[str | None] = mapped_column(sa.Text)
    title: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text)
    suburb: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.Text)
    postcode: Mapped[str] = mapped_column(sa.Text)
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    salary_min_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    salary_max_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    salary_currency: Mapped[str] = mapped_column(sa.Text, default="AUD")
    salary_period: Mapped[str | None] = mapped_column(sa.Text)
    work_type: Mapped[str] = mapped_column(sa.Text)
    classification: Mapped[str] = mapped_column(sa.Text)
    sub_classification: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text, default="draft")
    # Bumped on every change; consumers keep only the newest version they see.
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.Index("ix_job_postings_status_published", "status", sa.text("published_at DESC"), "id"),
        sa.Index("ix_job_postings_owner_created", "owner_id", sa.text("created_at DESC"), "id"),
    )


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
