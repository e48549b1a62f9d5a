"""Applications: sending one, who may see and change it, the status workflow, notes,
listings. Functions take the session of the caller's transaction and never commit;
events go to the outbox in that same transaction.

Visibility (DESIGN.md §4, object-level authorisation):

* the applicant sees their own application (never the company's private notes);
* the *hiring company* — the owners and recruiters of the job's company, as the
  ``company.members_changed`` events say (for a job without a company: its owner) —
  sees and manages the applications to its jobs, except their own applications: a
  member who applied to their company's job is only its applicant (it is left out of the
  job's list, and every employer action on it is 404 — ``not-found`` in bulk — as for an
  application of another company). The analytics count it as any other application:
  they are aggregates and show nothing of it the applicant does not see anyway;
* admins read everything and change nothing;
* everyone else gets ``404``, whether or not the thing exists. A caller without the
  employer or admin role gets ``403 forbidden`` from the employer endpoints before any
  lookup, which is also independent of whether the thing exists."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.blobs import BlobStore
from aujobs_common.db import idempotency_table
from aujobs_common.errors import FieldError, ProblemError
from aujobs_common.events import (
    ApplicationStatus,
    ApplicationStatusChanged,
    ApplicationSubmitted,
    QuestionKind,
)
from aujobs_common.outbox import enqueue
from aujobs_common.security import Principal
from aujobs_common.sydney import sydney_day

from .matching import match_score
from .models import Application, Attachment, CompanyMemberRow, JobView, StatusHistory
from .readmodels import held_skills, lock_resume_version
from .resumes_client import ResumeVersion
from .schemas import FREE_TEXT_MAX, ApplicationCreate
from .workflow import FINAL, Actor, allowed, furthest

log = logging.getLogger(__name__)

SOURCE = "/services/applications"

SUBMITTED = Counter(
    "aujobs_applications_submitted",
    "Applications sent (counted when the transaction commits)",
)
STATUS_CHANGES = Counter(
    "aujobs_application_status_changes",
    "Application status changes, by the status changed to",
    ["status"],
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    sa_event.listen(session.sync_session, "after_commit", lambda _s: callback(), once=True)


def not_found() -> ProblemError:
    return ProblemError(404, "No such application.", type_="application-not-found")


def job_not_found() -> ProblemError:
    return ProblemError(404, "No such job.", type_="job-not-found")


# ---------------------------------------------------------------- applying


def check_applicant(principal: Principal) -> None:
    if not principal.has_role("job_seeker"):
        raise ProblemError(
            403, "Only job seeker accounts can apply for jobs.", type_="job-seeker-role-required"
        )
    if not principal.email_verified:
        raise ProblemError(
            403, "Verify your email address before applying for jobs.", type_="email-not-verified"
        )


def check_job_open(job: JobView | None, now: datetime) -> JobView:
    """404 for a job this service has never heard of; 409 for one not taking applications."""
    if job is None:
        raise job_not_found()
    if job.status != "active":
        raise ProblemError(
            409, f"This job is {job.status}: it does not take applications.", type_="job-not-open"
        )
    if job.expires_at is not None and job.expires_at <= now:
        raise ProblemError(
            409, "This job has expired: it no longer takes applications.", type_="job-not-open"
        )
    if job.closing_date is not None and job.closing_date < sydney_day(now):
        raise ProblemError(
            409,
            f"Applications for this job closed on {job.closing_date.isoformat()}.",
            type_="job-not-open",
        )
    if job.application_method == "external":
        raise ProblemError(
            409,
            "This employer takes applications on their own site; follow the job's apply link.",
            type_="external-application",
        )
    return job


def validate_answers(questions: Sequence[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
    """The answers, checked against the job's screening questions (free text trimmed);
    a 422 with one error per offending answer otherwise."""
    errors: list[FieldError] = []
    by_id = {q["id"]: q for q in questions}
    clean: dict[str, Any] = {}

    def fail(qid: str, message: str, code: str) -> None:
        errors.append(FieldError(field=f"answers.{qid}", message=message, code=code))

    for qid in answers:
        if qid not in by_id:
            fail(qid, "no such question on this job", "unknown_question")
    for qid, question in by_id.items():
        kind = QuestionKind(question["kind"])
        options: list[str] = question.get("options") or []
        value = answers.get(qid)
        if value is None or (isinstance(value, str) and not value.strip()) or value == []:
            if question.get("required", True):
                fail(qid, "an answer is required", "missing")
            continue
        if kind is QuestionKind.yes_no:
            if not isinstance(value, bool):
                fail(qid, "answer true (yes) or false (no)", "bool_type")
                continue
        elif kind is QuestionKind.single_choice:
            if not isinstance(value, str) or value not in options:
                fail(qid, "choose one of the options", "invalid_option")
                continue
        elif kind is QuestionKind.multi_choice:
            if not isinstance(value, list) or not all(isinstance(v, str) and v in options for v in value):
                fail(qid, "choose from the options (a list)", "invalid_option")
                continue
            if len(set(value)) != len(value):
                fail(qid, "each option at most once", "duplicate_option")
                continue
        else:  # free text
            if not isinstance(value, str):
                fail(qid, "answer with text", "string_type")
                continue
            value = value.strip()
            if len(value) > FREE_TEXT_MAX:
                fail(qid, f"at most {FREE_TEXT_MAX} characters", "string_too_long")
                continue
        clean[qid] = value
    if errors:
        raise ProblemError(
            422,
            "Some answers to the screening questions are missing or not valid; see errors.",
            type_="validation-error",
            title="Validation failed",
            errors=errors,
        )
    return clean


async def _previous_applications(
    session: AsyncSession, job_id: uuid.UUID, applicant_id: uuid.UUID
) -> list[Application]:
    return list(
        (
            await session.scalars(
                sa.select(Application)
                .where(Application.job_id == job_id, Application.applicant_id == applicant_id)
                .order_by(Application.attempt)
            )
        ).all()
    )


def already_applied(application_id: uuid.UUID) -> ProblemError:
    return ProblemError(
        409,
        "You have already applied for this job.",
        type_="already-applied",
        extensions={"application_id": str(application_id)},
        headers={"Location": f"/api/v1/applications/{application_id}"},
    )


def next_attempt(previous: list[Application], *, allow_reapply_after_withdraw: bool) -> int:
    """1 for a first application; with re-application allowed, the next number when every
    earlier one was withdrawn; otherwise 409 already-applied (naming the latest)."""
    if not previous:
        return 1
    latest = previous[-1]
    if allow_reapply_after_withdraw and all(p.status == ApplicationStatus.withdrawn for p in previous):
        return latest.attempt + 1
    raise already_applied(latest.id)


async def precheck(
    *,
    session: AsyncSession,
    principal: Principal,
    data: ApplicationCreate,
    now: datetime,
    allow_reapply: bool,
) -> None:
    """The checks that need no resume: run before calling the resumes service so a
    refusal costs nothing (and they run again in the writing transaction)."""
    job = check_job_open(await session.get(JobView, data.job_id), now)
    validate_answers(job.screening_questions, data.answers)
    next_attempt(
        await _previous_applications(session, data.job_id, principal.user_id),
        allow_reapply_after_withdraw=allow_reapply,
    )


async def stored_idempotent_result(session: AsyncSession, principal: Principal, key: str | None) -> bool:
    """Whether a request with this Idempotency-Key already completed (then it is replayed,
    whatever has changed since)."""
    if not key:
        return False
    status = await session.scalar(
        sa.select(idempotency_table.c.status_code).where(
            idempotency_table.c.principal == str(principal.user_id), idempotency_table.c.key == key
        )
    )
    return status is not None


async def _resume_skills(
    session: AsyncSession, resume: ResumeVersion, *, applicant_id: uuid.UUID
) -> list[str] | None:
    """The skills the application starts with: the parse the resumes service returned,
    else the one held from a ``resume.parsed`` event (the parse may have finished after
    the fetch, its event handled before this application exists). The lock makes a parse
    being handled right now either visible here or see this application once committed."""
    if resume.parsed is not None:
        return list(resume.parsed.skills)
    await lock_resume_version(session, resume.id)
    return await held_skills(session, version_id=resume.id, owner_id=applicant_id)


async def submit(
    *,
    session: AsyncSession,
    principal: Principal,
    data: ApplicationCreate,
    resume: ResumeVersion,
    content: bytes,
    blobs: BlobStore,
    now: datetime,
    allow_reapply: bool,
) -> Application:
    """Create the application with its copy of the resume, its first history row and the
    ``application.submitted`` event. The unique key (job, applicant, attempt) settles
    concurrent duplicates: the loser gets 409 already-applied."""
    job = check_job_open(await session.get(JobView, data.job_id), now)
    answers = validate_answers(job.screening_questions, data.answers)
    attempt = next_attempt(
        await _previous_applications(session, job.job_id, principal.user_id),
        allow_reapply_after_withdraw=allow_reapply,
    )
    skills = await _resume_skills(session, resume, applicant_id=principal.user_id)
    stored = await blobs.put(session, content)
    application = Application(
        job_id=job.job_id,
        company_id=job.company_id,
        applicant_id=principal.user_id,
        attempt=attempt,
        status=ApplicationStatus.submitted.value,
        furthest_stage=ApplicationStatus.submitted.value,
        version=1,
        job_title=job.title,
        company_name=job.company_name,
        cover_letter=data.cover_letter.strip() or None if data.cover_letter else None,
        answers=answers,
        resume_id=resume.resume_id,
        resume_version_id=resume.id,
        resume_filename=resume.filename,
        resume_content_type=resume.content_type,
        resume_size_bytes=stored.size_bytes,
        resume_sha256=stored.sha256,
        resume_skills=list(skills) if skills is not None else None,
        match_score=match_score(job.skills, skills),
        submitted_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(application)
            await session.flush()
    except IntegrityError:
        previous = await _previous_applications(session, job.job_id, principal.user_id)
        if previous:
            raise already_applied(previous[-1].id) from None
        raise
    session.add(
        StatusHistory(
            application_id=application.id,
            from_status=None,
            to_status=ApplicationStatus.submitted.value,
            changed_by=principal.user_id,
            changed_at=now,
        )
    )
    payload = ApplicationSubmitted(
        application_id=application.id,
        job_id=job.job_id,
        company_id=job.company_id,
        applicant_id=principal.user_id,
        submitted_at=now,
        job_title=job.title,
        company_name=job.company_name,
        resume_id=resume.resume_id,
        resume_version_id=resume.id,
    )
    await enqueue(session, payload.to_event(source=SOURCE, subject=str(application.id)))
    _after_commit(session, SUBMITTED.inc)
    return application


# ---------------------------------------------------------------- access


class Access(StrEnum):
    applicant = "applicant"
    manager = "manager"  # a member of the hiring company
    reader = "reader"  # an admin


async def manages(
    session: AsyncSession, principal: Principal, *, company_id: uuid.UUID | None, job_id: uuid.UUID
) -> bool:
    """Whether the caller is one of the hiring company (for a job without a company, its owner)."""
    if not principal.has_role("employer"):
        return False
    if company_id is not None:
        found = await session.scalar(
            sa.select(CompanyMemberRow.user_id).where(
                CompanyMemberRow.company_id == company_id, CompanyMemberRow.user_id == principal.user_id
            )
        )
        return found is not None
    owner = await session.scalar(sa.select(JobView.owner_id).where(JobView.job_id == job_id))
    return owner == principal.user_id


async def load(
    session: AsyncSession, application_id: uuid.UUID, *, for_update: bool = False
) -> Application | None:
    query = sa.select(Application).where(Application.id == application_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def access_to(session: AsyncSession, principal: Principal, application: Application) -> Access | None:
    if application.applicant_id == principal.user_id:
        return Access.applicant
    if await manages(session, principal, company_id=application.company_id, job_id=application.job_id):
        return Access.manager
    if principal.is_admin:
        return Access.reader
    return None


async def get_visible(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    *,
    allowed_access: frozenset[Access],
    for_update: bool = False,
) -> tuple[Application, Access]:
    """The application and how the caller reaches it; 404 for anyone not in ``allowed_access``.
    An admin asking for a change gets 403 (they can see it anyway: nothing leaks)."""
    application = await load(session, application_id, for_update=for_update)
    if application is None:
        raise not_found()
    access = await access_to(session, principal, application)
    if access is None:
        raise not_found()
    if access not in allowed_access:
        if access is Access.reader:
            raise ProblemError(403, "Admins have read-only access to hiring pipelines.", type_="forbidden")
        raise not_found()
    return application, access


async def get_job_for_employer(
    session: AsyncSession, principal: Principal, job_id: uuid.UUID, *, write: bool = False
) -> JobView:
    """The job, for its hiring company (and, to read, admins); 404 for anyone else."""
    job = await session.get(JobView, job_id)
    if job is None:
        raise job_not_found()
    if await manages(session, principal, company_id=job.company_id, job_id=job.job_id):
        return job
    if principal.is_admin:
        if write:
            raise ProblemError(403, "Admins have read-only access to hiring pipelines.", type_="forbidden")
        return job
    raise job_not_found()


async def require_company_reader(session: AsyncSession, principal: Principal, company_id: uuid.UUID) -> None:
    if principal.is_admin:
        return
    if await manages(session, principal, company_id=company_id, job_id=uuid.UUID(int=0)):
        return
    raise ProblemError(404, "No such company.", type_="company-not-found")


# ---------------------------------------------------------------- status workflow


def parse_if_match(value: str | None) -> int | None:
    """The version an ``If-Match`` header names (``"3"``, ``W/"3"`` or ``3``); ``*`` and
    no header mean any version."""
    if value is None or value.strip() == "*":
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    try:
        return int(tag)
    except ValueError:
        raise ProblemError(
            400, "If-Match must be the ETag of the application (its version).", type_="invalid-if-match"
        ) from None


def etag(application: Application) -> str:
    return f'"{application.version}"'


def check_version(application: Application, expected: int | None) -> None:
    if expected is not None and expected != application.version:
        raise ProblemError(
            412,
            f"The application changed meanwhile (now version {application.version}); reload and retry.",
            type_="precondition-failed",
            headers={"ETag": etag(application)},
        )


def invalid_transition(current: str, target: str) -> ProblemError:
    return ProblemError(
        409,
        f"An application that is {current} cannot become {target}.",
        type_="invalid-transition",
    )


async def change_status(
    *,
    session: AsyncSession,
    application: Application,
    target: ApplicationStatus,
    actor: Actor,
    by: uuid.UUID,
    now: datetime,
    message: str | None = None,
    expected_version: int | None = None,
) -> None:
    """Apply one allowed transition to a locked application: history row, event, version."""
    check_version(application, expected_version)
    if not allowed(application.status, target.value, actor):
        raise invalid_transition(application.status, target.value)
    previous = application.status
    application.status = target.value
    application.furthest_stage = furthest(application.furthest_stage, target.value)
    application.version += 1
    application.updated_at = now
    if actor is Actor.employer and application.first_reviewed_at is None:
        # Time to first review: the company's first action, whatever it was.
        application.first_reviewed_at = now
    if target is ApplicationStatus.hired:
        application.hired_at = now
    if target in FINAL:
        application.closed_at = now
    message = message.strip() or None if message else None
    session.add(
        StatusHistory(
            application_id=application.id,
            from_status=previous,
            to_status=target.value,
            changed_by=by,
            changed_at=now,
            message=message,
        )
    )
    payload = ApplicationStatusChanged(
        application_id=application.id,
        job_id=application.job_id,
        company_id=application.company_id,
        applicant_id=application.applicant_id,
        previous_status=ApplicationStatus(previous),
        status=target,
        changed_by=by,
        changed_at=now,
        job_title=application.job_title,
        company_name=application.company_name,
        # Subscribers (notifications) send the employer's message to the applicant; the
        # applicant's withdrawal reason is for the company only and stays in the history.
        message=message if actor is Actor.employer else None,
    )
    await session.flush()
    await enqueue(session, payload.to_event(source=SOURCE, subject=str(application.id)))
    _after_commit(session, STATUS_CHANGES.labels(target.value).inc)


# ---------------------------------------------------------------- reading


async def history_of(
    session: AsyncSession, application_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[StatusHistory]]:
    out: dict[uuid.UUID, list[StatusHistory]] = {i: [] for i in application_ids}
    if not application_ids:
        return out
    rows = await session.scalars(
        sa.select(StatusHistory)
        .where(StatusHistory.application_id.in_(application_ids))
        .order_by(StatusHistory.changed_at, StatusHistory.id)
    )
    for row in rows:
        out[row.application_id].append(row)
    return out


async def attachments_of(
    session: AsyncSession, application_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Attachment]]:
    out: dict[uuid.UUID, list[Attachment]] = {i: [] for i in application_ids}
    if not application_ids:
        return out
    rows = await session.scalars(
        sa.select(Attachment)
        .where(Attachment.application_id.in_(application_ids))
        .order_by(Attachment.created_at, Attachment.id)
    )
    for row in rows:
        out[row.application_id].append(row)
    return out


SortKey = Literal["submitted_at", "match_score", "status"]
_STATUS_ORDER = {
    s: i
    for i, s in enumerate(
        ["submitted", "reviewed", "shortlisted", "interview", "offer", "hired", "rejected", "withdrawn"]
    )
}


def _sort_expression(sort: SortKey) -> sa.ColumnElement[Any]:
    if sort == "match_score":
        return sa.func.coalesce(Application.match_score, -1)
    if sort == "status":
        return sa.case(_STATUS_ORDER, value=Application.status, else_=99)
    return Application.submitted_at


def _cursor_value(application: Application, sort: SortKey) -> Any:
    if sort == "match_score":
        return application.match_score if application.match_score is not None else -1
    if sort == "status":
        return _STATUS_ORDER.get(application.status, 99)
    return application.submitted_at.isoformat()


def _bad_cursor() -> ProblemError:
    return ProblemError(
        400, "The cursor is not valid; use next_cursor from a previous page.", type_="invalid-cursor"
    )


def _cursor_position(cursor: dict[str, Any], *, sort: SortKey, descending: bool) -> tuple[uuid.UUID, Any]:
    """The (sort key, id) a cursor continues after, checked to be of the type and within
    the range :func:`next_cursor` writes: a cursor is client input, and a value the
    database cannot hold (a 10**20 score) must be a 400 here, not an error from the query."""
    if cursor.get("s") != sort or cursor.get("d") is not descending:
        raise _bad_cursor()
    raw_id, raw = cursor.get("id"), cursor.get("k")
    if not isinstance(raw_id, str):
        raise _bad_cursor()
    try:
        last_id = uuid.UUID(raw_id)
    except ValueError:
        raise _bad_cursor() from None
    if sort == "submitted_at":
        if not isinstance(raw, str):
            raise _bad_cursor()
        try:
            moment = datetime.fromisoformat(raw)
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError("no time zone")
            return last_id, moment.astimezone(UTC)
        except (ValueError, OverflowError):
            raise _bad_cursor() from None
    # bool is an int in Python; a real cursor never holds one.
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise _bad_cursor()
    low, high = (-1, 100) if sort == "match_score" else (0, 99)  # no score sorts as -1; else_=99
    if not low <= raw <= high:
        raise _bad_cursor()
    return last_id, raw


def keyset(
    query: sa.Select[Any],
    *,
    sort: SortKey,
    descending: bool,
    cursor: dict[str, Any] | None,
    limit: int,
) -> sa.Select[Any]:
    """Order by (sort key, id) in one direction and continue after the cursor's row:
    a stable order even when many rows share a score or a status."""
    expression = _sort_expression(sort)
    if cursor is not None:
        last_id, value = _cursor_position(cursor, sort=sort, descending=descending)
        after = sa.tuple_(expression, Application.id)
        bound = sa.tuple_(sa.literal(value, expression.type), sa.literal(last_id, Application.id.type))
        query = query.where(after < bound if descending else after > bound)
    if descending:
        query = query.order_by(expression.desc(), Application.id.desc())
    else:
        query = query.order_by(expression.asc(), Application.id.asc())
    return query.limit(limit + 1)


def next_cursor(rows: list[Application], *, sort: SortKey, descending: bool, limit: int) -> str | None:
    from aujobs_common.pagination import encode_cursor

    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor({"s": sort, "d": descending, "k": _cursor_value(last, sort), "id": str(last.id)})


_YES = {"yes", "true", "1", "y"}
_NO = {"no", "false", "0", "n"}


def answer_filters(job: JobView, filters: Sequence[tuple[str, str]]) -> list[sa.ColumnElement[bool]]:
    """``answer.<question_id>=<value>`` filters: yes/no questions take yes|no (or
    true|false), choice questions one of the options (a multi-choice answer matches when
    it includes it), free text a case-insensitive substring."""
    by_id = {q["id"]: q for q in job.screening_questions}
    errors: list[FieldError] = []
    clauses: list[sa.ColumnElement[bool]] = []
    for qid, raw in filters:
        field = f"query.answer.{qid}"
        question = by_id.get(qid)
        if question is None:
            errors.append(
                FieldError(field=field, message="no such question on this job", code="unknown_question")
            )
            continue
        kind = QuestionKind(question["kind"])
        value = raw.strip()
        if kind is QuestionKind.yes_no:
            if value.lower() not in _YES | _NO:
                errors.append(FieldError(field=field, message="yes or no", code="bool_parsing"))
                continue
            wanted = sa.func.to_jsonb(sa.literal(value.lower() in _YES, sa.Boolean))
            clauses.append(Application.answers[qid] == wanted)
        elif kind in (QuestionKind.single_choice, QuestionKind.multi_choice):
            if value not in (question.get("options") or []):
                errors.append(FieldError(field=field, message="one of the options", code="invalid_option"))
                continue
            if kind is QuestionKind.single_choice:
                clauses.append(Application.answers[qid].astext == value)
            else:
                clauses.append(Application.answers[qid].contains([value]))
        else:
            escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append(Application.answers[qid].astext.ilike(f"%{escaped}%", escape="\\"))
    if errors:
        raise ProblemError(
            422, "Some answer filters are not valid for this job.", type_="validation-error", errors=errors
        )
    return clauses
