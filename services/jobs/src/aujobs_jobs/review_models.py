"""Company reviews and what hangs off them: helpfulness votes, abuse reports and the
company's one public response. Reviews are never hard-deleted by their authors (they
become ``withdrawn``) so the one-review-per-year rule cannot be reset by deleting."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from aujobs_common.ids import uuid7

from .models import JobsBase

RATING_FIELDS = ("overall", "work_life_balance", "pay_benefits", "culture", "management", "career_growth")


class CompanyReview(JobsBase):
    __tablename__ = "company_reviews"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    company_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("companies.id", ondelete="CASCADE")
    )
    author_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    anonymous: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    overall: Mapped[int] = mapped_column(sa.SmallInteger)
    work_life_balance: Mapped[int] = mapped_column(sa.SmallInteger)
    pay_benefits: Mapped[int] = mapped_column(sa.SmallInteger)
    culture: Mapped[int] = mapped_column(sa.SmallInteger)
    management: Mapped[int] = mapped_column(sa.SmallInteger)
    career_growth: Mapped[int] = mapped_column(sa.SmallInteger)
    title: Mapped[str] = mapped_column(sa.Text)
    pros: Mapped[str] = mapped_column(sa.Text)
    cons: Mapped[str] = mapped_column(sa.Text)
    job_title: Mapped[str | None] = mapped_column(sa.Text)
    employment_status: Mapped[str | None] = mapped_column(sa.Text)  # current | former
    location_state: Mapped[str | None] = mapped_column(sa.Text)
    # pending | held | published | rejected | withdrawn
    status: Mapped[str] = mapped_column(sa.Text, default="pending")
    # Machine-readable reasons the review was held back (spam checks, "reported").
    hold_reasons: Mapped[list[str]] = mapped_column(JSONB, default=list)
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    # sha256 of the normalised pros and cons: finds the same text posted again.
    text_fingerprint: Mapped[str] = mapped_column(sa.Text)
    # sha256 of the submitter's IP address, kept only to spot bursts from one address.
    client_ip_hash: Mapped[str | None] = mapped_column(sa.Text)
    helpful_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    # Reports since the last moderation decision; reaching the threshold holds the review.
    open_report_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    moderated_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    moderated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class ReviewVote(JobsBase):
    __tablename__ = "company_review_votes"

    review_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("company_reviews.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class ReviewReport(JobsBase):
    __tablename__ = "company_review_reports"

    review_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("company_reviews.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class ReviewResponse(JobsBase):
    __tablename__ = "company_review_responses"

    review_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("company_reviews.id", ondelete="CASCADE"), primary_key=True
    )
    body: Mapped[str] = mapped_column(sa.Text)
    responded_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
