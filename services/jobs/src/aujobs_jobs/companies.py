"""Company use cases: profiles, members and invitations, verification. Functions work
in the caller's session and never commit; every profile change bumps ``version`` and
writes ``au.jobs.company.updated.v1`` to the outbox in the same transaction."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.db import Database
from aujobs_common.errors import FieldError, ProblemError
from aujobs_common.events import (
    CompanyLocation,
    CompanyMemberInvited,
    CompanyMembersChanged,
    CompanyUpdated,
    CompanyVerified,
)
from aujobs_common.events import CompanyMember as MemberRef
from aujobs_common.ids import uuid7
from aujobs_common.outbox import enqueue
from aujobs_common.pagination import PageParams, cursor_uuid, encode_cursor
from aujobs_common.security import Principal

from .locations import resolve_location
from .models import Company, CompanyInvitation, CompanyMember

if TYPE_CHECKING:
    from .service import WorkflowPolicy
from .schemas import (
    CompanyCreate,
    CompanyOut,
    CompanyUpdate,
    InvitationOut,
    LocationIn,
    LocationOut,
    MemberOut,
    MemberRole,
)

SOURCE = "/services/jobs"
INVITATION_TTL = timedelta(days=7)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _resolve_locations(locations: list[LocationIn]) -> list[dict[str, object]]:
    resolved: list[dict[str, object]] = []
    for index, location in enumerate(locations):
        found = resolve_location(location, field=f"locations.{index}")
        resolved.append(
            {
                "suburb": found.suburb,
                "state": found.state,
                "postcode": found.postcode,
                "latitude": found.latitude,
                "longitude": found.longitude,
            }
        )
    return resolved


def to_out(company: Company) -> CompanyOut:
    return CompanyOut(
        id=company.id,
        name=company.name,
        description=company.description,
        website=company.website,
        industry=company.industry,
        size=company.size,
        locations=[LocationOut(**loc) for loc in company.locations or []],
        culture=company.culture,
        benefits=list(company.benefits or []),
        social_links=dict(company.social_links or {}),
        abn=company.abn,
        verified=company.verification_status == "verified",
        verification_status=company.verification_status,
        verified_at=company.verified_at,
        version=company.version,
        created_at=company.created_at,
        updated_at=company.updated_at,
    )


async def _emit_updated(session: AsyncSession, company: Company) -> None:
    out = to_out(company)
    payload = CompanyUpdated(
        company_id=company.id,
        **out.model_dump(exclude={"id", "locations", "logo", "rating"}),
        locations=[CompanyLocation(**loc.model_dump()) for loc in out.locations],
    )
    await enqueue(session, payload.to_event(source=SOURCE, subject=str(company.id)))


async def _emit_members(session: AsyncSession, company_id: uuid.UUID, now: datetime) -> None:
    """The company's whole membership after a change, for services that authorise by
    company (applications). Sent in the transaction that made the change."""
    members = (
        await session.scalars(
            sa.select(CompanyMember)
            .where(CompanyMember.company_id == company_id)
            .order_by(CompanyMember.user_id)
        )
    ).all()
    payload = CompanyMembersChanged(
        company_id=company_id,
        members=[MemberRef(user_id=m.user_id, role=m.role) for m in members],
        changed_at=now,
    )
    await enqueue(session, payload.to_event(source=SOURCE, subject=str(company_id)))


async def republish_memberships(db: Database, *, batch: int = 500) -> int:
    """Publish ``company.members_changed`` for every company, through the outbox (the
    running service's relay sends them). For a deployment that has companies from before
    the event existed, or a consumer rebuilding its read model; consumers keep the newest
    snapshot, so sending it again is harmless. Returns how many companies."""
    done = 0
    last: uuid.UUID | None = None
    while True:
        async with db.transaction() as session:
            query = sa.select(Company.id).order_by(Company.id).limit(batch)
            if last is not None:
                query = query.where(Company.id > last)
            ids = (await session.scalars(query)).all()
            now = datetime.now(UTC)
            for company_id in ids:
                await _emit_members(session, company_id, now)
        if not ids:
            return done
        done += len(ids)
        last = ids[-1]


def _touch(company: Company, now: datetime) -> None:
    company.version += 1
    company.updated_at = now


def _apply_profile(company: Company, sent: dict[str, object], data: CompanyCreate | CompanyUpdate) -> None:
    for name in ("name", "description", "industry", "culture", "abn"):
        if name in sent:
            setattr(company, name, getattr(data, name))
    if "website" in sent:
        company.website = str(data.website) if data.website is not None else None
    if "size" in sent:
        company.size = data.size.value if data.size is not None else None
    if "locations" in sent:
        company.locations = _resolve_locations(data.locations or [])
    if "benefits" in sent:
        company.benefits = list(data.benefits or [])
    if "social_links" in sent:
        company.social_links = {k.value: str(v) for k, v in (data.social_links or {}).items()}


async def create_company(
    *, session: AsyncSession, owner: Principal, data: CompanyCreate, now: datetime | None = None
) -> Company:
    now = now or datetime.now(UTC)
    company = Company(
        id=uuid7(),
        created_by=owner.user_id,
        verification_status="unverified",
        locations=[],
        benefits=[],
        social_links={},
        version=1,
        created_at=now,
        updated_at=now,
    )
    _apply_profile(company, dict.fromkeys(type(data).model_fields), data)
    session.add(company)
    await session.flush()
    session.add(CompanyMember(company_id=company.id, user_id=owner.user_id, role="owner", created_at=now))
    await session.flush()
    await _emit_updated(session, company)
    await _emit_members(session, company.id, now)
    return company


def _not_found() -> ProblemError:
    return ProblemError(404, "No such company.", type_="company-not-found")


async def get_company(*, session: AsyncSession, company_id: uuid.UUID, for_update: bool = False) -> Company:
    company = await session.get(Company, company_id, with_for_update=for_update)
    if company is None:
        raise _not_found()
    return company


async def membership(
    *, session: AsyncSession, company_id: uuid.UUID, user_id: uuid.UUID
) -> CompanyMember | None:
    return await session.get(CompanyMember, (company_id, user_id))


async def require_member(
    *,
    session: AsyncSession,
    company_id: uuid.UUID,
    principal: Principal,
    roles: tuple[str, ...] = ("owner", "recruiter"),
    allow_admin: bool = False,
) -> CompanyMember | None:
    """The caller's membership when it has one of ``roles``; admins pass when allowed
    (with ``None``); anyone else gets a 403 problem."""
    member = await membership(session=session, company_id=company_id, user_id=principal.user_id)
    if member is not None and member.role in roles:
        return member
    if allow_admin and principal.is_admin:
        return None
    who = " or ".join(roles)
    raise ProblemError(403, f"Only the company's {who} may do this.", type_="not-company-member")


async def update_company(
    *, session: AsyncSession, company: Company, data: CompanyUpdate, now: datetime | None = None
) -> Company:
    now = now or datetime.now(UTC)
    sent = data.model_dump(exclude_unset=True)
    if not sent:
        return company
    renamed = "name" in sent and sent["name"] != company.name
    _apply_profile(company, sent, data)
    _touch(company, now)
    await _emit_updated(session, company)
    if renamed:
        await _postings_follow(session, company, now)
    return company


async def _postings_follow(
    session: AsyncSession, company: Company, now: datetime, policy: WorkflowPolicy | None = None
) -> None:
    """The company's postings carry its name and badge; republish them."""
    from .service import WorkflowPolicy, company_changed  # the postings module builds on this one

    await company_changed(session=session, company=company, policy=policy or WorkflowPolicy(), now=now)


async def list_companies(*, session: AsyncSession, page: PageParams) -> tuple[list[Company], str | None]:
    """Every company, newest first (ids are time-ordered UUIDv7), keyset paginated."""
    query = sa.select(Company)
    after = cursor_uuid(page)
    if after is not None:
        query = query.where(Company.id < after)
    rows = list((await session.scalars(query.order_by(Company.id.desc()).limit(page.limit + 1))).all())
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        next_cursor = encode_cursor({"id": str(rows[-1].id)})
    return rows, next_cursor


def member_out(member: CompanyMember) -> MemberOut:
    return MemberOut(
        company_id=member.company_id,
        user_id=member.user_id,
        role=MemberRole(member.role),
        created_at=member.created_at,
    )


async def list_members(*, session: AsyncSession, company_id: uuid.UUID) -> list[CompanyMember]:
    query = (
        sa.select(CompanyMember)
        .where(CompanyMember.company_id == company_id)
        .order_by(CompanyMember.created_at, CompanyMember.user_id)
    )
    return list((await session.scalars(query)).all())


async def invite_member(
    *,
    session: AsyncSession,
    company: Company,
    inviter: Principal,
    email: str,
    now: datetime | None = None,
) -> InvitationOut:
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    invitation = CompanyInvitation(
        id=uuid7(),
        company_id=company.id,
        email=email.strip().lower(),
        role="recruiter",
        token_hash=_hash_token(token),
        invited_by=inviter.user_id,
        expires_at=now + INVITATION_TTL,
        created_at=now,
    )
    session.add(invitation)
    await session.flush()
    event = CompanyMemberInvited(
        company_id=company.id,
        company_name=company.name,
        email=invitation.email,
        token=token,
        expires_at=invitation.expires_at,
    )
    await enqueue(session, event.to_event(source=SOURCE, subject=str(company.id)))
    return InvitationOut(
        id=invitation.id,
        company_id=company.id,
        email=invitation.email,
        role=MemberRole.recruiter,
        expires_at=invitation.expires_at,
        token=token,
    )


async def accept_invitation(
    *, session: AsyncSession, token: str, principal: Principal, now: datetime | None = None
) -> CompanyMember:
    """The token is the proof: whoever signs in with it joins (the invited email need
    not match the account's). Used once; expired ones are gone (410)."""
    now = now or datetime.now(UTC)
    invitation = (
        await session.scalars(
            sa.select(CompanyInvitation)
            .where(CompanyInvitation.token_hash == _hash_token(token))
            .with_for_update()
        )
    ).first()
    if invitation is None:
        raise ProblemError(404, "No such invitation.", type_="invitation-not-found")
    if invitation.accepted_at is not None:
        raise ProblemError(400, "This invitation has already been used.", type_="invitation-used")
    if invitation.expires_at <= now:
        raise ProblemError(410, "This invitation has expired; ask for a new one.", type_="invitation-expired")
    invitation.accepted_at = now
    invitation.accepted_by = principal.user_id
    member = await membership(session=session, company_id=invitation.company_id, user_id=principal.user_id)
    if member is None:
        member = CompanyMember(
            company_id=invitation.company_id, user_id=principal.user_id, role=invitation.role, created_at=now
        )
        session.add(member)
        await session.flush()
        await _emit_members(session, invitation.company_id, now)
    return member


async def remove_member(*, session: AsyncSession, company: Company, user_id: uuid.UUID) -> None:
    members = {
        m.user_id: m
        for m in (
            await session.scalars(
                sa.select(CompanyMember).where(CompanyMember.company_id == company.id).with_for_update()
            )
        ).all()
    }
    member = members.get(user_id)
    if member is None:
        raise ProblemError(404, "This user is not a member of the company.", type_="member-not-found")
    owners = [m for m in members.values() if m.role == "owner"]
    if member.role == "owner" and len(owners) == 1:
        raise ProblemError(409, "The last owner of a company cannot be removed.", type_="last-owner")
    await session.delete(member)
    await session.flush()
    await _emit_members(session, company.id, datetime.now(UTC))


async def request_verification(
    *, session: AsyncSession, company: Company, now: datetime | None = None
) -> Company:
    now = now or datetime.now(UTC)
    if company.verification_status in ("pending", "verified"):
        raise ProblemError(
            409, f"Verification is already {company.verification_status}.", type_="invalid-transition"
        )
    company.verification_status = "pending"
    company.verification_reason = None
    _touch(company, now)
    await _emit_updated(session, company)
    return company


async def decide_verification(
    *,
    session: AsyncSession,
    company: Company,
    approve: bool,
    reason: str | None,
    policy: WorkflowPolicy | None = None,
    now: datetime | None = None,
) -> Company:
    now = now or datetime.now(UTC)
    reason = reason.strip() if reason else None
    if not approve and not reason:
        raise ProblemError(
            422,
            "A reason is required when rejecting a verification request.",
            type_="validation-error",
            errors=[FieldError(field="reason", message="required when approve is false")],
        )
    if company.verification_status != "pending":
        raise ProblemError(
            409,
            f"Only a pending request can be decided; this company is {company.verification_status}.",
            type_="invalid-transition",
        )
    company.verification_reason = reason
    if approve:
        company.verification_status = "verified"
        company.verified_at = now
    else:
        company.verification_status = "rejected"
        company.verified_at = None
    _touch(company, now)
    await _emit_updated(session, company)
    await _postings_follow(session, company, now, policy)
    if approve:
        owners = [
            m.user_id for m in await list_members(session=session, company_id=company.id) if m.role == "owner"
        ]
        event = CompanyVerified(company_id=company.id, name=company.name, verified_at=now, owner_ids=owners)
        await enqueue(session, event.to_event(source=SOURCE, subject=str(company.id)))
    return company
