"""The structured resume: what parsing produces, what the builder takes, what export
renders and what review scores. One shape for all four, so a parsed upload can be
edited in the builder and exported like one written there."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Contact(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    location: str | None = Field(default=None, max_length=200)
    #: profile and portfolio links (LinkedIn, GitHub, personal site), as written
    links: list[str] = Field(default_factory=list, max_length=10)


class ExperienceEntry(BaseModel):
    title: str | None = Field(default=None, max_length=200)
    employer: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=200)
    #: "YYYY-MM" (or "YYYY"); ``end`` is None while ``current``
    start: str | None = Field(default=None, max_length=10)
    end: str | None = Field(default=None, max_length=10)
    current: bool = False
    highlights: list[str] = Field(default_factory=list, max_length=30)


class EducationEntry(BaseModel):
    institution: str | None = Field(default=None, max_length=200)
    degree: str | None = Field(default=None, max_length=200)
    area: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=200)
    start: str | None = Field(default=None, max_length=10)
    end: str | None = Field(default=None, max_length=10)
    highlights: list[str] = Field(default_factory=list, max_length=20)


class ResumeDocument(BaseModel):
    contact: Contact = Field(default_factory=Contact)
    summary: str | None = Field(default=None, max_length=5000)
    experience: list[ExperienceEntry] = Field(default_factory=list, max_length=50)
    education: list[EducationEntry] = Field(default_factory=list, max_length=20)
    #: canonical skill names (O*NET catalogue spelling where known)
    skills: list[str] = Field(default_factory=list, max_length=200)
    certifications: list[str] = Field(default_factory=list, max_length=50)


class ParsedResume(BaseModel):
    """A parse of an uploaded file: the structured document plus what was read."""

    document: ResumeDocument
    #: the full text as extracted (reading order), for review and search
    text: str
    #: the raw text of each section found, by canonical name: contact, summary,
    #: experience, education, skills, certifications, other headings as written
    sections: dict[str, str] = Field(default_factory=dict)
    pages: int = 0
