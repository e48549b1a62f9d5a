from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)

from aujobs_common.events import (
    ApplicationMethod,
    ApplicationMethodKind,
    CompanySize,
    JobStatus,
    QuestionKind,
    SalaryPeriod,
    ScreeningQuestion,
    SuperMode,
    WorkArrangement,
    WorkType,
)
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
    super_mode: SuperMode = Field(
        default=SuperMode.plus_super, description="Super paid on top of the range, or included in it"
    )
    display_text: str | None = Field(
        default=None, max_length=50, description="Shown instead of the figures, e.g. 'Competitive + bonus'"
    )

    @model_validator(mode="after")
    def ordered(self) -> SalaryIn:
        if self.maximum_cents < self.minimum_cents:
            raise ValueError("maximum_cents must not be below minimum_cents")
        if self.display_text is not None:
            self.display_text = self.display_text.strip() or None
        return self


class SalaryOut(BaseModel):
    minimum_cents: int
    maximum_cents: int
    currency: str
    period: SalaryPeriod
    super_mode: SuperMode
    display_text: str | None
    annual_minimum_cents: int = Field(description="Annualised by the per-period rule (README)")
    annual_maximum_cents: int
    formatted: str = Field(examples=["$90,000 – $110,000 a year + super"])  # noqa: RUF001


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: QuestionKind
    prompt: str = Field(min_length=3, max_length=300)
    options: list[str] = Field(default_factory=list, max_length=20)
    required: bool = True

    @model_validator(mode="after")
    def options_fit_kind(self) -> QuestionIn:
        self.prompt = self.prompt.strip()
        options = [o.strip() for o in self.options]
        if self.kind in (QuestionKind.single_choice, QuestionKind.multi_choice):
            if len(options) < 2:
                raise ValueError("a choice question needs at least two options")
            if any(not o or len(o) > 100 for o in options):
                raise ValueError("options must be 1-100 characters")
            if len({o.casefold() for o in options}) != len(options):
                raise ValueError("options must be different")
        elif options:
            raise ValueError(f"a {self.kind.value} question takes no options")
        self.options = options
        return self


class ApplicationMethodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ApplicationMethodKind = ApplicationMethodKind.on_platform
    url: HttpUrl | None = Field(default=None, description="Required for external; https only")

    @model_validator(mode="after")
    def url_fits_kind(self) -> ApplicationMethodIn:
        if self.kind is ApplicationMethodKind.external:
            if self.url is None or self.url.scheme != "https":
                raise ValueError("an external application method needs an https url")
        elif self.url is not None:
            raise ValueError("an on-platform application method takes no url")
        return self


def _clean_list(values: list[str] | None, what: str) -> list[str] | None:
    if values is None:
        return None
    cleaned = [v.strip() for v in values]
    if any(not v or len(v) > 100 for v in cleaned):
        raise ValueError(f"{what} must be 1-100 characters each")
    return cleaned


class _JobChecks(BaseModel):
    @field_validator("classification", check_fields=False)
    @classmethod
    def known_classification(cls, value: str | None) -> str | None:
        if value is not None and not is_classification(value):
            raise ValueError(f"{value!r} is not one of the 30 job classifications")
        return value

    @field_validator("sub_classification", check_fields=False)
    @classmethod
    def known_sub_classification(cls, value: str | None, info: ValidationInfo) -> str | None:
        parent = info.data.get("classification")
        if value and parent and not is_classification(parent, value):
            raise ValueError(f"{value!r} is not a sub-classification of {parent!r}")
        return value

    @field_validator("skills", check_fields=False)
    @classmethod
    def clean_skills(cls, value: list[str] | None) -> list[str] | None:
        return _clean_list(value, "skills")

    @field_validator("benefits", check_fields=False)
    @classmethod
    def clean_benefits(cls, value: list[str] | None) -> list[str] | None:
        return _clean_list(value, "benefits")

    @field_validator("title", check_fields=False)
    @classmethod
    def strip_title(cls, value: str | None) -> str | None:
        if value is not None and len(value.strip()) < 3:
            raise ValueError("title must have at least 3 characters")
        return value.strip() if value is not None else None


class _JobFields(_JobChecks):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=200)
    description: str = Field(
        min_length=20,
        max_length=50_000,
        description="HTML or plain text; kept as a safe HTML subset (p, br, lists, emphasis, h2-h4, links)",
    )
    location: LocationIn = Field(description="Remote jobs still carry a location (where the team is)")
    work_arrangement: WorkArrangement = WorkArrangement.on_site
    salary: SalaryIn | None = None
    work_type: WorkType
    classification: str = Field(max_length=100)
    sub_classification: str | None = Field(default=None, max_length=100)
    skills: list[str] = Field(default_factory=list, max_length=50)
    benefits: list[str] = Field(default_factory=list, max_length=30)
    screening_questions: list[QuestionIn] = Field(default_factory=list, max_length=20)
    include_work_rights_question: bool = Field(
        default=True, description="Ask the built-in Australian work-rights question first"
    )
    application_method: ApplicationMethodIn = Field(default_factory=ApplicationMethodIn)
    closing_date: date | None = Field(default=None, description="Last day to apply (Australia/Sydney)")


class JobCreate(_JobFields):
    company_id: uuid.UUID = Field(description="The company advertising; you must be its owner or recruiter")


class JobUpdate(_JobChecks):
    """Partial update: only the fields sent change (send null to clear an optional one)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=3, max_length=200)
    description: str | None = Field(default=None, min_length=20, max_length=50_000)
    location: LocationIn | None = None
    work_arrangement: WorkArrangement | None = None
    salary: SalaryIn | None = None
    work_type: WorkType | None = None
    classification: str | None = Field(default=None, max_length=100)
    sub_classification: str | None = Field(default=None, max_length=100)
    skills: list[str] | None = Field(default=None, max_length=50)
    benefits: list[str] | None = Field(default=None, max_length=30)
    screening_questions: list[QuestionIn] | None = Field(default=None, max_length=20)
    include_work_rights_question: bool | None = None
    application_method: ApplicationMethodIn | None = None
    closing_date: date | None = None

    @model_validator(mode="after")
    def required_stay_set(self) -> JobUpdate:
        for name in ("title", "description", "location", "work_type", "classification", "work_arrangement"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be cleared")
        return self


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    publish_at: AwareDatetime | None = Field(
        default=None, description="Publish later (scheduled); now when absent"
    )


class ModerationDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    reason: str | None = Field(default=None, max_length=2000)


class FeatureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    featured_from: AwareDatetime
    featured_until: AwareDatetime

    @model_validator(mode="after")
    def ordered(self) -> FeatureRequest:
        if self.featured_until <= self.featured_from:
            raise ValueError("featured_until must be after featured_from")
        return self


class SkillOut(BaseModel):
    name: str
    category: str | None
    matched: bool = Field(description="Found in the O*NET catalogue or its synonyms")


class JobOut(BaseModel):
    id: uuid.UUID
    owner_id: uuid.UUID
    company_id: uuid.UUID | None
    company_name: str | None
    company_verified: bool
    title: str
    description: str = Field(description="Sanitised HTML")
    description_text: str
    location: LocationOut
    work_arrangement: WorkArrangement
    salary: SalaryOut | None
    work_type: WorkType
    classification: str
    sub_classification: str | None
    skills: list[SkillOut]
    benefits: list[str]
    screening_questions: list[ScreeningQuestion]
    application_method: ApplicationMethod
    closing_date: date | None
    status: JobStatus
    featured: bool
    featured_from: datetime | None
    featured_until: datetime | None
    moderation_flags: list[str] = Field(
        description="Why moderation holds it; company members and admins only"
    )
    moderation_reason: str | None = Field(description="A moderator's reason; company members and admins only")
    version: int
    created_at: datetime
    updated_at: datetime
    publish_at: datetime | None
    published_at: datetime | None
    expires_at: datetime | None
    closed_at: datetime | None
    structured_data: dict[str, Any] | None = Field(
        description="schema.org JobPosting JSON-LD while active; null otherwise"
    )


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    job_id: uuid.UUID = Field(description="The posting whose fields become the template")


class TemplateOut(BaseModel):
    id: uuid.UUID
    company_id: uuid.UUID
    name: str
    fields: dict[str, Any]
    created_by: uuid.UUID
    created_at: datetime
    updated_at: datetime


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
    logo: dict[str, str] | None = Field(default=None, description="Logo renditions: size in px → URL")
    rating: CompanyRating | None = Field(default=None, description="From published reviews")


class CompanyRating(BaseModel):
    average: float | None = Field(description="Mean overall rating, 1-5; null without reviews")
    count: int


class CompanyStatistics(BaseModel):
    company_id: uuid.UUID
    open_jobs: int = Field(description="Active postings now")
    total_jobs: int = Field(description="Postings ever published")
    applications_received: int
    jobs_filled: int
    average_time_to_fill_days: float | None = Field(
        description="Mean of first hire minus publishing, over filled postings; null when none"
    )
    rating: CompanyRating


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
    token: str = Field(
        description="Single-use; emailed to the invitee as an accept link (also returned to the owner)"
    )


class VerificationDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    reason: str | None = Field(default=None, max_length=2000)
