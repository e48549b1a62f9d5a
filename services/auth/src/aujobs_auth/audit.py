"""The security audit log: who did what to which account, from where.

Entries never contain passwords, tokens, codes or secrets; ``detail`` holds only
small, non-secret facts (the method of a sign-in, a session id, a key id)."""

# ruff: noqa: S105 - AuditKind values name events about passwords; they are not passwords
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.ids import uuid7
from aujobs_common.pagination import Page, PageParams, cursor_uuid, encode_cursor

from .models import AuditEvent
from .schemas import AuditEventOut


class AuditKind(StrEnum):
    user_registered = "user_registered"
    login_succeeded = "login_succeeded"
    login_failed = "login_failed"
    login_throttled = "login_throttled"
    two_factor_required = "two_factor_required"
    two_factor_failed = "two_factor_failed"
    recovery_code_used = "recovery_code_used"
    logout = "logout"
    refresh_token_reused = "refresh_token_reused"
    session_revoked = "session_revoked"
    all_sessions_revoked = "all_sessions_revoked"
    two_factor_setup_started = "two_factor_setup_started"
    two_factor_enabled = "two_factor_enabled"
    two_factor_disabled = "two_factor_disabled"
    recovery_codes_regenerated = "recovery_codes_regenerated"
    password_changed = "password_changed"
    password_reset_requested = "password_reset_requested"
    password_reset_completed = "password_reset_completed"
    email_verification_sent = "email_verification_sent"
    email_verified = "email_verified"
    signing_key_rotated = "signing_key_rotated"
    role_changed = "role_changed"
    provider_linked = "provider_linked"
    provider_unlinked = "provider_unlinked"
    oauth_failed = "oauth_failed"


@dataclass(frozen=True)
class Client:
    """Where a request came from (for the audit log and sessions)."""

    ip: str | None = None
    user_agent: str | None = None


SYSTEM = Client()


async def record(
    session: AsyncSession,
    kind: AuditKind,
    *,
    client: Client = SYSTEM,
    user_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditEvent(
            id=uuid7(),
            kind=kind.value,
            user_id=user_id,
            actor_id=actor_id,
            ip_address=client.ip,
            user_agent=(client.user_agent or "")[:500] or None,
            detail={k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in detail.items()},
        )
    )


async def query(
    session: AsyncSession,
    *,
    page: PageParams,
    user_id: uuid.UUID | None = None,
    kinds: list[AuditKind] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[AuditEventOut]:
    """Newest first; ids are time-ordered (UUIDv7), so the id alone is a stable cursor."""
    stmt = sa.select(AuditEvent)
    if user_id is not None:
        stmt = stmt.where(sa.or_(AuditEvent.user_id == user_id, AuditEvent.actor_id == user_id))
    if kinds:
        stmt = stmt.where(AuditEvent.kind.in_([k.value for k in kinds]))
    if since is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.occurred_at < until)
    after = cursor_uuid(page)
    if after is not None:
        stmt = stmt.where(AuditEvent.id < after)
    rows = (await session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(page.limit + 1))).all()
    items = [AuditEventOut.model_validate(r) for r in rows[: page.limit]]
    next_cursor = encode_cursor({"id": str(rows[page.limit - 1].id)}) if len(rows) > page.limit else None
    return Page[AuditEventOut](items=items, next_cursor=next_cursor)
