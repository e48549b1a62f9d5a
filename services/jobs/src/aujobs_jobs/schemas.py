from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)

from aujobs_common.events import CompanySize, JobStatus, SalaryPeriod, WorkType
from aujobs_common.reference import STATES, is_classification


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suburb: str = Field(min_length=2, max_length=100, examples=["Parramatta"])
    state: str = Field(examples=["NSW"], description="State or territory code")
    postcode: str | None = Field(default=None, pattern=r"^\d{4}$", examples=["2150"])

    @field_validator("state")
    @classmethod
    def known_state(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in STATES:
            raise ValueError(f"must be one of {', '.join(STATES)}")
        return code


class LocationOut(BaseModel):
    suburb: str
    state: str
    postcode: str
    latitude: float | None
    longitude: float | None


class SalaryIn(BaseModel):
    """Money in integer cents, AUD."""

    model_config = ConfigDict(extra="forbid")

    minimum_cents: int = Field(ge=0, le=10_000_000_00, examples=[9_000_000])
    maximum_cents: int = Field(ge=0, le=10_000_000_00, examples=[11_000_000])
    currency: str = Field(default="AUD", pattern="^AUD$")
    period: SalaryPeriod = SalaryPeriod.annual

    @model_validator(mode="after")
    def ordered(self) -> SalaryIn:
        if self.maximum_cents < self.minimum_cents:
            raise ValueError("maximum_cents must not be below minimum_cents")
        return self


class SalaryOut(BaseModel):
    minimum_cents: int
    maximum_cents: int
    currency: str
    period: SalaryPeriod


class _JobFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=200)
    description: str = Field(min_length=20, max_length=20_000)
    location: LocationIn
    salary: SalaryIn | None = None
    work_type: WorkType
    classification: str = Field(max_length=100)
    sub_classification: str | None = Field(default=None, max_length=100)
    company_name: str | None = Field(default=None, max_length=200)

    @field_validator("classification")
    @classmethod
    def known_classification(cls, value: str) -> str:
        if not is_classification(value):
            raise ValueError(f"{value!r} is not one of the 30 job classifications")
        return value

    @field_validator("sub_classification")
    @classmethod
    def known_sub_classification(cls, value: str | None, info: ValidationInfo) -> str | None:
        parent = info.data.get("classification")
        if value and parent and not is_classification(parent, value):
            raise ValueError(f"{value!r} is not a sub-classification of {parent!r}")
        return value


class JobCreate(_JobFields):
    pass


class JobUpdate(BaseModel):
    """Partial update: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=3, max_length=200)
    description: str | None = Field(default=None, min_length=20, max_length=20_000)
    location: LocationIn | None = None
    salary: SalaryIn | None = None
    work_type: WorkType | None = None
    classification: str | None = Field(default=None, max_length=100)
    sub_classification: str | None = Field(default=None, max_length=100)
    company_name: str | None = Field(default=None, max_length=200)


class JobOut(BaseModel):
    id: uuid.UUID
    owner_id: uuid.UUID
    company_name: str | None
    title: str
    description: str
    location: LocationOut
    salary: SalaryOut | None
    work_type: WorkType
    classification: str
    sub_classification: str | None
    status: JobStatus
    version: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    closed_at: datetime | None


# ---------------------------------------------------------------- companies

ABN_WEIGHTS = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)


def normalise_abn(value: str) -> str:
    """The ABN as 11 digits (spaces removed), or ``ValueError`` when it is not a valid
    ABN: subtract 1 from the first digit, weight the digits 10,1,3,...,19, and the sum
    must be divisible by 89."""
    digits = value.replace(" ", "")
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit():
        raise ValueError("an ABN is 11 digits")
    numbers = [int(d) for d in digits]
    numbers[0] -= 1
    if sum(w * n for w, n in zip(ABN_WEIGHTS, numbers, strict=True)) % 89:
        raise ValueError("this is not a valid ABN (checksum failed)")
    return digits


class SocialNetwork(StrEnum):
    linkedin = "linkedin"
    facebook = "facebook"
    x = "x"
    twitter = "twitter"
    instagram = "instagram"
    youtube = "youtube"
    tiktok = "tiktok"
    github = "github"


class _CompanyChecks(BaseModel):
    @field_validator("industry", check_fields=False)
    @classmethod
    def known_industry(cls, value: str | None) -> str | None:
        if value is not None and not is_classification(value):
            raise ValueError(f"{value!r} is not one of the 30 job classifications")
        return value

    @field_validator("abn", check_fields=False)
    @classmethod
    def valid_abn(cls, value: str | None) -> str | None:
        return None if value is None else normalise_abn(value)

    @field_validator("benefits", check_fields=False)
    @classmethod
    def clean_benefits(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = [b.strip() for b in value]
        if any(not b for b in cleaned):
            raise ValueError("benefits must not be blank")
        return cleaned


class CompanyCreate(_CompanyChecks):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200, examples=["Eucalypt Software"])
    description: str | None = Field(default=None, max_length=20_000)
    website: HttpUrl | None = Field(default=None, examples=["https://eucalypt.example"])
    industry: str | None = Field(default=None, max_length=100)
    size: CompanySize | None = None
    locations: list[LocationIn] = Field(default_factory=list, max_length=50)
    culture: str | None = Field(default=None, max_length=10_000)
    benefits: list[str] = Field(default_factory=list, max_length=50)
    social_links: dict[SocialNetwork, HttpUrl] = Field(default_factory=dict)
    abn: str | None = Field(default=None, examples=["51 824 753 556"])

    @field_validator("name")
    @classmethod
    def strip_name(cls, value: str) -> str:
        if len(value.strip()) < 2:
            raise ValueError("name must have at least 2 characters")
        return value.strip()


class CompanyUpdate(_CompanyChecks):
    """Partial update: only the fields sent change (send null to clear an optional one)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    website: HttpUrl | None = None
    industry: str | None = Field(default=None, max_length=100)
    size: CompanySize | None = None
    locations: list[LocationIn] | None = Field(default=None, max_length=50)
    culture: str | None = Field(default=None, max_length=10_000)
    benefits: list[str] | None = Field(default=None, max_length=50)
    social_links: dict[SocialNetwork, HttpUrl] | None = None
    abn: str | None = None

    @field_validator("name")
    @classmethod
    def strip_name(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("name cannot be cleared")
        if len(value.strip()) < 2:
            raise ValueError("name must have at least 2 characters")
        return value.strip()


class CompanyOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    website: str | None
    industry: str | None
    size: CompanySize | None
    locations: list[LocationOut]
    culture: str | None
    benefits: list[str]
    social_links: dict[str, str]
    abn: str | None
    verified: bool = Field(description="The verification badge")
    verification_status: str
    verified_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class MemberRole(StrEnum):
    owner = "owner"
    recruiter = "recruiter"


class MemberOut(BaseModel):
    company_id: uuid.UUID
    user_id: uuid.UUID
    role: MemberRole
    created_at: datetime


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr


class InvitationOut(BaseModel):
    id: uuid.UUID
    company_id: uuid.UUID
    email: str
    role: MemberRole
    expires_at: datetime
    token: str = Field(description="Single-use; returned here until invitation emails are sent")


class VerificationDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    reason: str | None = Field(default=None, max_length=2000)
