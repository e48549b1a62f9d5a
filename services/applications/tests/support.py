"""Callers, read-model events and checks the applications tests share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aujobs_common.events import (
    ApplicationMethod,
    CompanyMember,
    CompanyMembersChanged,
    EventPayload,
    JobLocation,
    JobPublished,
    ScreeningQuestion,
)

# re-exported for the test modules
from aujobs_common.testing.callers import admin, employer, is_problem, seeker  # noqa: F401

JOBS = "/services/jobs"


async def deliver(client, *payloads: EventPayload, event_type_class: Any = None) -> None:
    """Publish events onto the service's bus as the other services would, and wait until
    handled (none may be dead-lettered)."""
    for payload in payloads:
        subject = str(getattr(payload, "job_id", None) or getattr(payload, "company_id", ""))
        await client.bus.publish(payload.to_event(source=JOBS, subject=subject))
    await client.bus.drain()
    assert await client.bus.dead_letters("applications") == []


QUESTIONS = [
    ScreeningQuestion(
        id="work_rights",
        kind="yes_no",
        prompt="Do you have the right to work in Australia?",
        built_in="work_rights",
    ),
    ScreeningQuestion(
        id="licence", kind="single_choice", prompt="Driver licence?", options=["car", "truck", "none"]
    ),
    ScreeningQuestion(
        id="tools",
        kind="multi_choice",
        prompt="Which tools?",
        options=["Excel", "Xero", "MYOB"],
        required=False,
    ),
    ScreeningQuestion(id="why", kind="free_text", prompt="Why us?", required=False),
]

GOOD_ANSWERS = {"work_rights": True, "licence": "car", "tools": ["Xero"], "why": "  Love the work.  "}


@dataclass
class Company:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    owner: uuid.UUID = field(default_factory=uuid.uuid4)
    recruiter: uuid.UUID = field(default_factory=uuid.uuid4)


def job_snapshot(company: Company | None, **overrides: Any) -> JobPublished:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "job_id": uuid.uuid4(),
        "version": 1,
        "owner_id": company.owner if company else uuid.uuid4(),
        "company_id": company.id if company else None,
        "company_name": "Acme Pty Ltd" if company else None,
        "title": "Bookkeeper",
        "description": "<p>Keep the books.</p>",
        "location": JobLocation(suburb="Parramatta", state="NSW", postcode="2150"),
        "work_type": "full_time",
        "classification": "Accounting",
        "skills": ["Xero", "MYOB", "Excel", "Payroll"],
        "screening_questions": QUESTIONS,
        "application_method": ApplicationMethod(),
        "status": "active",
        "created_at": now,
        "updated_at": now,
        "published_at": now,
        "expires_at": now + timedelta(days=30),
        "closing_date": None,
    }
    values.update(overrides)
    return JobPublished(**values)


def members(company: Company, *, changed_at: datetime | None = None, extra=()) -> CompanyMembersChanged:
    return CompanyMembersChanged(
        company_id=company.id,
        members=[
            CompanyMember(user_id=company.owner, role="owner"),
            CompanyMember(user_id=company.recruiter, role="recruiter"),
            *extra,
        ],
        changed_at=changed_at or datetime.now(UTC),
    )


async def open_job(client, company: Company | None = None, **overrides: Any) -> JobPublished:
    """A company with its members known and one active job of it."""
    company = company or Company()
    job = job_snapshot(company, **overrides)
    await deliver(client, members(company), job)
    return job


async def apply(
    client,
    job_id: uuid.UUID,
    user_id: uuid.UUID | None = None,
    *,
    answers: dict[str, Any] | None = None,
    skills: list[str] | None = None,
    headers: dict[str, str] | None = None,
    version=None,
    expect: int | None = 201,
    **body: Any,
):
    """Send an application (with a fresh resume version of the applicant's in the fake
    resumes service); returns the response, checked against ``expect``."""
    user_id = user_id or uuid.uuid4()
    version = version or client.resumes.add(user_id, skills=skills)
    payload = {
        "job_id": str(job_id),
        "resume_id": str(version.resume_id),
        "resume_version_id": str(version.version_id),
        "answers": GOOD_ANSWERS if answers is None else answers,
        **body,
    }
    response = await client.post(
        "/api/v1/applications", json=payload, headers=headers or seeker(client, user_id)
    )
    if expect is not None:
        assert response.status_code == expect, response.text
    return response


def today() -> date:
    return datetime.now(UTC).date()
