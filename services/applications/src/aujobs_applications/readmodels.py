"""Local read models built from other services' events (DESIGN.md §1: this service never
reads another service's database): the jobs it takes applications for, who works for
which company, and resume skills for match scores.

Every handler runs inside the inbox transaction (``aujobs_common.inbox``), so a
redelivered event has no second effect; out-of-order delivery is handled by keeping only
the newest snapshot (job ``version``, members ``changed_at``, resume ``parsed_at``)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.app import Subscription
from aujobs_common.events import (
    JOB_SNAPSHOT_EVENTS,
    CloudEvent,
    CompanyMembersChanged,
    JobPostingSnapshot,
    ResumeParsed,
)

from .matching import match_score
from .models import Application, CompanyMemberRow, CompanyMemberSet, JobView, ResumeSkills


async def handle_job_snapshot(session: AsyncSession, event: CloudEvent) -> None:
    job = JobPostingSnapshot.model_validate(event.data)
    values = {
        "job_id": job.job_id,
        "version": job.version,
        "owner_id": job.owner_id,
        "company_id": job.company_id,
        "company_name": job.company_name,
        "title": job.title,
        "status": job.status.value,
        "screening_questions": [q.model_dump(mode="json") for q in job.screening_questions],
        "skills": list(job.skills),
        "closing_date": job.closing_date,
        "expires_at": job.expires_at,
        "application_method": job.application_method.kind.value,
        "updated_at": job.updated_at,
    }
    table = JobView.__table__
    statement = insert(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["job_id"],
        set_={k: statement.excluded[k] for k in values if k != "job_id"},
        where=table.c.version < statement.excluded.version,
    )
    await session.execute(statement)


async def handle_members_changed(session: AsyncSession, event: CloudEvent) -> None:
    change = CompanyMembersChanged.model_validate(event.data)
    table = CompanyMemberSet.__table__
    statement = insert(table).values(company_id=change.company_id, changed_at=change.changed_at)
    statement = statement.on_conflict_do_update(
        index_elements=["company_id"],
        set_={"changed_at": statement.excluded.changed_at},
        where=table.c.changed_at < statement.excluded.changed_at,
    ).returning(table.c.company_id)
    if (await session.execute(statement)).first() is None:
        return  # an older (or the same) snapshot than the one held
    await session.execute(sa.delete(CompanyMemberRow).where(CompanyMemberRow.company_id == change.company_id))
    rows = {m.user_id: m.role for m in change.members}
    if rows:
        await session.execute(
            insert(CompanyMemberRow.__table__),
            [{"company_id": change.company_id, "user_id": uid, "role": role} for uid, role in rows.items()],
        )


async def lock_resume_version(session: AsyncSession, version_id: uuid.UUID) -> None:
    """Serialise the ``resume.parsed`` handler and an application being sent with the same
    resume version (a transaction-scoped advisory lock). Without it each could miss the
    other under READ COMMITTED: the handler finds no application yet, and the submit finds
    no held skills yet, both commit, and the application keeps no skills for ever."""
    key = sa.func.hashtextextended(f"applications.resume-version:{version_id}", 0)
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


async def held_skills(
    session: AsyncSession, *, version_id: uuid.UUID, owner_id: uuid.UUID
) -> list[str] | None:
    """The newest parsed skills held for this version of this owner's resume, if any.
    Call after :func:`lock_resume_version` so a parse being handled is waited for."""
    skills = await session.scalar(
        sa.select(ResumeSkills.skills).where(
            ResumeSkills.version_id == version_id, ResumeSkills.owner_id == owner_id
        )
    )
    return list(skills) if skills is not None else None


async def handle_resume_parsed(session: AsyncSession, event: CloudEvent) -> None:
    """Hold the version's skills (newest ``parsed_at`` wins; a failed parse keeps what was
    held), and applications sent with this version that had no skills yet take them, with
    their match score (re)computed against the job's skills. An application being sent
    with the version right now finds the held skills at submit (see
    :func:`lock_resume_version`)."""
    parsed = ResumeParsed.model_validate(event.data)
    if parsed.status != "parsed":
        return
    await lock_resume_version(session, parsed.version_id)
    table = ResumeSkills.__table__
    values = {
        "version_id": parsed.version_id,
        "owner_id": parsed.owner_id,
        "skills": list(parsed.skills),
        "parsed_at": parsed.parsed_at,
    }
    statement = insert(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["version_id"],
        set_={k: statement.excluded[k] for k in values if k != "version_id"},
        where=table.c.parsed_at < statement.excluded.parsed_at,
    )
    await session.execute(statement)
    rows = (
        await session.execute(
            sa.select(Application, JobView.skills)
            .outerjoin(JobView, JobView.job_id == Application.job_id)
            .where(
                Application.resume_version_id == parsed.version_id,
                Application.applicant_id == parsed.owner_id,
                Application.resume_skills.is_(None),
            )
            .with_for_update(of=Application)
        )
    ).all()
    for application, job_skills in rows:
        application.resume_skills = list(parsed.skills)
        application.match_score = match_score(job_skills or [], parsed.skills)


SUBSCRIPTIONS: list[Subscription] = [
    Subscription(
        patterns=[m.event_type for m in JOB_SNAPSHOT_EVENTS],
        handler=handle_job_snapshot,
        name="applications.jobs",
    ),
    Subscription(
        patterns=[CompanyMembersChanged.event_type],
        handler=handle_members_changed,
        name="applications.companies",
    ),
    Subscription(
        patterns=[ResumeParsed.event_type],
        handler=handle_resume_parsed,
        name="applications.resumes",
    ),
]
