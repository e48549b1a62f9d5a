"""API models of the applications service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aujobs_common.events import ApplicationStatus

COVER_LETTER_MAX = 10_000
FREE_TEXT_MAX = 2_000
NOTE_MAX = 5_000
MESSAGE_MAX = 2_000
BULK_MAX = 200


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: uuid.UUID
    resume_id: uuid.UUID
    resume_version_id: uuid.UUID
    cover_letter: str | None = Field(default=None, max_length=COVER_LETTER_MAX)
    #: {question_id: value}: yes_no → bool, single_choice → one option, multi_choice → a
    #: list of options, free_text → text of at most 2,000 characters
    answers: dict[str, Any] = Field(default_factory=dict)


class ResumeOut(BaseModel):
    resume_id: uuid.UUID
    version_id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int
    sha256: str


class HistoryEntry(BaseModel):
    from_status: ApplicationStatus | None
    status: ApplicationStatus
    changed_at: datetime
    message: str | None = None
    #: who made the change (employer view only)
    changed_by: uuid.UUID | None = None


class AttachmentOut(BaseModel):
    id: uuid.UUID
    kind: Literal["cover_letter", "other"]
    filename: str
    content_type: str
    size_bytes: int
    created_at: datetime


class ApplicationSummary(BaseModel):
    """One line of the applicant's own list."""

    id: uuid.UUID
    job_id: uuid.UUID
    job_title: str
    company_name: str | None
    status: ApplicationStatus
    submitted_at: datetime
    updated_at: datetime
    #: [{status, changed_at}] oldest first
    history: list[HistoryEntry]


class ApplicationOut(BaseModel):
    """An application in full. The employer view adds the applicant id, who changed what,
    and the match score; private notes are never part of it (see /notes)."""

    id: uuid.UUID
    job_id: uuid.UUID
    company_id: uuid.UUID | None
    job_title: str
    company_name: str | None
    status: ApplicationStatus
    version: int
    cover_letter: str | None
    answers: dict[str, Any]
    resume: ResumeOut
    attachments: list[AttachmentOut]
    submitted_at: datetime
    updated_at: datetime
    history: list[HistoryEntry]
    applicant_id: uuid.UUID | None = None
    match_score: int | None = None
    first_reviewed_at: datetime | None = None
    hired_at: datetime | None = None


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: for the company only: kept in the status history, never carried by the event
    reason: str | None = Field(default=None, max_length=MESSAGE_MAX)
    expected_version: int | None = None


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ApplicationStatus
    #: shown to the applicant with the change (and carried by the event)
    message: str | None = Field(default=None, max_length=MESSAGE_MAX)
    #: the version the caller saw (same as If-Match): 412 when it changed meanwhile
    expected_version: int | None = None


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: int | None = None


class BulkStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_ids: list[uuid.UUID] = Field(min_length=1, max_length=BULK_MAX)
    status: ApplicationStatus
    message: str | None = Field(default=None, max_length=MESSAGE_MAX)


class BulkItemResult(BaseModel):
    application_id: uuid.UUID
    result: Literal["changed", "invalid-transition", "not-found"]
    status: ApplicationStatus | None = None


class BulkResult(BaseModel):
    results: list[BulkItemResult]
    changed: int


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=NOTE_MAX)


class NoteOut(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    author_id: uuid.UUID
    text: str
    created_at: datetime


class Durations(BaseModel):
    #: how many applications the figures are over
    count: int
    median: float | None
    average: float | None


class PipelineAnalytics(BaseModel):
    """Counts by current stage; the funnel (applications that ever reached each pipeline
    stage; a skipped stage counts as reached); conversion between consecutive funnel
    stages (null when none reached the earlier one); time to first review (hours, from
    submission to the company's first action) and time to hire (days, submission to hire)."""

    scope: Literal["job", "company"]
    job_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    total: int
    by_status: dict[str, int]
    funnel: dict[str, int]
    conversion: dict[str, float | None]
    withdrawn: int
    rejected: int
    time_to_first_review_hours: Durations
    time_to_hire_days: Durations
