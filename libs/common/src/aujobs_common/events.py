"""Event contracts: the CloudEvents 1.0 envelope and the typed payload of every event.

The ``type`` of an event is ``au.jobs.<entity>.<verb>.v<N>`` and doubles as the RabbitMQ
routing key. A breaking change to a payload is a new version (a new model and a new
type string) published beside the old one until every consumer has moved (DESIGN.md §3).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from .ids import uuid7

SPEC_VERSION = "1.0"


class CloudEvent(BaseModel):
    """CloudEvents 1.0 structured-mode JSON envelope."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(default_factory=lambda: str(uuid7()))
    source: str
    type: str
    specversion: Literal["1.0"] = SPEC_VERSION
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    datacontenttype: str = "application/json"
    data: dict[str, Any] = Field(default_factory=dict)
    # W3C trace context carried with the event (CloudEvents distributed-tracing extension)
    traceparent: str | None = None

    def payload(self, model: type[EventPayload]) -> EventPayload:
        return model.model_validate(self.data)


class EventPayload(BaseModel):
    """Base of every typed payload; ``event_type`` is the CloudEvents ``type``."""

    model_config = ConfigDict(extra="ignore")
    event_type: ClassVar[str]

    def to_event(self, *, source: str, subject: str | None = None) -> CloudEvent:
        return CloudEvent(
            source=source,
            type=self.event_type,
            subject=subject,
            data=self.model_dump(mode="json"),
        )


# ---------------------------------------------------------------- auth


class UserRole(StrEnum):
    job_seeker = "job_seeker"
    employer = "employer"
    admin = "admin"


class UserRegistered(EventPayload):
    event_type: ClassVar[str] = "au.jobs.user.registered.v1"
    user_id: uuid.UUID
    email: str
    roles: list[UserRole]
    registered_at: datetime


class UserEmailVerificationRequested(EventPayload):
    """A single-use verification token was issued (on registration, on resend, or as a
    reminder). The notifications service builds the link from its FRONTEND_URL."""

    event_type: ClassVar[str] = "au.jobs.user.email_verification_requested.v1"
    user_id: uuid.UUID
    email: str
    token: str
    expires_at: datetime
    reminder: bool = False


class UserEmailVerified(EventPayload):
    event_type: ClassVar[str] = "au.jobs.user.email_verified.v1"
    user_id: uuid.UUID
    email: str
    verified_at: datetime


class UserPasswordResetRequested(EventPayload):
    """Only published when the email belongs to an account; the API answers the same
    either way."""

    event_type: ClassVar[str] = "au.jobs.user.password_reset_requested.v1"
    user_id: uuid.UUID
    email: str
    token: str
    expires_at: datetime


class SecurityEventKind(StrEnum):
    password_reset = "password_reset"  # noqa: S105 - an event kind, not a secret
    password_changed = "password_changed"  # noqa: S105 - an event kind, not a secret
    two_factor_enabled = "two_factor_enabled"
    two_factor_disabled = "two_factor_disabled"
    provider_linked = "provider_linked"
    provider_unlinked = "provider_unlinked"
    all_sessions_revoked = "all_sessions_revoked"


class UserSecurityAlert(EventPayload):
    """Something changed on the account that its owner must hear about (always emailed,
    whatever the user's preferences)."""

    event_type: ClassVar[str] = "au.jobs.user.security_alert.v1"
    user_id: uuid.UUID
    email: str
    kind: SecurityEventKind
    occurred_at: datetime
    detail: str | None = None  # e.g. the provider name; never secrets


# ---------------------------------------------------------------- jobs


class WorkType(StrEnum):
    full_time = "full_time"
    part_time = "part_time"
    contract_temp = "contract_temp"
    casual_vacation = "casual_vacation"


class SalaryPeriod(StrEnum):
    hourly = "hourly"
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    annual = "annual"


class JobStatus(StrEnum):
    """draft → pending (approval) → scheduled → active → closed | expired."""

    draft = "draft"
    pending = "pending"
    scheduled = "scheduled"
    active = "active"
    closed = "closed"
    expired = "expired"


class WorkArrangement(StrEnum):
    on_site = "on_site"
    hybrid = "hybrid"
    remote = "remote"


class SuperMode(StrEnum):
    """Whether superannuation is paid on top of the range or included in it."""

    plus_super = "plus_super"
    package_including_super = "package_including_super"


class JobLocation(BaseModel):
    suburb: str
    state: str
    postcode: str
    latitude: float | None = None
    longitude: float | None = None


class SalaryRange(BaseModel):
    """Money is integer cents, AUD (DESIGN.md §6). ``annual_*`` is the range
    annualised by the documented per-period rule, so consumers can filter across
    periods."""

    minimum_cents: int
    maximum_cents: int
    currency: Literal["AUD"] = "AUD"
    period: SalaryPeriod = SalaryPeriod.annual
    super_mode: SuperMode = SuperMode.plus_super
    display_text: str | None = None
    annual_minimum_cents: int | None = None
    annual_maximum_cents: int | None = None


class QuestionKind(StrEnum):
    free_text = "free_text"
    yes_no = "yes_no"
    single_choice = "single_choice"
    multi_choice = "multi_choice"


class ScreeningQuestion(BaseModel):
    id: str
    kind: QuestionKind
    prompt: str
    options: list[str] = Field(default_factory=list)
    required: bool = True
    #: e.g. "work_rights" for the built-in Australian work-rights question
    built_in: str | None = None


class ApplicationMethodKind(StrEnum):
    on_platform = "on_platform"
    external = "external"


class ApplicationMethod(BaseModel):
    kind: ApplicationMethodKind = ApplicationMethodKind.on_platform
    url: str | None = None


class JobPostingSnapshot(EventPayload):
    """The full posting as of ``version``; every job state-change event carries it so
    consumers can build their own read model and drop anything older than what they
    hold."""

    event_type: ClassVar[str] = "au.jobs.job.snapshot.v1"
    job_id: uuid.UUID
    version: int
    owner_id: uuid.UUID
    company_id: uuid.UUID | None = None
    company_name: str | None = None
    company_verified: bool = False
    title: str
    #: sanitised HTML (a safe subset); ``description_text`` is its plain text
    description: str
    description_text: str | None = None
    location: JobLocation
    work_arrangement: WorkArrangement = WorkArrangement.on_site
    salary: SalaryRange | None = None
    work_type: WorkType
    classification: str
    sub_classification: str | None = None
    skills: list[str] = Field(default_factory=list)
    benefits: list[str] = Field(default_factory=list)
    screening_questions: list[ScreeningQuestion] = Field(default_factory=list)
    application_method: ApplicationMethod = Field(default_factory=ApplicationMethod)
    closing_date: date | None = None
    status: JobStatus
    featured: bool = False
    featured_from: datetime | None = None
    featured_until: datetime | None = None
    created_at: datetime
    updated_at: datetime
    publish_at: datetime | None = None
    published_at: datetime | None = None
    expires_at: datetime | None = None
    closed_at: datetime | None = None


class JobSubmitted(JobPostingSnapshot):
    """Waiting for moderation (unverified company or flagged content)."""

    event_type: ClassVar[str] = "au.jobs.job.submitted.v1"


class JobRejected(JobPostingSnapshot):
    """A moderator sent a pending posting back to draft; ``reason`` says why."""

    event_type: ClassVar[str] = "au.jobs.job.rejected.v1"
    reason: str | None = None


class JobScheduled(JobPostingSnapshot):
    event_type: ClassVar[str] = "au.jobs.job.scheduled.v1"


class JobPublished(JobPostingSnapshot):
    event_type: ClassVar[str] = "au.jobs.job.published.v1"


class JobUpdated(JobPostingSnapshot):
    event_type: ClassVar[str] = "au.jobs.job.updated.v1"


class JobClosed(JobPostingSnapshot):
    event_type: ClassVar[str] = "au.jobs.job.closed.v1"


class JobExpired(JobPostingSnapshot):
    event_type: ClassVar[str] = "au.jobs.job.expired.v1"


class JobExpiryReminder(EventPayload):
    """Sent once, a few days before an active posting expires (not a state change)."""

    event_type: ClassVar[str] = "au.jobs.job.expiry_reminder.v1"
    job_id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    expires_at: datetime


#: Job events that carry the full posting.
JOB_SNAPSHOT_EVENTS: tuple[type[JobPostingSnapshot], ...] = (
    JobSubmitted,
    JobRejected,
    JobScheduled,
    JobPublished,
    JobUpdated,
    JobClosed,
    JobExpired,
)


# ---------------------------------------------------------------- companies


class CompanySize(StrEnum):
    """Employee-count bands of a company profile."""

    tiny = "1-10"
    small = "11-50"
    medium = "51-200"
    large = "201-500"
    larger = "501-1000"
    very_large = "1001-5000"
    enterprise = "5000+"


class CompanyLocation(BaseModel):
    suburb: str
    state: str
    postcode: str
    latitude: float | None = None
    longitude: float | None = None


class CompanyUpdated(EventPayload):
    """The public profile of a company as of ``version`` (published on every change)."""

    event_type: ClassVar[str] = "au.jobs.company.updated.v1"
    company_id: uuid.UUID
    version: int
    name: str
    description: str | None = None
    website: str | None = None
    industry: str | None = None
    size: CompanySize | None = None
    locations: list[CompanyLocation] = Field(default_factory=list)
    culture: str | None = None
    benefits: list[str] = Field(default_factory=list)
    social_links: dict[str, str] = Field(default_factory=dict)
    abn: str | None = None
    verified: bool = False
    verification_status: str
    verified_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class CompanyMemberInvited(EventPayload):
    """An owner invited someone by email; the single-use token is the proof to accept."""

    event_type: ClassVar[str] = "au.jobs.company.member_invited.v1"
    company_id: uuid.UUID
    company_name: str
    email: str
    token: str
    expires_at: datetime


class CompanyVerified(EventPayload):
    event_type: ClassVar[str] = "au.jobs.company.verified.v1"
    company_id: uuid.UUID
    name: str
    verified_at: datetime
    owner_ids: list[uuid.UUID]


class CompanyMember(BaseModel):
    user_id: uuid.UUID
    role: Literal["owner", "recruiter"]


class CompanyMembersChanged(EventPayload):
    """Who works for a company, in full, after any change (created, invitation accepted,
    member removed). Services that authorise by company (applications: only the job's
    company sees its applicants) keep this list; ``changed_at`` orders the snapshots."""

    event_type: ClassVar[str] = "au.jobs.company.members_changed.v1"
    company_id: uuid.UUID
    members: list[CompanyMember]
    changed_at: datetime


class ReviewPublished(EventPayload):
    """A company review passed moderation; carries the company's new aggregate."""

    event_type: ClassVar[str] = "au.jobs.review.published.v1"
    review_id: uuid.UUID
    company_id: uuid.UUID
    overall: int
    published_at: datetime
    company_rating_average: float
    company_review_count: int


class ReviewUnpublished(EventPayload):
    """A published review left the site (its author withdrew it, or reports sent it back
    to moderation); carries the company's new aggregate."""

    event_type: ClassVar[str] = "au.jobs.review.unpublished.v1"
    review_id: uuid.UUID
    company_id: uuid.UUID
    reason: Literal["withdrawn", "reported"]
    unpublished_at: datetime
    company_rating_average: float
    company_review_count: int


# ---------------------------------------------------------------- applications


class ApplicationStatus(StrEnum):
    submitted = "submitted"
    reviewed = "reviewed"
    shortlisted = "shortlisted"
    interview = "interview"
    offer = "offer"
    hired = "hired"
    rejected = "rejected"
    withdrawn = "withdrawn"


class ApplicationSubmitted(EventPayload):
    event_type: ClassVar[str] = "au.jobs.application.submitted.v1"
    application_id: uuid.UUID
    job_id: uuid.UUID
    company_id: uuid.UUID | None = None
    applicant_id: uuid.UUID
    submitted_at: datetime
    job_title: str | None = None
    company_name: str | None = None
    resume_id: uuid.UUID | None = None
    resume_version_id: uuid.UUID | None = None


class ApplicationStatusChanged(EventPayload):
    event_type: ClassVar[str] = "au.jobs.application.status_changed.v1"
    application_id: uuid.UUID
    job_id: uuid.UUID
    company_id: uuid.UUID | None = None
    applicant_id: uuid.UUID
    previous_status: ApplicationStatus
    status: ApplicationStatus
    changed_by: uuid.UUID | None = None
    changed_at: datetime
    job_title: str | None = None
    company_name: str | None = None
    #: an optional message from the employer to the applicant (bulk and single changes);
    #: never set on a withdrawal (the applicant's reason stays with the company)
    message: str | None = None


# ---------------------------------------------------------------- resumes


class ResumeParsed(EventPayload):
    """A resume version was read (``status`` parsed) or could not be (``failed``). Carries
    what matching needs, never the contact details or the text."""

    event_type: ClassVar[str] = "au.jobs.resume.parsed.v1"
    resume_id: uuid.UUID
    version_id: uuid.UUID
    owner_id: uuid.UUID
    status: Literal["parsed", "failed"]
    skills: list[str] = Field(default_factory=list)
    job_titles: list[str] = Field(default_factory=list)
    #: whole years of experience across the entries with dates (overlaps counted once)
    experience_years: float | None = None
    parsed_at: datetime


# ---------------------------------------------------------------- notifications


class NotificationDelivered(EventPayload):
    """A notification reached its channel (for email: the SMTP server accepted it).
    Never carries the content: emails hold one-time links."""

    event_type: ClassVar[str] = "au.jobs.notification.delivered.v1"
    message_id: uuid.UUID
    kind: str  # e.g. verify_email, password_reset, email_verified, security_alert
    user_id: uuid.UUID | None = None
    channel: str = "email"  # email (push and in-app later)
    delivered_at: datetime


#: Every published event type and its payload schema (source of the AsyncAPI document).
EVENT_TYPES: dict[str, type[EventPayload]] = {
    m.event_type: m
    for m in (
        UserRegistered,
        UserEmailVerificationRequested,
        UserEmailVerified,
        UserPasswordResetRequested,
        UserSecurityAlert,
        *JOB_SNAPSHOT_EVENTS,
        JobExpiryReminder,
        CompanyUpdated,
        CompanyMemberInvited,
        CompanyVerified,
        CompanyMembersChanged,
        ReviewPublished,
        ReviewUnpublished,
        ApplicationSubmitted,
        ApplicationStatusChanged,
        ResumeParsed,
        NotificationDelivered,
    )
}


def asyncapi_document() -> dict[str, Any]:
    """An AsyncAPI 3.0 document listing every event type with its JSON schema."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event_type, model in sorted(EVENT_TYPES.items()):
        name = event_type.removeprefix("au.jobs.").replace(".", "_")
        messages[name] = {
            "name": event_type,
            "contentType": "application/cloudevents+json",
            "payload": model.model_json_schema(),
        }
        channels[name] = {
            "address": event_type,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Australia Jobs domain events", "version": "1.0.0"},
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "components": {"messages": messages},
    }
