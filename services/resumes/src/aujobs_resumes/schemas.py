"""The resumes API's request and response bodies.

``VersionOut``/``VersionDetail`` are a contract with the applications service (it copies
the chosen version into an application with the applicant's own token): keep the field
names ``id, resume_id, number, filename, content_type, size_bytes, sha256, created_at,
parse_status, parsed``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from .document import ResumeDocument

TITLE_MAX = 200
TAGS_MAX = 10
TAG_MAX_CHARS = 30

ParseStatusName = Literal["pending", "parsing", "parsed", "failed"]


class VersionOut(BaseModel):
    id: uuid.UUID
    resume_id: uuid.UUID
    #: whose resume this is (an admin may read others'; a caller acting for the owner,
    #: like the applications service, checks it is the owner)
    owner_id: uuid.UUID
    number: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime
    parse_status: ParseStatusName
    #: why parsing failed, for a person (only when ``parse_status`` is failed)
    parse_error: str | None = None
    #: upload (a file sent) or builder (generated from structured data)
    origin: Literal["upload", "builder"]
    template: str | None = None


class VersionDetail(VersionOut):
    #: the structured resume read from the file (or the builder's input); null until parsed
    parsed: ResumeDocument | None = None
    parsed_at: datetime | None = None


class ResumeOut(BaseModel):
    id: uuid.UUID
    title: str
    tags: list[str]
    is_primary: bool
    source: Literal["upload", "builder"]
    template: str | None = None
    version_count: int
    latest_version: VersionOut | None = None
    created_at: datetime
    updated_at: datetime


class ResumeDetail(ResumeOut):
    #: every version, newest first
    versions: list[VersionOut]


class ResumeUpdate(BaseModel):
    title: str | None = Field(default=None, max_length=TITLE_MAX)
    #: replaced as a whole; trimmed, lower-cased, duplicates dropped; ≤ 10 tags of ≤ 30 characters
    tags: list[str] | None = Field(default=None, max_length=50)
    #: true makes this the user's one primary resume (the primary cannot be unset
    #: directly: make another resume primary instead)
    is_primary: bool | None = None


class TemplateOut(BaseModel):
    name: str
    description: str


class BuilderCreate(BaseModel):
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    template: str = Field(default="classic", max_length=50)
    tags: list[str] = Field(default_factory=list, max_length=50)
    document: ResumeDocument


class DocumentSave(BaseModel):
    """Edits saved as a new generated version (template: the resume's current one by default)."""

    document: ResumeDocument
    template: str | None = Field(default=None, max_length=50)


class JobIn(BaseModel):
    title: str | None = Field(default=None, max_length=200)
    skills: list[str] = Field(default_factory=list, max_length=100)
    description_text: str | None = Field(default=None, max_length=50_000)


class ReviewRequest(BaseModel):
    #: the version to review; the latest by default
    version_id: uuid.UUID | None = None
    #: a job this service knows (from the jobs service's events)
    job_id: uuid.UUID | None = None
    #: or a job described inline (not both)
    job: JobIn | None = None


class ShareCreate(BaseModel):
    expires_in_days: int | None = Field(default=None, ge=1, le=90)


class ShareOut(BaseModel):
    id: uuid.UUID
    resume_id: uuid.UUID
    version_id: uuid.UUID
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    access_count: int
    last_accessed_at: datetime | None = None
    #: live: neither revoked nor expired
    active: bool


class ShareCreated(ShareOut):
    #: the path that serves the file to anyone holding it (``?format=json`` for the data)
    url: str
    #: shown once: only its hash is kept
    token: str
