"""Job-posting use cases: the fields, who may manage a posting, and its workflow.

    draft ──publish──▶ pending ──approve──▶ scheduled ──(publish_at)──▶ active ──close──▶ closed
      ▲                  │                      │                        │ ▲
      └──────reject──────┘◀──────withdraw───────┘              (expires_at) renew
                                                                          ▼ │
                                                                        expired

A draft goes to ``pending`` when its company is unverified or its content is flagged
(moderation.py); otherwise straight to ``scheduled`` (publish_at in the future) or
``active``. Active postings expire ``posting_lifetime_days`` after publishing (or at
the end of the closing date, if earlier) unless renewed.

Every state change bumps ``version`` and writes the full posting to the outbox in the
caller's transaction (DESIGN.md §3); functions never commit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.errors import FieldError, ProblemError, validation_problem
from aujobs_common.events import (
    ApplicationMethod,
    ApplicationMethodKind,
    JobClosed,
    JobExpired,
    JobExpiryReminder,
    JobLocation,
    JobPostingSnapshot,
    JobPublished,
    JobRejected,
    JobScheduled,
    JobStatus,
    JobSubmitted,
    JobUpdated,
    QuestionKind,
    SalaryPeriod,
    SalaryRange,
    ScreeningQuestion,
    SuperMode,
)
from aujobs_common.ids import uuid7
from aujobs_common.outbox import enqueue
from aujobs_common.pagination import PageParams, encode_cursor
from aujobs_common.reference import is_classification
from aujobs_common.security import Principal
from aujobs_common.skills import normalise_skills
from aujobs_common.sydney import end_of_day, sydney_day

from . import companies
from .locations import resolve_location
from .models import Company, CompanyMember, JobPosting, JobTemplate
from .moderation import content_flags
from .richtext import html_to_text, sanitise_html, visible_length
from .salary import annual_range, format_salary
from .schemas import (
    JobCreate,
    JobOut,
    JobUpdate,
    LocationOut,
    QuestionIn,
    SalaryIn,
    SalaryOut,
    SkillOut,
    TemplateOut,
)
from .structured_data import job_posting_json_ld

SOURCE = "/services/jobs"
#: Statuses anyone may see; drafts, pending and scheduled postings are the company's.
PUBLIC_STATUSES = frozenset({JobStatus.active.value, JobStatus.closed.value, JobStatus.expired.value})
#: Statuses whose fields may still change.
EDITABLE_STATUSES = frozenset(
    {JobStatus.draft.value, JobStatus.pending.value, JobStatus.scheduled.value, JobStatus.active.value}
)
MAX_SCHEDULE_AHEAD = timedelta(days=90)

WORK_RIGHTS_QUESTION = ScreeningQuestion(
    id="work_rights",
    kind=QuestionKind.single_choice,
    prompt="Which of the following statements best describes your right to work in Australia?",
    options=[
        "I'm an Australian citizen",
        "I'm a permanent resident or a New Zealand citizen",
        "I have a temporary visa with no restrictions on work",
        "I have a temporary visa with restrictions on work hours or industry",
        "I require sponsorship to work for a new employer",
    ],
    required=True,
    built_in="work_rights",
)


@dataclass(frozen=True)
class WorkflowPolicy:
    """The workflow's timings (JobsSettings)."""

    lifetime: timedelta = timedelta(days=30)
    reminder_before: timedelta = timedelta(days=3)


def utcnow() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- fields


def _invalid(field: str, message: str, detail: str, type_: str = "validation-error") -> ProblemError:
    return ProblemError(422, detail, type_=type_, errors=[FieldError(field=field, message=message)])


def _apply_description(job: JobPosting, raw: str) -> None:
    html = sanitise_html(raw)
    if visible_length(html) < 20:
        raise _invalid(
            "description",
            "at least 20 characters of text",
            "The description needs at least 20 characters of text once formatting is removed.",
        )
    job.description = html
    job.description_text = html_to_text(html)


def _apply_salary(job: JobPosting, salary: SalaryIn | None) -> None:
    if salary is None:
        job.salary_min_cents = job.salary_max_cents = job.salary_period = None
        job.salary_super_mode = job.salary_display_text = None
        job.salary_annual_min_cents = job.salary_annual_max_cents = None
        return
    job.salary_min_cents = salary.minimum_cents
    job.salary_max_cents = salary.maximum_cents
    job.salary_currency = salary.currency
    job.salary_period = salary.period.value
    job.salary_super_mode = salary.super_mode.value
    job.salary_display_text = salary.display_text
    job.salary_annual_min_cents, job.salary_annual_max_cents = annual_range(
        salary.minimum_cents, salary.maximum_cents, salary.period
    )


def _questions(custom: Iterable[QuestionIn], work_rights: bool) -> list[dict[str, Any]]:
    questions = [WORK_RIGHTS_QUESTION] if work_rights else []
    questions += [
        ScreeningQuestion(
            id=f"q{n}", kind=q.kind, prompt=q.prompt, options=q.options, required=q.required, built_in=None
        )
        for n, q in enumerate(custom, start=1)
    ]
    return [q.model_dump(mode="json") for q in questions]


def _custom_questions(job: JobPosting) -> list[QuestionIn]:
    return [
        QuestionIn(kind=q["kind"], prompt=q["prompt"], options=q["options"], required=q["required"])
        for q in job.screening_questions
        if not q.get("built_in")
    ]


def _has_work_rights(job: JobPosting) -> bool:
    return any(q.get("built_in") == "work_rights" for q in job.screening_questions)


def _apply_fields(job: JobPosting, data: JobCreate | JobUpdate) -> None:
    """Copies the fields ``data`` sets (every field for a new posting) onto ``job``,
    normalised."""
    sent = set(type(data).model_fields) if isinstance(data, JobCreate) else data.model_fields_set
    if "title" in sent and data.title is not None:
        job.title = data.title
    if "description" in sent and data.description is not None:
        _apply_description(job, data.description)
    if "location" in sent and data.location is not None:
        found = resolve_location(data.location)
        job.suburb, job.state, job.postcode = found.suburb, found.state, found.postcode
        job.latitude, job.longitude = found.latitude, found.longitude
    if "work_arrangement" in sent and data.work_arrangement is not None:
        job.work_arrangement = data.work_arrangement.value
    if "salary" in sent:
        _apply_salary(job, data.salary)
    if "work_type" in sent and data.work_type is not None:
        job.work_type = data.work_type.value
    if "classification" in sent and data.classification is not None:
        job.classification = data.classification
        if "sub_classification" not in sent:
            job.sub_classification = None
    if "sub_classification" in sent:
        job.sub_classification = data.sub_classification
    if not is_classification(job.classification, job.sub_classification):
        raise _invalid(
            "sub_classification",
            "not a sub-classification of the classification",
            "classification/sub_classification is not a known pair.",
            type_="unknown-classification",
        )
    if "skills" in sent and data.skills is not None:
        job.skills = [
            {"name": s.name, "category": s.category, "matched": s.matched}
            for s in normalise_skills(data.skills)
        ]
    if "benefits" in sent and data.benefits is not None:
        job.benefits = list(dict.fromkeys(data.benefits))
    if {"screening_questions", "include_work_rights_question"} & sent:
        custom = data.screening_questions if data.screening_questions is not None else _custom_questions(job)
        work_rights = (
            data.include_work_rights_question
            if data.include_work_rights_question is not None
            else _has_work_rights(job)
        )
        job.screening_questions = _questions(custom, work_rights)
    if "application_method" in sent and data.application_method is not None:
        job.application_method = data.application_method.kind.value
        job.application_url = str(data.application_method.url) if data.application_method.url else None
    if "closing_date" in sent:
        job.closing_date = data.closing_date


def job_fields(job: JobPosting) -> dict[str, Any]:
    """The posting as a JobCreate body without ``company_id`` (what templates keep)."""
    salary = None
    if job.salary_min_cents is not None:
        salary = {
            "minimum_cents": job.salary_min_cents,
            "maximum_cents": job.salary_max_cents,
            "currency": job.salary_currency,
            "period": job.salary_period,
            "super_mode": job.salary_super_mode or SuperMode.plus_super.value,
            "display_text": job.salary_display_text,
        }
    method: dict[str, Any] = {"kind": job.application_method}
    if job.application_url:
        method["url"] = job.application_url
    return {
        "title": job.title,
        "description": job.description,
        "location": {"suburb": job.suburb, "state": job.state, "postcode": job.postcode},
        "work_arrangement": job.work_arrangement,
        "salary": salary,
        "work_type": job.work_type,
        "classification": job.classification,
        "sub_classification": job.sub_classification,
        "skills": [s["name"] for s in job.skills],
        "benefits": list(job.benefits),
        "screening_questions": [q.model_dump(mode="json") for q in _custom_questions(job)],
        "include_work_rights_question": _has_work_rights(job),
        "application_method": method,
        "closing_date": job.closing_date.isoformat() if job.closing_date else None,
    }


# ---------------------------------------------------------------- presenting


def is_featured(job: JobPosting, now: datetime) -> bool:
    return bool(job.featured_from and job.featured_until and job.featured_from <= now < job.featured_until)


def _salary(job: JobPosting) -> SalaryRange | None:
    if job.salary_min_cents is None or job.salary_max_cents is None:
        return None
    return SalaryRange(
        minimum_cents=job.salary_min_cents,
        maximum_cents=job.salary_max_cents,
        period=SalaryPeriod(job.salary_period or "annual"),
        super_mode=SuperMode(job.salary_super_mode or "plus_super"),
        display_text=job.salary_display_text,
        annual_minimum_cents=job.salary_annual_min_cents,
        annual_maximum_cents=job.salary_annual_max_cents,
    )


def snapshot(
    job: JobPosting,
    company: Company | None,
    event: type[JobPostingSnapshot] = JobPostingSnapshot,
    *,
    now: datetime | None = None,
    **extra: Any,
) -> JobPostingSnapshot:
    now = now or utcnow()
    return event(
        job_id=job.id,
        version=job.version,
        owner_id=job.owner_id,
        company_id=job.company_id,
        company_name=company.name if company else job.company_name,
        company_verified=bool(company and company.verification_status == "verified"),
        title=job.title,
        description=job.description,
        description_text=job.description_text,
        location=JobLocation(
            suburb=job.suburb,
            state=job.state,
            postcode=job.postcode,
            latitude=job.latitude,
            longitude=job.longitude,
        ),
        work_arrangement=job.work_arrangement,
        salary=_salary(job),
        work_type=job.work_type,
        classification=job.classification,
        sub_classification=job.sub_classification,
        skills=[s["name"] for s in job.skills],
        benefits=list(job.benefits),
        screening_questions=[ScreeningQuestion.model_validate(q) for q in job.screening_questions],
        application_method=ApplicationMethod(
            kind=ApplicationMethodKind(job.application_method), url=job.application_url
        ),
        closing_date=job.closing_date,
        status=job.status,
        featured=is_featured(job, now),
        featured_from=job.featured_from,
        featured_until=job.featured_until,
        created_at=job.created_at,
        updated_at=job.updated_at,
        publish_at=job.publish_at,
        published_at=job.published_at,
        expires_at=job.expires_at,
        closed_at=job.closed_at,
        **extra,
    )


@dataclass(frozen=True)
class Presenter:
    """Turns postings into API responses; knows the public URLs for the JSON-LD."""

    frontend_url: str = "http://localhost:3000"
    api_url: str = "http://localhost:8000"

    def job_url(self, job_id: uuid.UUID) -> str:
        return f"{self.frontend_url.rstrip('/')}/jobs/{job_id}"

    def absolute(self, path: str | None) -> str | None:
        return f"{self.api_url.rstrip('/')}{path}" if path else None

    def out(
        self,
        job: JobPosting,
        company: Company | None,
        *,
        private: bool,
        logo: str | None = None,
        now: datetime | None = None,
    ) -> JobOut:
        """``private``: the viewer manages the posting (moderation details included)."""
        now = now or utcnow()
        snap = snapshot(job, company, now=now)
        salary = None
        if snap.salary is not None:
            s = snap.salary
            salary = SalaryOut(
                minimum_cents=s.minimum_cents,
                maximum_cents=s.maximum_cents,
                currency=s.currency,
                period=s.period,
                super_mode=s.super_mode,
                display_text=s.display_text,
                annual_minimum_cents=s.annual_minimum_cents or 0,
                annual_maximum_cents=s.annual_maximum_cents or 0,
                formatted=s.display_text
                or format_salary(s.minimum_cents, s.maximum_cents, s.period, s.super_mode),
            )
        structured = job_posting_json_ld(
            snap,
            company_url=company.website if company else None,
            company_logo=self.absolute(logo),
            job_url=self.job_url(job.id),
            now=now,
        )
        return JobOut(
            id=job.id,
            owner_id=job.owner_id,
            company_id=job.company_id,
            company_name=snap.company_name,
            company_verified=snap.company_verified,
            title=job.title,
            description=job.description,
            description_text=job.description_text or "",
            location=LocationOut(**snap.location.model_dump()),
            work_arrangement=snap.work_arrangement,
            salary=salary,
            work_type=snap.work_type,
            classification=job.classification,
            sub_classification=job.sub_classification,
            skills=[SkillOut(**s) for s in job.skills],
            benefits=snap.benefits,
            screening_questions=snap.screening_questions,
            application_method=snap.application_method,
            closing_date=job.closing_date,
            status=snap.status,
            featured=snap.featured,
            featured_from=job.featured_from,
            featured_until=job.featured_until,
            moderation_flags=list(job.moderation_flags) if private else [],
            moderation_reason=job.moderation_reason if private else None,
            version=job.version,
            created_at=job.created_at,
            updated_at=job.updated_at,
            publish_at=job.publish_at,
            published_at=job.published_at,
            expires_at=job.expires_at,
            closed_at=job.closed_at,
            structured_data=structured,
        )


async def companies_of(session: AsyncSession, jobs: Iterable[JobPosting]) -> dict[uuid.UUID, Company]:
    ids = {j.company_id for j in jobs if j.company_id is not None}
    if len(ids) == 1:  # one posting's page: usually loaded with it already (identity map)
        company = await session.get(Company, next(iter(ids)))
        return {company.id: company} if company else {}
    if not ids:
        return {}
    rows = await session.scalars(sa.select(Company).where(Company.id.in_(ids)))
    return {c.id: c for c in rows}


async def _emit(
    session: AsyncSession, job: JobPosting, event: type[JobPostingSnapshot], now: datetime, **extra: Any
) -> None:
    company = await session.get(Company, job.company_id) if job.company_id else None
    payload = snapshot(job, company, event, now=now, **extra)
    await enqueue(session, payload.to_event(source=SOURCE, subject=str(job.id)))


# ---------------------------------------------------------------- access


def _not_found() -> ProblemError:
    return ProblemError(404, "No such job.", type_="job-not-found")


async def manages(session: AsyncSession, job: JobPosting, principal: Principal | None) -> bool:
    """Admins, and the owners and recruiters of the posting's company (its creator
    when it has no company, as postings from before companies)."""
    if principal is None:
        return False
    if principal.is_admin:
        return True
    if job.company_id is None:
        return job.owner_id == principal.user_id
    if not principal.has_role("employer"):
        return False  # only employers join companies
    member = await companies.membership(session=session, company_id=job.company_id, user_id=principal.user_id)
    return member is not None


async def get_visible_job(
    *, session: AsyncSession, job_id: uuid.UUID, principal: Principal | None
) -> tuple[JobPosting, bool]:
    """The posting and whether the caller manages it. Active, closed and expired
    postings are public; the others only their company's and admins' (anyone else gets
    404, so their existence is not revealed)."""
    query = (
        sa.select(JobPosting, Company)
        .outerjoin(Company, Company.id == JobPosting.company_id)
        .where(JobPosting.id == job_id)
    )
    employer = principal is not None and principal.has_role("employer") and not principal.is_admin
    if employer:  # the caller's membership in the same round trip
        assert principal is not None
        query = query.add_columns(CompanyMember.role).outerjoin(
            CompanyMember,
            sa.and_(
                CompanyMember.company_id == JobPosting.company_id, CompanyMember.user_id == principal.user_id
            ),
        )
    row = (await session.execute(query)).first()
    if row is None:
        raise _not_found()
    job = row[0]  # its company is now in the session too
    if employer and job.company_id is not None:
        managed = row[2] is not None
    else:
        managed = await manages(session, job, principal)
    if job.status not in PUBLIC_STATUSES and not managed:
        raise _not_found()
    return job, managed


async def get_managed_job(
    *, session: AsyncSession, job_id: uuid.UUID, principal: Principal, admin_only: bool = False
) -> JobPosting:
    """The posting, locked for update, when ``principal`` may change it (with
    ``admin_only``, when the principal is an admin)."""
    job = await session.get(JobPosting, job_id, with_for_update=True)
    if job is None:
        raise _not_found()
    allowed = principal.is_admin if admin_only else await manages(session, job, principal)
    if not allowed:
        if job.status not in PUBLIC_STATUSES and not await manages(session, job, principal):
            raise _not_found()
        if admin_only:
            raise ProblemError(403, "Only an administrator may do this.", type_="forbidden")
        raise ProblemError(
            403, "Only the company's owners and recruiters may change this job.", type_="not-job-owner"
        )
    return job


def _transition_error(action: str, job: JobPosting, allowed: Iterable[str]) -> ProblemError:
    return ProblemError(
        409,
        f"Cannot {action} a job that is {job.status} (only {' or '.join(sorted(allowed))}).",
        type_="invalid-transition",
    )


def _touch(job: JobPosting, now: datetime) -> None:
    job.version += 1
    job.updated_at = now


# ---------------------------------------------------------------- create and edit


async def create_job(
    *, session: AsyncSession, principal: Principal, data: JobCreate, now: datetime | None = None
) -> JobPosting:
    now = now or utcnow()
    company = await session.get(Company, data.company_id)
    if company is None:
        raise _invalid("company_id", "no such company", "No such company.", type_="company-not-found")
    await companies.require_member(
        session=session, company_id=company.id, principal=principal, allow_admin=True
    )
    job = JobPosting(
        id=uuid7(),
        owner_id=principal.user_id,
        company_id=company.id,
        company_name=company.name,
        status=JobStatus.draft.value,
        version=1,
        created_at=now,
        updated_at=now,
        skills=[],
        benefits=[],
        screening_questions=[],
        moderation_flags=[],
        application_method=ApplicationMethodKind.on_platform.value,
    )
    _apply_fields(job, data)
    session.add(job)
    await session.flush()
    return job


async def update_job(
    *, session: AsyncSession, job: JobPosting, data: JobUpdate, now: datetime | None = None
) -> JobPosting:
    """Changes the fields sent. Editing an active posting re-runs the content checks:
    a newly flagged posting goes back to moderation (no bait-and-switch)."""
    now = now or utcnow()
    if job.status not in EDITABLE_STATUSES:
        raise ProblemError(409, f"A {job.status} job cannot be changed.", type_="job-not-editable")
    _apply_fields(job, data)
    _touch(job, now)
    if job.status in (JobStatus.active.value, JobStatus.scheduled.value):
        flags = _content_flags(job)
        if flags:
            job.moderation_flags = flags
            job.status = JobStatus.pending.value
            await _emit(session, job, JobSubmitted, now)
            return job
        await _emit(session, job, JobUpdated, now)
    return job


def _content_flags(job: JobPosting) -> list[str]:
    return content_flags(
        text=f"{job.title}\n{job.description_text or ''}",
        salary_min_cents=job.salary_min_cents,
        salary_period=job.salary_period,
        work_type=job.work_type,
        application_url=job.application_url,
    )


# ---------------------------------------------------------------- workflow


def _check_dates(job: JobPosting, publish_at: datetime | None, now: datetime) -> None:
    if publish_at is not None:
        if publish_at <= now:
            raise _invalid("publish_at", "must be in the future", "publish_at must be in the future.")
        if publish_at - now > MAX_SCHEDULE_AHEAD:
            raise _invalid(
                "publish_at", "at most 90 days ahead", "A job can be scheduled at most 90 days ahead."
            )
    starts = publish_at or now
    if job.closing_date is not None and job.closing_date < sydney_day(starts):
        raise _invalid(
            "closing_date",
            "must not be before the publishing day",
            "The closing date has passed; change it before publishing.",
            type_="closing-date-passed",
        )


async def publish_job(
    *,
    session: AsyncSession,
    job: JobPosting,
    publish_at: datetime | None = None,
    policy: WorkflowPolicy = WorkflowPolicy(),
    now: datetime | None = None,
) -> JobPosting:
    """Submits a draft: to moderation when its company is unverified or its content is
    flagged, else scheduled or live."""
    now = now or utcnow()
    if job.status != JobStatus.draft.value:
        raise _transition_error("publish", job, ["draft"])
    _check_dates(job, publish_at, now)
    company = await session.get(Company, job.company_id) if job.company_id else None
    flags = _content_flags(job)
    if company is None or company.verification_status != "verified":
        flags = ["company_unverified", *flags]
    job.publish_at = publish_at
    job.moderation_flags = flags
    job.moderation_reason = None
    _touch(job, now)
    if flags:
        job.status = JobStatus.pending.value
        await _emit(session, job, JobSubmitted, now)
    else:
        await _go_live(session, job, policy, now)
    return job


def _expiry(job: JobPosting, policy: WorkflowPolicy, now: datetime) -> datetime:
    expires = now + policy.lifetime
    if job.closing_date is not None:
        expires = min(expires, end_of_day(job.closing_date))
    return expires


async def _go_live(session: AsyncSession, job: JobPosting, policy: WorkflowPolicy, now: datetime) -> None:
    """Scheduled when publish_at is still ahead, else active from now."""
    if job.publish_at is not None and job.publish_at > now:
        job.status = JobStatus.scheduled.value
        await _emit(session, job, JobScheduled, now)
        return
    job.status = JobStatus.active.value
    job.published_at = now
    job.expires_at = _expiry(job, policy, now)
    job.expiry_reminded_at = None
    job.closed_at = None
    await _emit(session, job, JobPublished, now)


async def moderate_job(
    *,
    session: AsyncSession,
    job: JobPosting,
    approve: bool,
    reason: str | None,
    policy: WorkflowPolicy = WorkflowPolicy(),
    now: datetime | None = None,
) -> JobPosting:
    now = now or utcnow()
    reason = reason.strip() if reason else None
    if not approve and not reason:
        raise _invalid("reason", "required when approve is false", "A reason is required when rejecting.")
    if job.status != JobStatus.pending.value:
        raise _transition_error("moderate", job, ["pending"])
    job.moderation_reason = reason
    _touch(job, now)
    if approve:
        if job.publish_at is not None and job.publish_at <= now:
            job.publish_at = None  # the requested time passed while it waited
        await _go_live(session, job, policy, now)
    else:
        job.status = JobStatus.draft.value
        await _emit(session, job, JobRejected, now, reason=reason)
    return job


async def withdraw_job(*, session: AsyncSession, job: JobPosting, now: datetime | None = None) -> JobPosting:
    """Takes a pending or scheduled posting back to draft."""
    now = now or utcnow()
    allowed = (JobStatus.pending.value, JobStatus.scheduled.value)
    if job.status not in allowed:
        raise _transition_error("withdraw", job, allowed)
    job.status = JobStatus.draft.value
    job.publish_at = None
    _touch(job, now)
    await _emit(session, job, JobUpdated, now)
    return job


async def close_job(*, session: AsyncSession, job: JobPosting, now: datetime | None = None) -> JobPosting:
    now = now or utcnow()
    if job.status != JobStatus.active.value:
        raise _transition_error("close", job, ["active"])
    job.status = JobStatus.closed.value
    job.closed_at = now
    _touch(job, now)
    await _emit(session, job, JobClosed, now)
    return job


async def renew_job(
    *,
    session: AsyncSession,
    job: JobPosting,
    policy: WorkflowPolicy = WorkflowPolicy(),
    now: datetime | None = None,
) -> JobPosting:
    """Another full lifetime from now, for an active or expired posting."""
    now = now or utcnow()
    allowed = (JobStatus.active.value, JobStatus.expired.value)
    if job.status not in allowed:
        raise _transition_error("renew", job, allowed)
    if job.closing_date is not None and job.closing_date < sydney_day(now):
        raise ProblemError(
            409, "The closing date has passed; change it before renewing.", type_="closing-date-passed"
        )
    was_expired = job.status == JobStatus.expired.value
    job.status = JobStatus.active.value
    job.expires_at = _expiry(job, policy, now)
    job.expiry_reminded_at = None
    if was_expired:
        job.published_at = now
    _touch(job, now)
    await _emit(session, job, JobPublished if was_expired else JobUpdated, now)
    return job


async def set_featured(
    *,
    session: AsyncSession,
    job: JobPosting,
    featured_from: datetime | None,
    featured_until: datetime | None,
    now: datetime | None = None,
) -> JobPosting:
    """Sets (or, with ``None``, clears) the featured window; billing grants it later,
    admins now."""
    now = now or utcnow()
    if job.status not in EDITABLE_STATUSES:
        raise ProblemError(409, f"A {job.status} job cannot be featured.", type_="job-not-editable")
    job.featured_from, job.featured_until = featured_from, featured_until
    _touch(job, now)
    if job.status == JobStatus.active.value:
        await _emit(session, job, JobUpdated, now)
    return job


async def company_changed(
    *,
    session: AsyncSession,
    company: Company,
    policy: WorkflowPolicy = WorkflowPolicy(),
    now: datetime | None = None,
) -> None:
    """Carries a company's new name and badge into its postings; live ones are
    republished so every read model shows them. Once the company is verified, postings
    held only because it was not go ahead (verified companies publish without
    moderation)."""
    now = now or utcnow()
    verified = company.verification_status == "verified"
    jobs = await session.scalars(
        sa.select(JobPosting).where(JobPosting.company_id == company.id).with_for_update()
    )
    for job in jobs:
        if (
            verified
            and job.status == JobStatus.pending.value
            and job.moderation_flags == ["company_unverified"]
        ):
            job.company_name = company.name
            job.moderation_flags = []
            _touch(job, now)
            if job.publish_at is not None and job.publish_at <= now:
                job.publish_at = None
            await _go_live(session, job, policy, now)
            continue
        if job.company_name == company.name and job.status != JobStatus.active.value:
            continue
        job.company_name = company.name
        _touch(job, now)
        if job.status == JobStatus.active.value:
            await _emit(session, job, JobUpdated, now)


# ---------------------------------------------------------------- the clock's work


@dataclass
class DueWork:
    published: int = 0
    reminded: int = 0
    expired: int = 0


async def _due_ids(session: AsyncSession, where: sa.ColumnElement[bool], limit: int) -> list[uuid.UUID]:
    rows = await session.scalars(
        sa.select(JobPosting.id).where(where).limit(limit).with_for_update(skip_locked=True)
    )
    return list(rows)


async def run_due_batch(
    *, session: AsyncSession, policy: WorkflowPolicy, now: datetime, limit: int = 100
) -> DueWork:
    """One batch of the clock's work: scheduled postings whose time has come go live,
    owners of postings about to expire are told once, and postings past their expiry
    expire. Rows are locked with SKIP LOCKED so several replicas share the work."""
    done = DueWork()
    for job_id in await _due_ids(
        session,
        sa.and_(JobPosting.status == JobStatus.scheduled.value, JobPosting.publish_at <= now),
        limit,
    ):
        job = await session.get(JobPosting, job_id)
        assert job is not None
        _touch(job, now)
        await _go_live(session, job, policy, now)
        done.published += 1
    for job_id in await _due_ids(
        session,
        sa.and_(JobPosting.status == JobStatus.active.value, JobPosting.expires_at <= now),
        limit,
    ):
        job = await session.get(JobPosting, job_id)
        assert job is not None
        job.status = JobStatus.expired.value
        _touch(job, now)
        await _emit(session, job, JobExpired, now)
        done.expired += 1
    for job_id in await _due_ids(
        session,
        sa.and_(
            JobPosting.status == JobStatus.active.value,
            JobPosting.expiry_reminded_at.is_(None),
            JobPosting.expires_at <= now + policy.reminder_before,
            JobPosting.expires_at > now,
        ),
        limit,
    ):
        job = await session.get(JobPosting, job_id)
        assert job is not None and job.expires_at is not None
        job.expiry_reminded_at = now
        reminder = JobExpiryReminder(
            job_id=job.id, owner_id=job.owner_id, title=job.title, expires_at=job.expires_at
        )
        await enqueue(session, reminder.to_event(source=SOURCE, subject=str(job.id)))
        done.reminded += 1
    return done


# ---------------------------------------------------------------- lists


def _cursor(page: PageParams) -> tuple[datetime, uuid.UUID] | None:
    """The (timestamp, id) the page starts after."""
    if not page.cursor:
        return None
    try:
        return datetime.fromisoformat(page.cursor["t"]), uuid.UUID(page.cursor["id"])
    except (KeyError, ValueError, TypeError) as exc:
        raise ProblemError(400, "The cursor is not valid.", type_="invalid-cursor") from exc


def _keyset(
    query: sa.Select[Any], order_col: Any, page: PageParams, *, newest_first: bool = True
) -> sa.Select[Any]:
    after = _cursor(page)
    if after is not None:
        key, start = (
            sa.tuple_(order_col, JobPosting.id),
            sa.tuple_(sa.literal(after[0]), sa.literal(after[1])),
        )
        query = query.where(key < start if newest_first else key > start)
    if newest_first:
        return query.order_by(order_col.desc(), JobPosting.id.desc()).limit(page.limit + 1)
    return query.order_by(order_col, JobPosting.id).limit(page.limit + 1)


def _page(rows: list[JobPosting], page: PageParams, key: str) -> tuple[list[JobPosting], str | None]:
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    last = rows[-1]
    return rows, encode_cursor({"t": getattr(last, key).isoformat(), "id": str(last.id)})


async def list_jobs(
    *,
    session: AsyncSession,
    page: PageParams,
    manager: Principal | None = None,
    company_id: uuid.UUID | None = None,
    status: JobStatus | None = None,
) -> tuple[list[JobPosting], str | None]:
    """Active postings newest first (optionally one company's); or, with ``manager``,
    every posting of the companies they belong to (and their own), in any status.
    Keyset pagination on (timestamp, id) for a stable order."""
    if manager is not None:
        member_of = sa.select(CompanyMember.company_id).where(CompanyMember.user_id == manager.user_id)
        query = sa.select(JobPosting).where(
            sa.or_(JobPosting.company_id.in_(member_of), JobPosting.owner_id == manager.user_id)
        )
        if status is not None:
            query = query.where(JobPosting.status == status.value)
        key = "created_at"
    else:
        query = sa.select(JobPosting).where(JobPosting.status == JobStatus.active.value)
        key = "published_at"
    if company_id is not None:
        query = query.where(JobPosting.company_id == company_id)
    rows = list((await session.scalars(_keyset(query, getattr(JobPosting, key), page))).all())
    return _page(rows, page, key)


async def moderation_queue(*, session: AsyncSession, page: PageParams) -> tuple[list[JobPosting], str | None]:
    """Pending postings, oldest submission first."""
    query = sa.select(JobPosting).where(JobPosting.status == JobStatus.pending.value)
    query = _keyset(query, JobPosting.updated_at, page, newest_first=False)
    rows = list((await session.scalars(query)).all())
    return _page(rows, page, "updated_at")


async def company_job_counts(*, session: AsyncSession, company_id: uuid.UUID) -> tuple[int, int]:
    """(open jobs, jobs ever published) of a company."""
    row = (
        await session.execute(
            sa.select(
                sa.func.count().filter(JobPosting.status == JobStatus.active.value),
                sa.func.count().filter(JobPosting.published_at.is_not(None)),
            ).where(JobPosting.company_id == company_id)
        )
    ).one()
    return int(row[0]), int(row[1])


# ---------------------------------------------------------------- templates


def template_out(template: JobTemplate) -> TemplateOut:
    return TemplateOut(
        id=template.id,
        company_id=template.company_id,
        name=template.name,
        fields=template.fields,
        created_by=template.created_by,
        created_at=template.created_at,
        updated_at=template.updated_at,
    )


async def save_template(
    *, session: AsyncSession, job: JobPosting, name: str, principal: Principal, now: datetime | None = None
) -> JobTemplate:
    """Saves the posting's fields under ``name`` (replacing a template of that name)."""
    now = now or utcnow()
    if job.company_id is None:
        raise ProblemError(409, "Only a company's postings can become templates.", type_="no-company")
    name = name.strip()
    if not name:
        raise _invalid("name", "must not be blank", "A template needs a name.")
    existing = await session.scalar(
        sa.select(JobTemplate).where(JobTemplate.company_id == job.company_id, JobTemplate.name == name)
    )
    template = existing or JobTemplate(
        id=uuid7(), company_id=job.company_id, name=name, created_by=principal.user_id, created_at=now
    )
    template.fields = job_fields(job)
    template.updated_at = now
    session.add(template)
    await session.flush()
    return template


async def get_template(*, session: AsyncSession, template_id: uuid.UUID, principal: Principal) -> JobTemplate:
    template = await session.get(JobTemplate, template_id)
    if template is None:
        raise ProblemError(404, "No such template.", type_="template-not-found")
    member = await companies.membership(
        session=session, company_id=template.company_id, user_id=principal.user_id
    )
    if member is None and not principal.is_admin:
        raise ProblemError(404, "No such template.", type_="template-not-found")
    return template


async def list_templates(*, session: AsyncSession, company_id: uuid.UUID) -> list[JobTemplate]:
    rows = await session.scalars(
        sa.select(JobTemplate).where(JobTemplate.company_id == company_id).order_by(JobTemplate.name)
    )
    return list(rows)


def from_template(template: JobTemplate, overrides: dict[str, Any]) -> JobCreate:
    """The JobCreate body of a new draft: the template's fields, then ``overrides``; a
    422 when together they are not a valid posting."""
    try:
        return JobCreate.model_validate(
            {**template.fields, **overrides, "company_id": str(template.company_id)}
        )
    except ValidationError as exc:
        raise validation_problem(exc.errors()) from exc
