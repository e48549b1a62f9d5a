"""Request and response bodies for company reviews."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aujobs_common.reference import STATES

Rating = Field(ge=1, le=5, description="1 (worst) to 5 (best)")


class EmploymentStatus(StrEnum):
    current = "current"
    former = "former"


class ReviewStatus(StrEnum):
    pending = "pending"
    held = "held"
    published = "published"
    rejected = "rejected"
    withdrawn = "withdrawn"


class ReviewSort(StrEnum):
    newest = "newest"
    most_helpful = "most_helpful"
    highest = "highest"
    lowest = "lowest"


def _stripped(value: str, minimum: int) -> str:
    value = value.strip()
    if len(value) < minimum:
        raise ValueError(f"must have at least {minimum} characters")
    return value


class Ratings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overall: int = Rating
    work_life_balance: int = Rating
    pay_benefits: int = Rating
    culture: int = Rating
    management: int = Rating
    career_growth: int = Rating


class ReviewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ratings: Ratings
    title: str = Field(min_length=3, max_length=150, examples=["Great team, slow promotions"])
    pros: str = Field(min_length=10, max_length=5000)
    cons: str = Field(min_length=10, max_length=5000)
    anonymous: bool = Field(default=False, description="Hide who wrote it from everyone but moderators")
    job_title: str | None = Field(default=None, max_length=150, examples=["Software Engineer"])
    employment_status: EmploymentStatus | None = None
    location_state: str | None = Field(default=None, examples=["NSW"], description="State or territory code")

    @field_validator("title")
    @classmethod
    def clean_title(cls, value: str) -> str:
        return _stripped(value, 3)

    @field_validator("pros", "cons")
    @classmethod
    def clean_text(cls, value: str) -> str:
        return _stripped(value, 10)

    @field_validator("job_title")
    @classmethod
    def clean_job_title(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value is not None else None

    @field_validator("location_state")
    @classmethod
    def known_state(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if code not in STATES:
            raise ValueError(f"must be one of {', '.join(STATES)}")
        return code


class CompanyResponseOut(BaseModel):
    body: str
    created_at: datetime
    updated_at: datetime


class ReviewOut(BaseModel):
    """A review as the caller may see it: ``author_id`` is null on anonymous reviews
    unless the caller is the author or an admin."""

    id: uuid.UUID
    company_id: uuid.UUID
    author_id: uuid.UUID | None
    anonymous: bool
    ratings: Ratings
    title: str
    pros: str
    cons: str
    job_title: str | None
    employment_status: EmploymentStatus | None
    location_state: str | None
    status: ReviewStatus
    rejection_reason: str | None = Field(description="Why a moderator rejected it (rejected reviews only)")
    helpful_count: int
    created_at: datetime
    published_at: datetime | None
    company_response: CompanyResponseOut | None


class ReportOut(BaseModel):
    user_id: uuid.UUID
    reason: str
    created_at: datetime


class ModerationItem(ReviewOut):
    """A review as moderators see it: always with its author, why it was held, and
    the reports that are not yet answered by a decision."""

    hold_reasons: list[str]
    open_report_count: int
    reports: list[ReportOut]
    moderated_at: datetime | None


class ModerationDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    reason: str | None = Field(default=None, max_length=2000, description="Required when rejecting")


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=1000, examples=["Contains someone's personal details"])

    @field_validator("reason")
    @classmethod
    def clean_reason(cls, value: str) -> str:
        return _stripped(value, 3)


class VoteOut(BaseModel):
    review_id: uuid.UUID
    helpful_count: int
    voted: bool = Field(description="Whether the caller now counts as finding it helpful")


class CompanyResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=2, max_length=5000)

    @field_validator("body")
    @classmethod
    def clean_body(cls, value: str) -> str:
        return _stripped(value, 2)


class CategoryAverages(BaseModel):
    overall: float | None
    work_life_balance: float | None
    pay_benefits: float | None
    culture: float | None
    management: float | None
    career_growth: float | None


class RatingSummary(BaseModel):
    """Published reviews only. Averages are rounded to 2 decimals and null when there
    are no reviews; ``distribution`` counts overall ratings 1-5 (keys "1".."5")."""

    company_id: uuid.UUID
    review_count: int
    averages: CategoryAverages
    distribution: dict[int, int]


class RatingSummaryOut(RatingSummary):
    json_ld: dict[str, Any] | None = Field(
        description="schema.org EmployerAggregateRating; null while there are no published reviews"
    )
